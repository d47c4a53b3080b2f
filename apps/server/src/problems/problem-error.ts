/**
 * RFC 9457 problem details. Every non-2xx answer of the API is one of these:
 * `type` is `/problems/<slug>`, one row per slug in CATALOG.
 */

export const CATALOG = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'policy-invalid': { status: 422, title: 'The routing configuration is not valid' },
  'unacknowledged-findings': {
    status: 422,
    title: 'The configuration has critical findings that were not acknowledged',
  },
  'postfix-unsupported': {
    status: 422,
    title: 'Postfix cannot express this configuration version',
  },
  'source-not-loopback': {
    status: 422,
    title: 'The relay test needs a loopback source address',
  },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  'login-failed': { status: 401, title: 'Wrong user name or password' },
  forbidden: { status: 403, title: 'Not allowed' },
  'csrf-token-missing': { status: 403, title: 'The CSRF token is missing or wrong' },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  'precondition-failed': { status: 412, title: 'The configuration was changed by someone else' },
  'precondition-required': { status: 428, title: 'If-Match is required' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  'bad-request': { status: 400, title: 'Bad request' },
  'misdirected-request': { status: 421, title: 'This console does not answer to that name' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'node-failed': { status: 502, title: 'The SMTP node could not do it' },
  'node-offline': { status: 503, title: 'The SMTP node is offline' },
  'node-busy': { status: 503, title: 'The SMTP node has too many requests waiting' },
  'node-timeout': { status: 504, title: 'The SMTP node did not answer in time' },
} as const;

export type ProblemSlug = keyof typeof CATALOG;

export interface FieldError {
  pointer: string;
  detail: string;
}

export class ProblemError extends Error {
  readonly slug: ProblemSlug;
  readonly status: number;
  readonly extensions: Record<string, unknown>;

  constructor(slug: ProblemSlug, detail?: string, extensions: Record<string, unknown> = {}) {
    super(detail ?? CATALOG[slug].title);
    this.name = 'ProblemError';
    this.slug = slug;
    this.status = CATALOG[slug].status;
    this.extensions = extensions;
  }
}

export function problemBody(
  slug: ProblemSlug,
  detail: string,
  instance: string,
  requestId: string,
  extensions: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: `/problems/${slug}`,
    title: CATALOG[slug].title,
    status: CATALOG[slug].status,
    detail,
    instance,
    requestId,
    ...extensions,
  };
}
