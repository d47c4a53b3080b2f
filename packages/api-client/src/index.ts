/**
 * @ims/api-client: a typed fetch client for the console API. Every request and
 * answer is typed by the api-contract schemas; any non-2xx answer throws an
 * `ApiProblem` carrying the RFC 9457 body, and a request that never got an
 * answer (refused, reset, timed out) throws an `ApiNetworkError`.
 */

import type {
  AdviceSchema,
  AuditPageSchema,
  AuditQuerySchema,
  DiffQuerySchema,
  DiffSchema,
  EvaluateBody,
  EvaluateResultSchema,
  HealthSchema,
  Mailbox,
  MailboxCreateBody,
  MailboxList,
  MailboxUpdateBody,
  NodeCreatedSchema,
  NodeListSchema,
  Problem,
  RelayTestBody,
  RelayTestResult,
  RestartResultSchema,
  RestoreBody,
  RoutingPutBody,
  RoutingState,
  ServiceSchema,
  Session,
  TokenCreatedSchema,
  TokenListSchema,
  TokenScope,
  VersionListSchema,
  VersionSchema,
} from '@ims/api-contract';
import type { Static } from 'typebox';

export type Advice = Static<typeof AdviceSchema>;
export type AuditPage = Static<typeof AuditPageSchema>;
export type AuditQuery = Static<typeof AuditQuerySchema>;
export type Diff = Static<typeof DiffSchema>;
export type DiffQuery = Static<typeof DiffQuerySchema>;
export type EvaluateResult = Static<typeof EvaluateResultSchema>;
export type Health = Static<typeof HealthSchema>;
export type NodeCreated = Static<typeof NodeCreatedSchema>;
export type NodeList = Static<typeof NodeListSchema>;
export type NodeView = NodeList['nodes'][number];
export type RestartResult = Static<typeof RestartResultSchema>;
export type Service = Static<typeof ServiceSchema>;
export type TokenCreated = Static<typeof TokenCreatedSchema>;
export type TokenList = Static<typeof TokenListSchema>;
export type VersionList = Static<typeof VersionListSchema>;
export type Version = Static<typeof VersionSchema>;
export type { Mailbox, MailboxList, Problem, RelayTestResult, RestoreBody, RoutingState, Session };

/** A problem body with its extensions (`currentVersion`, `savedBy`, `findings`, …). */
export type ProblemBody = Problem & { [extension: string]: unknown };

/** An RFC 9457 problem answer (any non-2xx status), as an error. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: { pointer: string; detail: string }[];
  /** The whole problem body, extensions included (`currentVersion`, `findings`, …). */
  readonly body: ProblemBody;

  constructor(body: ProblemBody) {
    super(body.detail ? `${body.title}: ${body.detail}` : body.title);
    this.name = 'ApiProblem';
    this.status = body.status;
    this.type = body.type;
    this.title = body.title;
    this.detail = body.detail;
    this.errors = body.errors ?? [];
    this.body = body;
  }
}

/** No answer at all: the console is unreachable, or did not answer in time. */
export class ApiNetworkError extends Error {
  readonly timedOut: boolean;
  constructor(message: string, timedOut: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiNetworkError';
    this.timedOut = timedOut;
  }
}

export interface ApiClientOptions {
  /** The console, e.g. `http://127.0.0.1:8080` (a trailing slash is fine). */
  baseUrl: string;
  /** An API token (`ims_…`), sent as `Authorization: Bearer`. */
  token?: string | undefined;
  /** A session cookie (`ims_session=…`) and its CSRF token, instead of a token. */
  cookie?: string | undefined;
  csrfToken?: string | undefined;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number | undefined;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch | undefined;
}

/** A routing state with the ETag to send back as If-Match. */
export interface Tagged<T> {
  data: T;
  etag: string;
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  headers?: Record<string, string>;
  timeoutMs?: number | undefined;
}

interface Answer<T> {
  data: T;
  headers: Headers;
  status: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Turns any non-2xx answer into an ApiProblem, with a synthesized body when the server sent none. */
async function problemOf(res: Response): Promise<ApiProblem> {
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (
    parsed &&
    typeof parsed === 'object' &&
    typeof (parsed as Problem).title === 'string' &&
    typeof (parsed as Problem).type === 'string'
  ) {
    const body = parsed as ProblemBody;
    return new ApiProblem({
      ...body,
      status: typeof body.status === 'number' ? body.status : res.status,
    });
  }
  return new ApiProblem({
    type: 'about:blank',
    title: res.statusText || `HTTP ${res.status}`,
    status: res.status,
    ...(text ? { detail: text.slice(0, 500) } : {}),
  });
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function request<T>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<Answer<T>> {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    else if (options.cookie) {
      headers.cookie = options.cookie;
      if (options.csrfToken && method !== 'GET') headers['x-csrf-token'] = options.csrfToken;
    }
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, opts.headers);
    const timeoutMs = opts.timeoutMs ?? defaultTimeout;
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        signal,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
    } catch (err) {
      const timedOut = signal.aborted;
      const cause = (
        err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }
      ).cause;
      const reason =
        cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message;
      throw new ApiNetworkError(
        timedOut
          ? `No answer from ${base} within ${timeoutMs} ms.`
          : `Cannot reach the console at ${base} (${reason}).`,
        timedOut,
        err,
      );
    }
    if (!res.ok) throw await problemOf(res);
    let data: unknown;
    if (res.status !== 204) {
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        // The body stopped coming: the same as no answer.
        throw new ApiNetworkError(
          `The answer from ${base} was cut off${signal.aborted ? ` after ${timeoutMs} ms` : ''}.`,
          signal.aborted,
          err,
        );
      }
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch (err) {
        // A proxy's HTML page, say: not the console.
        throw new ApiNetworkError(
          `${base} answered ${res.status} with something that is not JSON: is it the console?`,
          false,
          err,
        );
      }
    }
    return { data: data as T, headers: res.headers, status: res.status };
  }

  const get = async <T>(path: string, query?: RequestOptions['query']) =>
    (await request<T>('GET', path, { query })).data;
  const send = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) =>
    (
      await request<T>(method, path, {
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      })
    ).data;
  const tagged = <T>(a: Answer<T>): Tagged<T> => ({
    data: a.data,
    etag: a.headers.get('etag') ?? '',
  });

  return {
    baseUrl: base,

    health: () => get<Health>('/healthz'),

    /** Signs in; `cookie` is the session cookie when the runtime lets us read it (Node). */
    async login(
      username: string,
      password: string,
    ): Promise<Session & { cookie: string | undefined }> {
      const a = await request<Session>('POST', '/api/v1/session', { body: { username, password } });
      const setCookie =
        typeof a.headers.getSetCookie === 'function'
          ? a.headers.getSetCookie()
          : [a.headers.get('set-cookie') ?? ''];
      const cookie = setCookie
        .map((c) => c.split(';')[0] ?? '')
        .find((c) => c.startsWith('ims_session='));
      return { ...a.data, cookie };
    },
    whoami: () => get<{ user: { username: string }; csrfToken?: string }>('/api/v1/session'),
    logout: () => send<undefined>('DELETE', '/api/v1/session'),

    tokens: {
      list: () => get<TokenList>('/api/v1/tokens'),
      create: (name: string, scope: TokenScope) =>
        send<TokenCreated>('POST', '/api/v1/tokens', { name, scope }),
      revoke: (id: number) => send<undefined>('DELETE', `/api/v1/tokens/${id}`),
    },

    routing: {
      /** The saved configuration and its ETag (send it back as If-Match). */
      get: async (): Promise<Tagged<RoutingState>> =>
        tagged(await request<RoutingState>('GET', '/api/v1/routing')),
      put: async (body: RoutingPutBody, ifMatch: string): Promise<Tagged<RoutingState>> =>
        tagged(
          await request<RoutingState>('PUT', '/api/v1/routing', {
            body,
            headers: { 'if-match': ifMatch },
          }),
        ),
      versions: (query: { limit?: number; before?: number } = {}) =>
        get<VersionList>('/api/v1/routing/versions', query),
      version: (n: number) => get<Version>(`/api/v1/routing/versions/${n}`),
      /** A new version equal to version n; `body` carries `acknowledge` and `comment`. */
      restore: async (
        n: number,
        ifMatch: string,
        body: RestoreBody = {},
      ): Promise<Tagged<RoutingState>> =>
        tagged(
          await request<RoutingState>('POST', `/api/v1/routing/versions/${n}/restore`, {
            body,
            headers: { 'if-match': ifMatch },
          }),
        ),
      diff: (query: DiffQuery) => get<Diff>('/api/v1/routing/diff', query),
      advice: (config: unknown) => send<Advice>('POST', '/api/v1/routing/advice', { config }),
      evaluate: (body: EvaluateBody) =>
        send<EvaluateResult>('POST', '/api/v1/routing/evaluate', body),
    },

    directory: {
      list: () => get<MailboxList>('/api/v1/directory/mailboxes'),
      get: (id: number) => get<Mailbox>(`/api/v1/directory/mailboxes/${id}`),
      create: (body: MailboxCreateBody) =>
        send<Mailbox>('POST', '/api/v1/directory/mailboxes', body),
      update: (id: number, body: MailboxUpdateBody) =>
        send<Mailbox>('PATCH', `/api/v1/directory/mailboxes/${id}`, body),
      remove: (id: number) => send<undefined>('DELETE', `/api/v1/directory/mailboxes/${id}`),
    },

    service: {
      status: () => get<Service>('/api/v1/service'),
      restart: () => send<RestartResult>('POST', '/api/v1/service/restart'),
      /** Runs the open-relay self-test against a node (it sends real SMTP traffic; can take a while). */
      relayTest: async (body: RelayTestBody = {}, timeoutMs = 120_000) =>
        (
          await request<RelayTestResult>('POST', '/api/v1/service/relay-test', {
            body,
            timeoutMs,
          })
        ).data,
    },

    nodes: {
      list: () => get<NodeList>('/api/v1/nodes'),
      register: (name: string) => send<NodeCreated>('POST', '/api/v1/nodes', { name }),
      remove: (id: number) => send<undefined>('DELETE', `/api/v1/nodes/${id}`),
    },

    audit: (query: Partial<AuditQuery> = {}) => get<AuditPage>('/api/v1/audit', query),
  };
}
