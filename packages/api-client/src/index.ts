/**
 * @ims/api-client: the one client of the console API, used by the web app,
 * the `ims` CLI, the SMTP node and the tests. Every request is one entry of
 * the api-contract route table: its path, parameters, query, body and 2xx
 * answer are typed from that entry, so no path is written here.
 *
 * Any non-2xx answer throws an `ApiProblem` carrying the RFC 9457 body; a
 * request that never got an answer (refused, reset, timed out, cut off, not
 * JSON) throws an `ApiNetworkError`. A request aborted through its own
 * `signal` rejects with the signal's reason, as fetch does.
 */

import {
  type AdviceSchema,
  type AuditEntrySchema,
  type AuditPageSchema,
  type AuditQuerySchema,
  type ConfigChangeSchema,
  type DiffQuerySchema,
  type DiffSchema,
  type EvaluateBody,
  type EvaluateResultSchema,
  type FindingBody,
  type HealthSchema,
  type ImpactChange,
  type ImpactResult,
  type Mailbox,
  type MailboxCreateBody,
  type MailboxList,
  type MailboxUpdateBody,
  matchRoute,
  type NodeAnswerBody,
  type NodeBundleSchema,
  type NodeCreatedSchema,
  type NodeListSchema,
  type NodeRequest,
  type NodeRequestMethod,
  type NodeStatusBodySchema,
  type PasswordChanged,
  type PostfixExportQuerySchema,
  type PostfixExportSchema,
  type Problem,
  type QueuedMessage,
  type QueueList,
  type RelayTestBody,
  type RelayTestCase,
  type RelayTestResult,
  type RestartBody,
  type RestartResultSchema,
  type RestoreBody,
  type RollbackResultSchema,
  type Rollout,
  type RouteName,
  type Routes,
  type RoutingPutBody,
  type RoutingState,
  routes,
  type ServiceSchema,
  type Session,
  type SessionInfo,
  type SessionList,
  type SessionRevoked,
  type SessionView,
  type TokenCreatedSchema,
  type TokenListSchema,
  type TokenScope,
  type VersionListSchema,
  type VersionSchema,
  type VersionSummary,
  type VersionsQuerySchema,
} from '@ims/api-contract';
import { createParser } from 'eventsource-parser';
import type { Static, TSchema } from 'typebox';

export type Advice = Static<typeof AdviceSchema>;
export type AuditEntry = Static<typeof AuditEntrySchema>;
export type ConfigChange = Static<typeof ConfigChangeSchema>;
export type AuditPage = Static<typeof AuditPageSchema>;
export type AuditQuery = Static<typeof AuditQuerySchema>;
export type Diff = Static<typeof DiffSchema>;
export type DiffQuery = Static<typeof DiffQuerySchema>;
export type EvaluateResult = Static<typeof EvaluateResultSchema>;
export type Health = Static<typeof HealthSchema>;
export type NodeBundle = Static<typeof NodeBundleSchema>;
export type NodeCreated = Static<typeof NodeCreatedSchema>;
export type NodeList = Static<typeof NodeListSchema>;
export type NodeStatusBody = Static<typeof NodeStatusBodySchema>;
export type NodeView = NodeList['nodes'][number];
export type RestartResult = Static<typeof RestartResultSchema>;
export type RollbackResult = Static<typeof RollbackResultSchema>;
export type { RestartBody, Rollout };
export type Service = Static<typeof ServiceSchema>;
export type TokenCreated = Static<typeof TokenCreatedSchema>;
export type TokenList = Static<typeof TokenListSchema>;
export type VersionList = Static<typeof VersionListSchema>;
export type VersionsQuery = Static<typeof VersionsQuerySchema>;
export type PostfixExportQuery = Static<typeof PostfixExportQuerySchema>;
export type PostfixExport = Static<typeof PostfixExportSchema>;
export type Version = Static<typeof VersionSchema>;
export type {
  EvaluateBody,
  FindingBody,
  ImpactChange,
  ImpactResult,
  Mailbox,
  MailboxCreateBody,
  MailboxList,
  MailboxUpdateBody,
  NodeAnswerBody,
  NodeRequest,
  NodeRequestMethod,
  PasswordChanged,
  Problem,
  QueuedMessage,
  QueueList,
  RelayTestBody,
  RelayTestCase,
  RelayTestResult,
  RestoreBody,
  RoutingState,
  Session,
  SessionInfo,
  SessionList,
  SessionRevoked,
  SessionView,
  VersionSummary,
};

// ---- Types from the route table -------------------------------------------

type PartOf<R, K extends string> = R extends { readonly [P in K]: infer S extends TSchema }
  ? Static<S>
  : never;
type Success = 200 | 201 | 202 | 204;

/** The path parameters, query, body and headers of a route (never when it has none). */
export type ParamsOf<N extends RouteName> = PartOf<Routes[N], 'params'>;
export type QueryOf<N extends RouteName> = PartOf<Routes[N], 'query'>;
export type BodyOf<N extends RouteName> = PartOf<Routes[N], 'body'>;
export type HeadersOf<N extends RouteName> = PartOf<Routes[N], 'headers'>;
/** The body of a route's 2xx answer (null for 204). */
export type AnswerOf<N extends RouteName> = {
  [S in keyof Routes[N]['responses'] & Success]: Routes[N]['responses'][S] extends infer T extends
    TSchema
    ? Static<T>
    : never;
}[keyof Routes[N]['responses'] & Success];

/** What one call of a route sends: each part only when the route has it. */
export type CallInput<N extends RouteName> = ([ParamsOf<N>] extends [never]
  ? unknown
  : { params: ParamsOf<N> }) &
  ([QueryOf<N>] extends [never] ? unknown : { query?: Partial<QueryOf<N>> }) &
  ([BodyOf<N>] extends [never] ? unknown : { body?: BodyOf<N> }) &
  ([HeadersOf<N>] extends [never] ? unknown : { headers?: HeadersOf<N> });

// ---- Errors -----------------------------------------------------------------

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

  /** The slug of the problem type: `/problems/precondition-failed` → `precondition-failed`. */
  get slug(): string {
    return this.type.split('/').pop() ?? this.type;
  }

  /** Per-field errors keyed by JSON Pointer (the first one of each pointer). */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.errors) out[e.pointer] = out[e.pointer] ?? e.detail;
    return out;
  }
}

/** No answer at all: the console is unreachable, did not answer in time, or is not the console. */
export class ApiNetworkError extends Error {
  readonly timedOut: boolean;
  constructor(message: string, timedOut: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiNetworkError';
    this.timedOut = timedOut;
  }
}

export function isApiProblem(error: unknown, status?: number): error is ApiProblem {
  return error instanceof ApiProblem && (status === undefined || error.status === status);
}

// ---- Options ------------------------------------------------------------------

export interface ApiClientOptions {
  /**
   * The console, e.g. `http://127.0.0.1:8080` (a trailing slash is fine). A
   * relative one (`''`, `'/'`) is resolved against `location.origin` (the browser).
   */
  baseUrl: string;
  /** An API token or node token, sent as `Authorization: Bearer`. */
  token?: string | undefined;
  /** A session cookie (`ims_session=…`), where the runtime does not send cookies itself (Node). */
  cookie?: string | undefined;
  /**
   * The CSRF token of a cookie session, sent as `X-CSRF-Token` on every write:
   * a string, or a function asked at each write (the browser's current session).
   */
  csrfToken?: string | (() => string | undefined) | undefined;
  /** fetch's `credentials`: `'same-origin'` in the browser, so its session cookie goes along. */
  credentials?: 'omit' | 'same-origin' | 'include' | undefined;
  /** Called with the problem when the console answers 401 to anything but sign-in. */
  onUnauthenticated?: ((problem: ApiProblem) => void) | undefined;
  /** Per-request timeout in milliseconds (default 30 s); event streams have none. */
  timeoutMs?: number | undefined;
  /** The fetch to use (default: the global one, looked up at each request). */
  fetch?: typeof fetch | undefined;
}

/** Per request: an abort signal and a timeout of its own. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** A routing state with the ETag to send back as If-Match. */
export interface Tagged<T> {
  data: T;
  etag: string;
}

/** One answer: the body, the headers and the status. */
export interface Answer<T> {
  data: T;
  headers: Headers;
  status: number;
}

/** One server-sent event; `data` is the parsed JSON (or the text when it is not JSON). */
export interface StreamEvent {
  type: string;
  data: unknown;
}

export interface StreamHandlers {
  onEvent: (event: StreamEvent) => void;
  /** The stream is open (the console answered 200). */
  onOpen?: () => void;
  /** Anything arrived (an event, a heartbeat comment): the connection is alive. */
  onActivity?: () => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

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

/** `/api/v1/tokens/:id` with `{ id: 3 }` → `/api/v1/tokens/3`. */
function fillPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new TypeError(`${path}: the parameter ${name} is missing`);
    return encodeURIComponent(String(value));
  });
}

const isAbsolute = (url: string) => /^[a-z][a-z0-9+.-]*:/i.test(url);

interface Wire {
  method: string;
  path: string;
  query?: Record<string, unknown> | undefined;
  body?: unknown;
  headers?: Record<string, string | undefined> | undefined;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /** The absolute URL of a path; a relative base is resolved against the page's origin. */
  function urlOf(path: string, query: Wire['query']): URL {
    let url: URL;
    if (isAbsolute(base)) url = new URL(`${base}${path}`);
    else {
      const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
      if (!origin) {
        throw new TypeError(`The base URL "${options.baseUrl}" is relative and there is no page.`);
      }
      url = new URL(`${base}${path}`, origin);
    }
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url;
  }

  function headersOf(wire: Wire, accept: string): Record<string, string> {
    const headers: Record<string, string> = { accept };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    else {
      if (options.cookie) headers.cookie = options.cookie;
      if (WRITES.has(wire.method)) {
        const csrf =
          typeof options.csrfToken === 'function' ? options.csrfToken() : options.csrfToken;
        if (csrf) headers['x-csrf-token'] = csrf;
      }
    }
    if (wire.body !== undefined) headers['content-type'] = 'application/json';
    for (const [k, v] of Object.entries(wire.headers ?? {})) if (v !== undefined) headers[k] = v;
    return headers;
  }

  /** Sends one request; the answer whatever its status, or ApiNetworkError when there is none. */
  async function send(
    wire: Wire,
    opts: RequestOptions,
    accept: string,
    timeoutMs: number | undefined,
  ): Promise<{ res: Response; signal: AbortSignal | undefined; timedOut: () => boolean }> {
    const url = urlOf(wire.path, wire.query);
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signals = [timeout, opts.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal =
      signals.length === 0
        ? undefined
        : signals.length === 1
          ? signals[0]
          : AbortSignal.any(signals);
    const timedOut = () => timeout?.aborted === true && opts.signal?.aborted !== true;
    const doFetch = options.fetch ?? globalThis.fetch;
    try {
      const res = await doFetch(url, {
        method: wire.method,
        headers: headersOf(wire, accept),
        ...(signal ? { signal } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(wire.body === undefined ? {} : { body: JSON.stringify(wire.body) }),
      });
      return { res, signal, timedOut };
    } catch (err) {
      // Aborted by the caller: not a network failure.
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      const cause = (
        err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }
      ).cause;
      const reason =
        cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message;
      throw new ApiNetworkError(
        timedOut()
          ? `No answer from ${base || 'the console'} within ${timeoutMs} ms.`
          : `Cannot reach the console at ${base || 'this address'} (${reason}).`,
        timedOut(),
        err,
      );
    }
  }

  /** A non-2xx answer as an ApiProblem, after telling onUnauthenticated about a 401. */
  async function fail(res: Response, wire: Wire): Promise<ApiProblem> {
    const problem = await problemOf(res);
    const signIn = wire.method === routes.signIn.method && wire.path === routes.signIn.path;
    if (res.status === 401 && !signIn) options.onUnauthenticated?.(problem);
    return problem;
  }

  async function exchange<T>(wire: Wire, opts: RequestOptions = {}): Promise<Answer<T>> {
    const timeoutMs = opts.timeoutMs ?? defaultTimeout;
    const { res, timedOut } = await send(
      wire,
      opts,
      'application/json, application/problem+json',
      timeoutMs,
    );
    if (!res.ok) throw await fail(res, wire);
    let data: unknown = null;
    if (res.status !== 204) {
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? err;
        // The body stopped coming: the same as no answer.
        throw new ApiNetworkError(
          `The answer from ${base || 'the console'} was cut off${timedOut() ? ` after ${timeoutMs} ms` : ''}.`,
          timedOut(),
          err,
        );
      }
      try {
        data = text ? JSON.parse(text) : null;
      } catch (err) {
        // A proxy's HTML page, say: not the console.
        throw new ApiNetworkError(
          `${base || 'The server'} answered ${res.status} with something that is not JSON: is it the console?`,
          false,
          err,
        );
      }
    }
    return { data: data as T, headers: res.headers, status: res.status };
  }

  /** Calls one route of the table: its typed 2xx answer, or ApiProblem / ApiNetworkError. */
  function call<N extends RouteName>(
    name: N,
    input: CallInput<N>,
    opts: RequestOptions = {},
  ): Promise<Answer<AnswerOf<N>>> {
    const route = routes[name];
    const i = input as {
      params?: Record<string, unknown>;
      query?: Record<string, unknown>;
      body?: unknown;
      headers?: Record<string, string | undefined>;
    };
    return exchange<AnswerOf<N>>(
      {
        method: route.method,
        path: fillPath(route.path, i.params),
        query: i.query,
        body: i.body,
        headers: i.headers,
      },
      opts,
    );
  }

  const data = async <T>(answer: Promise<Answer<T>>): Promise<T> => (await answer).data;
  const tagged = async <T>(answer: Promise<Answer<T>>): Promise<Tagged<T>> => {
    const a = await answer;
    return { data: a.data, etag: a.headers.get('etag') ?? '' };
  };

  /**
   * Follows a server-sent event stream until it ends (resolves), the caller
   * aborts it (rejects with the signal's reason) or the connection fails
   * (ApiNetworkError). A non-2xx answer throws ApiProblem.
   */
  async function stream(
    name: 'events' | 'nodeEvents',
    handlers: StreamHandlers,
    opts: { signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    const route = routes[name];
    const wire: Wire = { method: route.method, path: route.path };
    const { res } = await send(wire, opts, 'text/event-stream', undefined);
    if (!res.ok) throw await fail(res, wire);
    if (!res.body) throw new ApiNetworkError('The event stream has no body.', false);
    handlers.onOpen?.();
    const parser = createParser({
      onEvent: (message) => {
        let parsed: unknown = message.data;
        try {
          parsed = message.data === '' ? undefined : JSON.parse(message.data);
        } catch {
          // not JSON: the text as sent
        }
        handlers.onEvent({ type: message.event ?? 'message', data: parsed });
      },
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        handlers.onActivity?.();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      throw new ApiNetworkError(
        `The event stream from ${base || 'the console'} broke.`,
        false,
        err,
      );
    } finally {
      reader.releaseLock();
    }
  }

  return {
    baseUrl: base,

    /** Any route of the table by name: the typed answer with its headers and status. */
    call,

    /**
     * One request to a route of the table, answered whatever its status, for
     * tests that check the wire (status codes, problem bodies, headers). The
     * method and path must belong to the route table; the body is sent as is.
     */
    async raw<T = unknown>(
      method: string,
      pathAndQuery: string,
      body?: unknown,
      headers: Record<string, string> = {},
      opts: RequestOptions = {},
    ): Promise<{ status: number; body: T; headers: Headers }> {
      const [path = '', query = ''] = pathAndQuery.split('?');
      if (!matchRoute(method, path)) {
        throw new TypeError(`${method} ${path} is not a route of the console API.`);
      }
      const wire: Wire = {
        method: method.toUpperCase(),
        path,
        query: Object.fromEntries(new URLSearchParams(query)),
        body,
        headers,
      };
      const { res } = await send(
        wire,
        opts,
        'application/json, application/problem+json',
        opts.timeoutMs ?? defaultTimeout,
      );
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    },

    health: (opts?: RequestOptions) => data(call('health', {}, opts)),

    /** Signs in; `cookie` is the session cookie when the runtime lets us read it (Node). */
    async login(
      username: string,
      password: string,
      opts?: RequestOptions,
    ): Promise<Session & { cookie: string | undefined }> {
      const a = await call('signIn', { body: { username, password } }, opts);
      const setCookie =
        typeof a.headers.getSetCookie === 'function'
          ? a.headers.getSetCookie()
          : [a.headers.get('set-cookie') ?? ''];
      const cookie = setCookie
        .map((c) => c.split(';')[0] ?? '')
        // `__Host-ims_session` when the console is on HTTPS.
        .find((c) => /^(__Host-)?ims_session=/.test(c));
      return { ...a.data, cookie };
    },
    whoami: (opts?: RequestOptions) => data(call('whoami', {}, opts)),
    logout: (opts?: RequestOptions) => data(call('signOut', {}, opts)),

    /** Change the signed-in user's password (a session only); the user's other sessions end. */
    changePassword: (currentPassword: string, newPassword: string, opts?: RequestOptions) =>
      data(call('changePassword', { body: { currentPassword, newPassword } }, opts)),

    /** Signed-in sessions; revoking one revokes the tokens created in it. */
    sessions: {
      list: (opts?: RequestOptions) => data(call('listSessions', {}, opts)),
      revoke: (id: string, opts?: RequestOptions) =>
        data(call('revokeSession', { params: { id } }, opts)),
    },

    tokens: {
      list: (opts?: RequestOptions) => data(call('listTokens', {}, opts)),
      /** A new token (a signed-in session only); `expiresIn` seconds, or until revoked. */
      create: (name: string, scope: TokenScope, opts?: RequestOptions & { expiresIn?: number }) =>
        data(
          call(
            'createToken',
            {
              body: {
                name,
                scope,
                ...(opts?.expiresIn === undefined ? {} : { expiresIn: opts.expiresIn }),
              },
            },
            opts,
          ),
        ),
      revoke: (id: number, opts?: RequestOptions) =>
        data(call('revokeToken', { params: { id } }, opts)),
    },

    routing: {
      /** The saved configuration and its ETag (send it back as If-Match). */
      get: (opts?: RequestOptions): Promise<Tagged<RoutingState>> =>
        tagged(call('getRouting', {}, opts)),
      put: (body: RoutingPutBody, ifMatch: string, opts?: RequestOptions) =>
        tagged(call('putRouting', { body, headers: { 'if-match': ifMatch } }, opts)),
      versions: (query: Partial<VersionsQuery> = {}, opts?: RequestOptions) =>
        data(call('listVersions', { query }, opts)),
      version: (n: number, opts?: RequestOptions) =>
        data(call('getVersion', { params: { n } }, opts)),
      /** A new version equal to version n; `body` carries `acknowledge` and `comment`. */
      restore: (n: number, ifMatch: string, body: RestoreBody = {}, opts?: RequestOptions) =>
        tagged(
          call('restoreVersion', { params: { n }, body, headers: { 'if-match': ifMatch } }, opts),
        ),
      /** Version n rendered as Postfix's files (`{ version, files }`); a 422 when Postfix cannot express it. */
      exportPostfix: (n: number, query: PostfixExportQuery = {}, opts?: RequestOptions) =>
        data(call('exportPostfix', { params: { n }, query }, opts)),
      diff: (query: DiffQuery, opts?: RequestOptions) => data(call('diff', { query }, opts)),
      advice: (config: unknown, opts?: RequestOptions) =>
        data(call('advice', { body: { config } }, opts)),
      evaluate: (body: EvaluateBody, opts?: RequestOptions) =>
        data(call('evaluate', { body }, opts)),
      /** Impact preview: what `config` would change for the traffic the nodes recorded. */
      impact: (config: unknown, opts?: RequestOptions) =>
        data(call('impact', { body: { config } }, opts)),
    },

    directory: {
      list: (opts?: RequestOptions) => data(call('listMailboxes', {}, opts)),
      get: (id: number, opts?: RequestOptions) =>
        data(call('getMailbox', { params: { id } }, opts)),
      create: (body: MailboxCreateBody, opts?: RequestOptions) =>
        data(call('createMailbox', { body }, opts)),
      update: (id: number, body: MailboxUpdateBody, opts?: RequestOptions) =>
        data(call('updateMailbox', { params: { id }, body }, opts)),
      remove: (id: number, opts?: RequestOptions) =>
        data(call('deleteMailbox', { params: { id } }, opts)),
    },

    service: {
      status: (opts?: RequestOptions) => data(call('service', {}, opts)),
      /** Every node at once (no body), or `{ strategy: 'rolling', order }`: one at a time. */
      restart: (body?: RestartBody, opts?: RequestOptions) =>
        data(call('restart', body === undefined ? {} : { body }, opts)),
      /** Saves a copy of the version the fleet ran before the latest rollout; every node restarts onto it. */
      rollback: (opts?: RequestOptions) => data(call('rollback', {}, opts)),
      /** Runs the open-relay self-test against a node (it sends real SMTP traffic; can take a while). */
      relayTest: (body: RelayTestBody = {}, timeoutMs = 120_000, opts: RequestOptions = {}) =>
        data(call('relayTest', { body }, { timeoutMs, ...opts })),
    },

    /** The nodes' outbound queues (the Queues tab). */
    queue: {
      list: (opts?: RequestOptions) => data(call('queue', {}, opts)),
      retry: (node: string, id: string, opts?: RequestOptions) =>
        data(call('queueRetry', { params: { node, id } }, opts)),
      /** Deletes a queued message; `ndr` returns it to its sender with a non-delivery report. */
      remove: (node: string, id: string, ndr = false, opts?: RequestOptions) =>
        data(call('queueDelete', { params: { node, id }, query: ndr ? { ndr } : {} }, opts)),
    },

    nodes: {
      list: (opts?: RequestOptions) => data(call('listNodes', {}, opts)),
      register: (name: string, opts?: RequestOptions) =>
        data(call('registerNode', { body: { name } }, opts)),
      remove: (id: number, opts?: RequestOptions) =>
        data(call('removeNode', { params: { id } }, opts)),
    },

    /** The node attach API (with a node token). */
    node: {
      /** A configuration version with the directory (default: the saved one). */
      bundle: (version?: number, opts?: RequestOptions) =>
        data(call('nodeBundle', { query: version === undefined ? {} : { version } }, opts)),
      status: (body: NodeStatusBody, opts?: RequestOptions) =>
        data(call('nodeStatus', { body }, opts)),
      /** Answers a `request` event the console sent on the node's event stream. */
      answer: (id: string, body: NodeAnswerBody, opts?: RequestOptions) =>
        data(call('nodeAnswer', { params: { id }, body }, opts)),
    },

    /** Server-sent event streams: the browser's live status and a node's signals. */
    events: {
      service: (handlers: StreamHandlers, opts?: { signal?: AbortSignal | undefined }) =>
        stream('events', handlers, opts),
      node: (handlers: StreamHandlers, opts?: { signal?: AbortSignal | undefined }) =>
        stream('nodeEvents', handlers, opts),
    },

    audit: (query: Partial<AuditQuery> = {}, opts?: RequestOptions) =>
      data(call('audit', { query }, opts)),

    /**
     * A consistent copy of the console database (POST /api/v1/backup), as
     * the bytes of the SQLite file.
     */
    async backup(opts: RequestOptions = {}): Promise<Uint8Array> {
      const route = routes.backup;
      const wire: Wire = { method: route.method, path: route.path };
      const timeoutMs = opts.timeoutMs ?? defaultTimeout;
      const { res, timedOut } = await send(
        wire,
        opts,
        'application/vnd.sqlite3, application/problem+json',
        timeoutMs,
      );
      if (!res.ok) throw await fail(res, wire);
      try {
        return new Uint8Array(await res.arrayBuffer());
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? err;
        throw new ApiNetworkError(
          `The backup from ${base || 'the console'} was cut off${timedOut() ? ` after ${timeoutMs} ms` : ''}.`,
          timedOut(),
          err,
        );
      }
    },
  };
}
