/**
 * The route table: every route of the console API, written once. The server
 * registers its routes from it (method, url, schema), the typed client in
 * @ims/api-client derives its requests and answers from it, and the web's
 * test mock checks its answers against it.
 *
 * Paths use Fastify's `:param` syntax. `responses` maps each status to the
 * schema of its body; a status without a body is `NoContentSchema`.
 */

import { type TSchema, Type } from 'typebox';

import {
  MailboxCreateBodySchema,
  MailboxListSchema,
  MailboxParamsSchema,
  MailboxSchema,
  MailboxUpdateBodySchema,
} from './directory';
import { ImpactBodySchema, ImpactSchema } from './impact';
import {
  PostfixExportParamsSchema,
  PostfixExportQuerySchema,
  PostfixExportSchema,
} from './postfix';
import {
  NodeAnswerBodySchema,
  NodeRequestParamsSchema,
  QueueDeleteQuerySchema,
  QueueListSchema,
  QueueMessageParamsSchema,
} from './queue';
import { RelayTestBodySchema, RelayTestResultSchema } from './relay-test';
import {
  AdviceBodySchema,
  AdviceSchema,
  AuditPageSchema,
  AuditQuerySchema,
  DiffQuerySchema,
  DiffSchema,
  EvaluateBodySchema,
  EvaluateResultSchema,
  HealthSchema,
  IdParamsSchema,
  LoginBodySchema,
  PasswordChangeBodySchema,
  PasswordChangedSchema,
  ProblemSchema,
  RestoreBodySchema,
  RoutingPutBodySchema,
  RoutingStateSchema,
  SessionInfoSchema,
  SessionListSchema,
  SessionParamsSchema,
  SessionRevokedSchema,
  SessionSchema,
  TokenCreateBodySchema,
  TokenCreatedSchema,
  TokenListSchema,
  VersionListSchema,
  VersionParamsSchema,
  VersionSchema,
  VersionsQuerySchema,
} from './schemas';
import {
  NodeBundleQuerySchema,
  NodeBundleSchema,
  NodeCreateBodySchema,
  NodeCreatedSchema,
  NodeListSchema,
  NodeStatusBodySchema,
  RestartBodySchema,
  RestartResultSchema,
  RollbackResultSchema,
  ServiceSchema,
} from './service';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route of the console API. */
export interface RouteDef {
  method: HttpMethod;
  /** Fastify syntax: `/api/v1/tokens/:id`. */
  path: string;
  /** OpenAPI tags and summary. */
  tags: readonly string[];
  summary: string;
  /** OpenAPI security requirements when they differ from the document's default. */
  security?: readonly Record<string, readonly string[]>[];
  /** Media types of a 2xx answer that is not JSON (server-sent events, Prometheus text). */
  produces?: readonly string[];
  /** Left out of the OpenAPI document (the document itself). */
  hide?: boolean;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  headers?: TSchema;
  responses: Readonly<Record<number, TSchema>>;
}

/** The body of a 204 answer. */
export const NoContentSchema = Type.Null();
/** A server-sent event stream (`text/event-stream`); the client reads it with `events`. */
export const EventStreamSchema = Type.String({ description: 'text/event-stream' });
/** `If-Match`: the ETag of the configuration a change is based on. */
export const IfMatchHeadersSchema = Type.Object({ 'if-match': Type.Optional(Type.String()) });

const problem = ProblemSchema;

/** A write on one queued message: done, or why not (the node is offline, busy or silent). */
const queueActionResponses = {
  204: NoContentSchema,
  400: problem,
  401: problem,
  403: problem,
  404: problem,
  503: problem,
  504: problem,
} as const;
const node = [{ node: [] }] as const;
const noAuth = [] as const;

export const routes = {
  // ---- Operations ----
  health: {
    method: 'GET',
    path: '/healthz',
    tags: ['operations'],
    summary: 'Health',
    security: noAuth,
    responses: { 200: HealthSchema, 500: problem },
  },
  metrics: {
    method: 'GET',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics',
    security: noAuth,
    // Prometheus text exposition, not JSON: the typed client has no method for it.
    produces: ['text/plain'],
    // With IMS_METRICS_TOKEN_REQUIRED: 401 without a token, 403 for a node token.
    responses: {
      200: Type.String({ description: 'Prometheus text exposition' }),
      401: problem,
      403: problem,
    },
  },
  openapi: {
    method: 'GET',
    path: '/api/openapi.json',
    tags: ['operations'],
    summary: 'This API as an OpenAPI 3.1 document',
    hide: true,
    responses: { 200: Type.Unknown() },
  },

  // ---- Session and tokens ----
  signIn: {
    method: 'POST',
    path: '/api/v1/session',
    tags: ['session'],
    summary: 'Sign in: sets the session cookie and returns the CSRF token',
    security: noAuth,
    body: LoginBodySchema,
    responses: { 200: SessionSchema, 400: problem, 401: problem, 413: problem, 429: problem },
  },
  whoami: {
    method: 'GET',
    path: '/api/v1/session',
    tags: ['session'],
    summary: 'Who is signed in (and the CSRF token of a browser session)',
    responses: { 200: SessionInfoSchema, 401: problem },
  },
  signOut: {
    method: 'DELETE',
    path: '/api/v1/session',
    tags: ['session'],
    summary: 'Sign out',
    responses: { 204: NoContentSchema, 401: problem, 403: problem, 404: problem },
  },
  createToken: {
    method: 'POST',
    path: '/api/v1/tokens',
    tags: ['tokens'],
    summary: 'Create an API token (the secret is in this answer only)',
    body: TokenCreateBodySchema,
    responses: { 201: TokenCreatedSchema, 400: problem, 401: problem, 403: problem },
  },
  listTokens: {
    method: 'GET',
    path: '/api/v1/tokens',
    tags: ['tokens'],
    summary: 'List API tokens (never their secrets)',
    responses: { 200: TokenListSchema, 401: problem },
  },
  revokeToken: {
    method: 'DELETE',
    path: '/api/v1/tokens/:id',
    tags: ['tokens'],
    summary: 'Revoke an API token',
    params: IdParamsSchema,
    responses: { 204: NoContentSchema, 400: problem, 401: problem, 403: problem, 404: problem },
  },
  changePassword: {
    method: 'PUT',
    path: '/api/v1/session/password',
    tags: ['session'],
    summary:
      "Change the signed-in user's password (a browser session, not a token); every other session of the user is revoked",
    body: PasswordChangeBodySchema,
    responses: {
      200: PasswordChangedSchema,
      400: problem,
      401: problem,
      403: problem,
      413: problem,
      429: problem,
    },
  },
  listSessions: {
    method: 'GET',
    path: '/api/v1/sessions',
    tags: ['session'],
    summary: 'Signed-in sessions: created, last seen, client address, user agent',
    responses: { 200: SessionListSchema, 401: problem },
  },
  revokeSession: {
    method: 'DELETE',
    path: '/api/v1/sessions/:id',
    tags: ['session'],
    summary: 'Revoke a session, and the tokens created in it',
    params: SessionParamsSchema,
    responses: {
      200: SessionRevokedSchema,
      400: problem,
      401: problem,
      403: problem,
      404: problem,
    },
  },

  // ---- Routing ----
  getRouting: {
    method: 'GET',
    path: '/api/v1/routing',
    tags: ['routing'],
    summary: 'The saved routing configuration, with its findings',
    responses: { 200: RoutingStateSchema, 401: problem },
  },
  putRouting: {
    method: 'PUT',
    path: '/api/v1/routing',
    tags: ['routing'],
    summary: 'Save a new routing configuration (needs If-Match with the ETag it was based on)',
    headers: IfMatchHeadersSchema,
    body: RoutingPutBodySchema,
    responses: {
      200: RoutingStateSchema,
      400: problem,
      401: problem,
      403: problem,
      412: problem,
      422: problem,
      428: problem,
    },
  },
  listVersions: {
    method: 'GET',
    path: '/api/v1/routing/versions',
    tags: ['routing'],
    summary: 'Saved versions, newest first',
    query: VersionsQuerySchema,
    responses: { 200: VersionListSchema, 400: problem, 401: problem },
  },
  getVersion: {
    method: 'GET',
    path: '/api/v1/routing/versions/:n',
    tags: ['routing'],
    summary: 'One saved version',
    params: VersionParamsSchema,
    responses: { 200: VersionSchema, 400: problem, 401: problem, 404: problem },
  },
  exportPostfix: {
    method: 'GET',
    path: '/api/v1/routing/versions/:n/export/postfix',
    tags: ['routing'],
    summary: "Version n rendered as Postfix's files (main.cf, master.cf, lookup tables)",
    params: PostfixExportParamsSchema,
    query: PostfixExportQuerySchema,
    responses: { 200: PostfixExportSchema, 400: problem, 401: problem, 404: problem, 422: problem },
  },
  restoreVersion: {
    method: 'POST',
    path: '/api/v1/routing/versions/:n/restore',
    tags: ['routing'],
    summary: 'Save a new version equal to version n',
    headers: IfMatchHeadersSchema,
    params: VersionParamsSchema,
    body: RestoreBodySchema,
    responses: {
      200: RoutingStateSchema,
      400: problem,
      401: problem,
      403: problem,
      404: problem,
      412: problem,
      422: problem,
      428: problem,
    },
  },
  diff: {
    method: 'GET',
    path: '/api/v1/routing/diff',
    tags: ['routing'],
    summary: 'What changed between two versions (to: default the saved one)',
    query: DiffQuerySchema,
    responses: { 200: DiffSchema, 400: problem, 401: problem, 404: problem, 409: problem },
  },
  advice: {
    method: 'POST',
    path: '/api/v1/routing/advice',
    tags: ['routing'],
    summary: 'Findings for a draft configuration (nothing is saved)',
    body: AdviceBodySchema,
    responses: { 200: AdviceSchema, 400: problem, 401: problem },
  },
  evaluate: {
    method: 'POST',
    path: '/api/v1/routing/evaluate',
    tags: ['routing'],
    summary: 'What-if: the decision and SMTP reply for one recipient',
    body: EvaluateBodySchema,
    responses: {
      200: EvaluateResultSchema,
      400: problem,
      401: problem,
      409: problem,
      422: problem,
    },
  },
  impact: {
    method: 'POST',
    path: '/api/v1/routing/impact',
    tags: ['routing'],
    summary:
      "Impact preview: what a draft would change for the traffic the nodes recorded (running version's decision vs the draft's; nothing is saved)",
    body: ImpactBodySchema,
    responses: {
      200: ImpactSchema,
      400: problem,
      401: problem,
      409: problem,
      422: problem,
      503: problem,
      504: problem,
    },
  },

  // ---- Directory ----
  listMailboxes: {
    method: 'GET',
    path: '/api/v1/directory/mailboxes',
    tags: ['directory'],
    summary: 'The mailboxes of the local directory, by address (never their passwords)',
    responses: { 200: MailboxListSchema, 401: problem },
  },
  createMailbox: {
    method: 'POST',
    path: '/api/v1/directory/mailboxes',
    tags: ['directory'],
    summary: 'Create a mailbox under an <inbound> domain (the password is write-only)',
    body: MailboxCreateBodySchema,
    responses: {
      201: MailboxSchema,
      400: problem,
      401: problem,
      403: problem,
      409: problem,
      422: problem,
    },
  },
  getMailbox: {
    method: 'GET',
    path: '/api/v1/directory/mailboxes/:id',
    tags: ['directory'],
    summary: 'One mailbox (never its password)',
    params: MailboxParamsSchema,
    responses: { 200: MailboxSchema, 400: problem, 401: problem, 404: problem },
  },
  updateMailbox: {
    method: 'PATCH',
    path: '/api/v1/directory/mailboxes/:id',
    tags: ['directory'],
    summary: 'Change the display name and/or the password of a mailbox',
    params: MailboxParamsSchema,
    body: MailboxUpdateBodySchema,
    responses: { 200: MailboxSchema, 400: problem, 401: problem, 403: problem, 404: problem },
  },
  deleteMailbox: {
    method: 'DELETE',
    path: '/api/v1/directory/mailboxes/:id',
    tags: ['directory'],
    summary: 'Delete a mailbox',
    params: MailboxParamsSchema,
    responses: { 204: NoContentSchema, 400: problem, 401: problem, 403: problem, 404: problem },
  },

  // ---- Audit ----
  audit: {
    method: 'GET',
    path: '/api/v1/audit',
    tags: ['audit'],
    summary: 'Audit log, newest first; page with `before`',
    query: AuditQuerySchema,
    responses: { 200: AuditPageSchema, 400: problem, 401: problem },
  },

  // ---- Backup ----
  backup: {
    method: 'POST',
    path: '/api/v1/backup',
    tags: ['operations'],
    summary:
      "A consistent copy of the console database, taken online with SQLite's backup API (restore: see the README)",
    produces: ['application/vnd.sqlite3'],
    responses: {
      200: Type.String({ description: 'the SQLite database file' }),
      401: problem,
      403: problem,
    },
  },

  // ---- Service: node registry, status, restart, live events ----
  registerNode: {
    method: 'POST',
    path: '/api/v1/nodes',
    tags: ['service'],
    summary: 'Register an SMTP node; its token is in this answer only',
    body: NodeCreateBodySchema,
    responses: { 201: NodeCreatedSchema, 400: problem, 401: problem, 403: problem, 409: problem },
  },
  listNodes: {
    method: 'GET',
    path: '/api/v1/nodes',
    tags: ['service'],
    summary: 'Registered SMTP nodes',
    responses: { 200: NodeListSchema, 401: problem },
  },
  removeNode: {
    method: 'DELETE',
    path: '/api/v1/nodes/:id',
    tags: ['service'],
    summary: 'Deregister an SMTP node (its token stops working)',
    params: IdParamsSchema,
    responses: { 204: NoContentSchema, 400: problem, 401: problem, 403: problem, 404: problem },
  },
  service: {
    method: 'GET',
    path: '/api/v1/service',
    tags: ['service'],
    summary: 'Saved version, pending restart, and every node',
    responses: { 200: ServiceSchema, 401: problem },
  },
  restart: {
    method: 'POST',
    path: '/api/v1/service/restart',
    tags: ['service'],
    summary:
      'Restart the Internet Mail Service: the nodes apply the saved version, all at once (default) or one at a time (`rolling`, halting at the first node that cannot)',
    body: RestartBodySchema,
    responses: { 202: RestartResultSchema, 400: problem, 401: problem, 403: problem, 409: problem },
  },
  rollback: {
    method: 'POST',
    path: '/api/v1/service/rollback',
    tags: ['service'],
    summary:
      'Save a copy of the version the fleet ran before the latest rollout and restart every node onto it',
    responses: { 202: RollbackResultSchema, 401: problem, 403: problem, 409: problem },
  },
  relayTest: {
    method: 'POST',
    path: '/api/v1/service/relay-test',
    tags: ['service'],
    summary:
      'Open-relay self-test: a battery of relay attempts against an SMTP node from a loopback source address',
    body: RelayTestBodySchema,
    responses: {
      200: RelayTestResultSchema,
      400: problem,
      401: problem,
      403: problem,
      404: problem,
      409: problem,
      422: problem,
    },
  },
  queue: {
    method: 'GET',
    path: '/api/v1/service/queue',
    tags: ['service'],
    summary:
      "The outbound queue of every online node (asked over the node's event stream; offline nodes are left out)",
    responses: { 200: QueueListSchema, 401: problem, 403: problem, 503: problem, 504: problem },
  },
  queueRetry: {
    method: 'POST',
    path: '/api/v1/service/queue/:node/:id/retry',
    tags: ['service'],
    summary: 'Retry delivery of one queued message now',
    params: QueueMessageParamsSchema,
    responses: queueActionResponses,
  },
  queueDelete: {
    method: 'DELETE',
    path: '/api/v1/service/queue/:node/:id',
    tags: ['service'],
    summary:
      'Delete one queued message; with ndr=true it goes back to its sender with a non-delivery report (RFC 3464)',
    params: QueueMessageParamsSchema,
    query: QueueDeleteQuerySchema,
    responses: queueActionResponses,
  },
  events: {
    method: 'GET',
    path: '/api/v1/events',
    tags: ['service'],
    summary: 'Live service status for browsers (server-sent events: `service`)',
    responses: { 200: EventStreamSchema, 401: problem },
  },

  // ---- Node attach API (node tokens only) ----
  nodeBundle: {
    method: 'GET',
    path: '/api/v1/node/bundle',
    tags: ['node'],
    security: node,
    summary:
      'A configuration version with the directory, for a node (default: the version nodes were last told to run)',
    query: NodeBundleQuerySchema,
    responses: { 200: NodeBundleSchema, 400: problem, 401: problem, 404: problem },
  },
  nodeEvents: {
    method: 'GET',
    path: '/api/v1/node/events',
    tags: ['node'],
    security: node,
    summary: 'Signals for a node (server-sent events: restart, directory, heartbeat)',
    responses: { 200: EventStreamSchema, 401: problem },
  },
  nodeStatus: {
    method: 'PUT',
    path: '/api/v1/node/status',
    tags: ['node'],
    security: node,
    summary: 'A node reports the version it runs and its state',
    body: NodeStatusBodySchema,
    responses: { 204: NoContentSchema, 400: problem, 401: problem },
  },
  nodeAnswer: {
    method: 'PUT',
    path: '/api/v1/node/requests/:id',
    tags: ['node'],
    security: node,
    summary:
      'A node answers a request the console sent on its event stream (`request { id, method, params }`)',
    params: NodeRequestParamsSchema,
    body: NodeAnswerBodySchema,
    responses: { 204: NoContentSchema, 400: problem, 401: problem, 404: problem, 413: problem },
  },
} as const satisfies Record<string, RouteDef>;

export type Routes = typeof routes;
export type RouteName = keyof Routes;

/** `/api/v1/tokens/:id` → `/api/v1/tokens/{id}` (OpenAPI's spelling). */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

/**
 * The route a method and a concrete path (no query) belong to, with its
 * path parameters as strings; undefined when no route of the table has it.
 */
export function matchRoute(
  method: string,
  path: string,
): { name: RouteName; route: RouteDef; params: Record<string, string> } | undefined {
  const wanted = method.toUpperCase();
  for (const [name, route] of Object.entries(routes) as [RouteName, RouteDef][]) {
    if (route.method !== wanted) continue;
    const names: string[] = [];
    const pattern = route.path
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(seg.slice(1));
        return '([^/]+)';
      })
      .join('/');
    const m = new RegExp(`^${pattern}$`).exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    names.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { name, route, params };
  }
  return undefined;
}
