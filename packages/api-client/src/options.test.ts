// The client's options and event streams against a stand-in fetch: what the
// browser needs (relative base URL, credentials, CSRF provider, 401 hook,
// abort), the route table as the only source of paths, and server-sent events
// parsed the way the spec says (CRLF, multi-line data, comments).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiNetworkError, ApiProblem, createApiClient, type StreamEvent } from './index';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  credentials: string | undefined;
  signal: AbortSignal | undefined;
}

/** A fetch that records each request and answers with `answer`. */
function standIn(answer: (seen: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = vi.fn(async (input: URL | string, init: RequestInit = {}) => {
    const s: Seen = {
      url: String(input),
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      credentials: init.credentials,
      signal: init.signal ?? undefined,
    };
    seen.push(s);
    return answer(s);
  });
  return { seen, fetch: fetch as unknown as typeof globalThis.fetch };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

const problem = (status: number, slug: string, extra: Record<string, unknown> = {}) =>
  json({ type: `/problems/${slug}`, title: slug, status, detail: `${slug}.`, ...extra }, status);

/** A response whose body arrives in exactly these chunks. */
function chunked(chunks: string[]): Response {
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(encoder.encode(c));
        controller.close();
      },
    }),
    { status: 200, headers: { 'content-type': 'text/event-stream' } },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('what the browser needs', () => {
  it('resolves a relative base URL against location.origin and sends the page credentials', async () => {
    vi.stubGlobal('location', { origin: 'https://console.example:8443' });
    const { seen, fetch } = standIn(() =>
      json({
        savedVersion: 1,
        targetVersion: 1,
        pendingRestart: false,
        restartInProgress: false,
        nodes: [],
      }),
    );
    for (const baseUrl of ['', '/']) {
      const api = createApiClient({ baseUrl, credentials: 'same-origin', fetch });
      await api.service.status();
    }
    expect(seen.map((s) => s.url)).toEqual([
      'https://console.example:8443/api/v1/service',
      'https://console.example:8443/api/v1/service',
    ]);
    expect(seen.every((s) => s.credentials === 'same-origin')).toBe(true);
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });

  it('a relative base URL without a page is a clear error', async () => {
    const { fetch } = standIn(() => json({}));
    const api = createApiClient({ baseUrl: '', fetch });
    await expect(api.service.status()).rejects.toThrow(/relative and there is no page/);
  });

  it('asks the CSRF provider at each write, and sends nothing on reads', async () => {
    let token = 'first';
    const provider = vi.fn(() => token);
    const { seen, fetch } = standIn((s) =>
      s.method === 'GET'
        ? json({ tokens: [] })
        : json({ version: 2, coalesced: false, signalled: 0 }, 202),
    );
    const api = createApiClient({ baseUrl: 'http://console.test', csrfToken: provider, fetch });
    await api.service.restart();
    token = 'second';
    await api.tokens.list();
    await api.service.restart();
    expect(seen.map((s) => s.headers['x-csrf-token'])).toEqual(['first', undefined, 'second']);
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('sends the CSRF token it was asked for on that write; a bearer token needs none', async () => {
    const { seen, fetch } = standIn((s) =>
      s.url.endsWith('/tokens/7')
        ? new Response(null, { status: 204 })
        : json({ version: 2, coalesced: false, signalled: 0 }, 202),
    );
    const browser = createApiClient({
      baseUrl: 'http://console.test',
      csrfToken: () => 'c1',
      fetch,
    });
    await browser.tokens.revoke(7);
    expect(seen[0]).toMatchObject({
      url: 'http://console.test/api/v1/tokens/7',
      method: 'DELETE',
      headers: { 'x-csrf-token': 'c1' },
    });
    const script = createApiClient({ baseUrl: 'http://console.test', token: 'ims_x', fetch });
    await script.service.restart();
    expect(seen[1]?.headers).toMatchObject({ authorization: 'Bearer ims_x' });
    expect(seen[1]?.headers['x-csrf-token']).toBeUndefined();
  });

  it('calls the on-unauthenticated hook on a 401, except for a failed sign-in', async () => {
    const hook = vi.fn();
    const { fetch } = standIn(() => problem(401, 'unauthenticated'));
    const api = createApiClient({ baseUrl: 'http://console.test', onUnauthenticated: hook, fetch });
    await expect(api.login('admin', 'wrong')).rejects.toBeInstanceOf(ApiProblem);
    expect(hook).not.toHaveBeenCalled();
    const err = await api.routing.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect(hook).toHaveBeenCalledTimes(1);
    expect(hook.mock.calls[0]?.[0]).toBe(err);
  });

  it('an abort through the request signal rejects with its reason, not as a network error', async () => {
    const { fetch } = standIn(
      (s) =>
        new Promise<Response>((_resolve, reject) => {
          s.signal?.addEventListener('abort', () => reject(s.signal?.reason));
        }),
    );
    const api = createApiClient({ baseUrl: 'http://console.test', fetch });
    const abort = new AbortController();
    const pending = api.routing.get({ signal: abort.signal }).catch((e: unknown) => e);
    abort.abort(new Error('left the page'));
    const err = await pending;
    expect(err).not.toBeInstanceOf(ApiNetworkError);
    expect((err as Error).message).toBe('left the page');
  });

  it('a problem carries its slug and per-field errors by pointer', async () => {
    const { fetch } = standIn(() =>
      problem(422, 'policy-invalid', {
        errors: [
          { pointer: '/config/routes/0/sentTo', detail: 'Not a domain.' },
          { pointer: '/config/routes/0/sentTo', detail: 'Second opinion.' },
        ],
      }),
    );
    const api = createApiClient({ baseUrl: 'http://console.test', fetch });
    const p = (await api.routing
      .put({ config: {} as never }, '"v1"')
      .catch((e: unknown) => e)) as ApiProblem;
    expect(p.slug).toBe('policy-invalid');
    expect(p.fieldErrors).toEqual({ '/config/routes/0/sentTo': 'Not a domain.' });
  });
});

describe('paths come from the route table', () => {
  it('fills path parameters and the query, and sends If-Match', async () => {
    const { seen, fetch } = standIn(() => json({}, 200, { etag: '"v4"' }));
    const api = createApiClient({ baseUrl: 'http://console.test/', fetch });
    await api.routing.versions({ limit: 20, before: 9 });
    await api.routing.restore(3, '"v4"', { acknowledge: ['open-relay'] });
    await api.node.bundle(5);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET http://console.test/api/v1/routing/versions?limit=20&before=9',
      'POST http://console.test/api/v1/routing/versions/3/restore',
      'GET http://console.test/api/v1/node/bundle?version=5',
    ]);
    expect(seen[1]?.headers['if-match']).toBe('"v4"');
  });

  it('raw() answers any status, but only for a method and path of the table', async () => {
    const { fetch } = standIn(() => problem(412, 'precondition-failed'));
    const api = createApiClient({ baseUrl: 'http://console.test', fetch });
    const res = await api.raw<{ type: string }>('PUT', '/api/v1/routing', {});
    expect(res.status).toBe(412);
    expect(res.body.type).toBe('/problems/precondition-failed');
    await expect(api.raw('GET', '/api/v1/nope')).rejects.toThrow(/not a route of the console API/);
    await expect(api.raw('PUT', '/api/v1/service')).rejects.toThrow(/not a route/);
  });
});

describe('event streams', () => {
  it('parses CRLF line ends, multi-line data and events split across chunks; comments count as activity', async () => {
    const { seen, fetch } = standIn(() =>
      chunked([
        ': connected\r\n\r\n',
        'event: restart\r\ndata: {"version":',
        '3}\r\n\r\nevent: service\ndata: {"a":\ndata: 1}\n\n',
        ': heartbeat\n\n',
        'data: plain text\n\n',
      ]),
    );
    const api = createApiClient({ baseUrl: 'http://console.test', token: 'imsn_x', fetch });
    const events: StreamEvent[] = [];
    const onActivity = vi.fn();
    const onOpen = vi.fn();
    await api.events.node({ onEvent: (e) => events.push(e), onActivity, onOpen });
    expect(seen[0]).toMatchObject({
      url: 'http://console.test/api/v1/node/events',
      headers: { accept: 'text/event-stream', authorization: 'Bearer imsn_x' },
    });
    expect(onOpen).toHaveBeenCalledTimes(1);
    expect(events).toEqual([
      { type: 'restart', data: { version: 3 } },
      { type: 'service', data: { a: 1 } },
      { type: 'message', data: 'plain text' },
    ]);
    expect(onActivity).toHaveBeenCalledTimes(5);
  });

  it('an error answer is an ApiProblem; the browser stream is GET /api/v1/events', async () => {
    const hook = vi.fn();
    const { seen, fetch } = standIn(() => problem(401, 'unauthenticated'));
    const api = createApiClient({ baseUrl: 'http://console.test', onUnauthenticated: hook, fetch });
    const err = await api.events.service({ onEvent: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect(hook).toHaveBeenCalledTimes(1);
    expect(seen[0]?.url).toBe('http://console.test/api/v1/events');
  });

  it('stops with the abort reason when its signal aborts', async () => {
    const { fetch } = standIn(
      (s) =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              s.signal?.addEventListener('abort', () => controller.error(s.signal?.reason));
            },
          }),
          { status: 200 },
        ),
    );
    const api = createApiClient({ baseUrl: 'http://console.test', fetch });
    const abort = new AbortController();
    const opened = new Promise<void>((resolve) => {
      void api.events
        .node({ onEvent: () => undefined, onOpen: resolve }, { signal: abort.signal })
        .catch((e: unknown) => {
          reason = e;
        });
    });
    let reason: unknown;
    await opened;
    abort.abort(new Error('no heartbeat'));
    await vi.waitFor(() => expect((reason as Error | undefined)?.message).toBe('no heartbeat'));
  });
});
