/**
 * The queue routes over a real listener, with a stand-in node that follows
 * its event stream through the api-client and answers `request` events with
 * PUT /api/v1/node/requests/{id}, as apps/smtp does.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApiClient,
  createApiClient,
  type NodeAnswerBody,
  type NodeRequest,
  type QueuedMessage,
} from '@ims/api-client';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../app';
import { ADMIN_PASSWORD, TEST_PASSWORD_COST } from '../../testing/helper';

const stuck: QueuedMessage = {
  id: '1764403200000.P1Q1R1.mx',
  from: 'alice@example.com',
  recipients: ['bob@outside.example'],
  size: 1234,
  queuedAt: '2026-11-29T10:00:00.000Z',
  attempts: 2,
  nextAttemptAt: '2026-11-29T10:05:00.000Z',
  lastError: 'connect ECONNREFUSED 127.0.0.1:9',
};

interface Console {
  app: FastifyInstance;
  url: string;
  admin: ApiClient;
  reader: ApiClient;
  anonymous: ApiClient;
  /** The signed-in administrator: only a session registers nodes. */
  browser: ApiClient;
}

async function startConsole(requestTimeoutMs = 5000): Promise<Console> {
  const dir = mkdtempSync(join(tmpdir(), 'ims-console-'));
  const app = await buildApp({
    passwordCost: TEST_PASSWORD_COST,
    dataDir: dir,
    siteDomain: 'example.com',
    adminPassword: ADMIN_PASSWORD,
    heartbeatMs: 200,
    requestTimeoutMs,
    maxPendingPerNode: 2,
    webDir: '/nonexistent/ims-web-dist',
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  onTestFinished(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const session = await createApiClient({ baseUrl: url }).login('admin', ADMIN_PASSWORD);
  const browser = createApiClient({
    baseUrl: url,
    cookie: session.cookie,
    csrfToken: session.csrfToken,
  });
  const write = await browser.tokens.create('ops', 'write');
  const read = await browser.tokens.create('viewer', 'read');
  return {
    app,
    url,
    admin: createApiClient({ baseUrl: url, token: write.token }),
    reader: createApiClient({ baseUrl: url, token: read.token }),
    anonymous: createApiClient({ baseUrl: url }),
    browser,
  };
}

type Behaviour = (request: NodeRequest) => NodeAnswerBody | undefined;

/** The queue of a stand-in node: answers as apps/smtp's requests.ts does. */
function queueOf(messages: QueuedMessage[]): Behaviour {
  return ({ method, params }) => {
    const m = messages.find((x) => x.id === params.id);
    if (method === 'queue.list') return { ok: true, result: { messages } };
    if (!m)
      return {
        ok: false,
        error: {
          code: 'not-found',
          message: `There is no message ${String(params.id)} in the queue.`,
        },
      };
    if (method === 'queue.retry') {
      m.attempts++;
      return { ok: true, result: { message: { ...m, attempts: m.attempts - 1 } } };
    }
    messages.splice(messages.indexOf(m), 1);
    return { ok: true, result: { message: m, ndrSent: params.ndr === true } };
  };
}

/** Registers a node, attaches it and answers its requests with `behave` (undefined: no answer). */
async function attachNode(c: Console, name: string, behave: Behaviour) {
  const { token } = await c.browser.nodes.register(name);
  const api = createApiClient({ baseUrl: c.url, token });
  const requests: NodeRequest[] = [];
  const answers: { id: string; status: number }[] = [];
  const abort = new AbortController();
  onTestFinished(() => abort.abort());
  await new Promise<void>((resolve, reject) => {
    api.events
      .node(
        {
          onOpen: resolve,
          onEvent: ({ type, data }) => {
            if (type !== 'request') return;
            const request = data as NodeRequest;
            requests.push(request);
            const answer = behave(request);
            if (answer)
              void api
                .raw('PUT', `/api/v1/node/requests/${request.id}`, answer)
                .then((r) => answers.push({ id: request.id, status: r.status }));
          },
        },
        { signal: abort.signal },
      )
      .catch((err: unknown) => (abort.signal.aborted ? undefined : reject(err)));
  });
  return { api, requests, answers, token, detach: () => abort.abort() };
}

async function until<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const Q = '/api/v1/service/queue';

describe('GET /api/v1/service/queue', () => {
  it("lists every online node's queue, in the contract's shape; offline nodes are left out", async () => {
    const c = await startConsole();
    expect(await c.admin.queue.list()).toEqual({ nodes: [] });
    const edge = await attachNode(c, 'edge-1', queueOf([{ ...stuck }]));
    await c.browser.nodes.register('edge-2');
    expect(await c.reader.queue.list()).toEqual({ nodes: [{ name: 'edge-1', messages: [stuck] }] });
    expect(edge.requests).toEqual([
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), method: 'queue.list', params: {} },
    ]);
    expect(edge.answers).toEqual([{ id: edge.requests[0]?.id, status: 204 }]);
  });

  it('503 when every registered node is offline; 504 when a node does not answer', async () => {
    const c = await startConsole(300);
    await c.browser.nodes.register('edge-2');
    const offline = await c.admin.raw('GET', Q);
    expect(offline.status).toBe(503);
    expect(offline.body).toMatchObject({ type: '/problems/node-offline', status: 503 });
    expect(offline.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await attachNode(c, 'mute', () => undefined);
    const silent = await c.admin.raw('GET', Q);
    expect(silent.status).toBe(504);
    expect(silent.body).toMatchObject({
      type: '/problems/node-timeout',
      detail: expect.stringContaining('mute'),
    });
  });

  it('auth: no credentials 401; a node token 403', async () => {
    const c = await startConsole();
    const edge = await attachNode(c, 'edge-1', queueOf([]));
    expect((await c.anonymous.raw('GET', Q)).status).toBe(401);
    expect((await edge.api.raw('GET', Q)).status).toBe(403);
  });
});

describe('POST /api/v1/service/queue/{node}/{id}/retry and DELETE /api/v1/service/queue/{node}/{id}', () => {
  it('retry and delete (with ?ndr=true) reach the node and are audited', async () => {
    const c = await startConsole();
    const other = { ...stuck, id: '1764403200001.P1Q2R1.mx', from: 'carol@example.com' };
    const edge = await attachNode(c, 'edge-1', queueOf([{ ...stuck }, other]));
    const retried = await c.admin.raw('POST', `${Q}/edge-1/${stuck.id}/retry`);
    expect(retried.status).toBe(204);
    expect(edge.requests.at(-1)).toMatchObject({ method: 'queue.retry', params: { id: stuck.id } });
    expect((await c.admin.queue.list()).nodes[0]?.messages[0]?.attempts).toBe(3);

    expect((await c.admin.raw('DELETE', `${Q}/edge-1/${stuck.id}?ndr=true`)).status).toBe(204);
    expect(edge.requests.at(-1)).toMatchObject({
      method: 'queue.delete',
      params: { id: stuck.id, ndr: true },
    });
    await c.admin.queue.remove('edge-1', other.id);
    expect(edge.requests.at(-1)).toMatchObject({
      method: 'queue.delete',
      params: { id: other.id, ndr: false },
    });
    expect(await c.admin.queue.list()).toEqual({ nodes: [{ name: 'edge-1', messages: [] }] });

    const audit = (await c.admin.audit()).entries.filter((e) => e.action.startsWith('queue.'));
    expect(audit.map((e) => [e.action, e.actor, e.target])).toEqual([
      ['queue.deleted', 'token:ops', `queue:edge-1/${other.id}`],
      ['queue.deleted', 'token:ops', `queue:edge-1/${stuck.id}`],
      ['queue.retried', 'token:ops', `queue:edge-1/${stuck.id}`],
    ]);
    expect(audit[1]?.details).toMatchObject({
      node: 'edge-1',
      id: stuck.id,
      from: 'alice@example.com',
      recipients: ['bob@outside.example'],
      ndr: true,
      ndrSent: true,
    });
    expect(audit[2]?.details).toMatchObject({
      from: 'alice@example.com',
      attempts: 2,
      lastError: stuck.lastError,
    });
  });

  it('validation: a bad id, a bad node name or a bad ndr is 400 and reaches no node', async () => {
    const c = await startConsole();
    const edge = await attachNode(c, 'edge-1', queueOf([{ ...stuck }]));
    for (const [method, path] of [
      ['POST', `${Q}/edge-1/..%2F..%2Fetc%2Fpasswd/retry`],
      ['POST', `${Q}/edge%201/${stuck.id}/retry`],
      ['DELETE', `${Q}/edge-1/a:b`],
      ['POST', `${Q}/edge-1/${'x'.repeat(199)}:/retry`],
      ['DELETE', `${Q}/edge-1/${stuck.id}?ndr=maybe`],
    ] as const) {
      const res = await c.admin.raw(method, path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).toMatchObject({ type: '/problems/validation-failed' });
    }
    // Past 200 characters the router refuses the path itself.
    const long = await c.admin.raw('DELETE', `${Q}/edge-1/${'x'.repeat(201)}`);
    expect(long.status).toBe(414);
    expect(edge.requests).toEqual([]);
  });

  it('not found: an unknown node, an unknown message; nothing is audited', async () => {
    const c = await startConsole();
    await attachNode(c, 'edge-1', queueOf([]));
    const node = await c.admin.raw('POST', `${Q}/nope/${stuck.id}/retry`);
    expect(node.status).toBe(404);
    expect(node.body).toMatchObject({
      type: '/problems/not-found',
      detail: 'There is no node named nope.',
    });
    const message = await c.admin.raw('DELETE', `${Q}/edge-1/${stuck.id}`);
    expect(message.status).toBe(404);
    expect(message.body).toMatchObject({
      type: '/problems/not-found',
      detail: `edge-1: There is no message ${stuck.id} in the queue.`,
    });
    expect((await c.admin.audit()).entries.filter((e) => e.action.startsWith('queue.'))).toEqual(
      [],
    );
  });

  it('auth: no credentials 401, a read token 403, a node token 403; nothing reaches the node', async () => {
    const c = await startConsole();
    const edge = await attachNode(c, 'edge-1', queueOf([{ ...stuck }]));
    for (const client of [c.anonymous, c.reader, edge.api]) {
      for (const [method, path] of [
        ['POST', `${Q}/edge-1/${stuck.id}/retry`],
        ['DELETE', `${Q}/edge-1/${stuck.id}?ndr=true`],
      ] as const) {
        const res = await client.raw(method, path);
        expect(res.status, `${method} ${path}`).toBe(client === c.anonymous ? 401 : 403);
      }
    }
    expect(edge.requests).toEqual([]);
  });

  it('an offline node is 503; a node that never answers is 504; neither is audited', async () => {
    const c = await startConsole(300);
    await c.browser.nodes.register('edge-2');
    const offline = await c.admin.raw('POST', `${Q}/edge-2/${stuck.id}/retry`);
    expect(offline.status).toBe(503);
    expect(offline.body).toMatchObject({
      type: '/problems/node-offline',
      detail: expect.stringContaining('edge-2'),
    });
    const mute = await attachNode(c, 'mute', () => undefined);
    const timeout = await c.admin.raw('DELETE', `${Q}/mute/${stuck.id}`);
    expect(timeout.status).toBe(504);
    expect(mute.requests).toHaveLength(1);
    // Detached: offline again at once.
    mute.detach();
    await until(() => (c.app.nodeEvents.isConnected(2) ? undefined : true));
    expect((await c.admin.raw('DELETE', `${Q}/mute/${stuck.id}`)).status).toBe(503);
    expect((await c.admin.audit()).entries.filter((e) => e.action.startsWith('queue.'))).toEqual(
      [],
    );
  });
});

describe('PUT /api/v1/node/requests/{id}: answers', () => {
  it("a node cannot answer another node's request, an unknown id, or the same request twice", async () => {
    const c = await startConsole();
    let held: NodeRequest | undefined;
    const edge = await attachNode(c, 'edge-1', (r) => {
      held = r;
      return undefined;
    });
    const intruder = await attachNode(c, 'edge-2', queueOf([]));
    const listing = c.admin.raw('GET', Q);
    const request = await until(() => held);
    const answer: NodeAnswerBody = { ok: true, result: { messages: [stuck] } };
    const wrong = { ok: true, result: { messages: [{ ...stuck, from: 'mallory@evil.example' }] } };
    // edge-2 answers edge-1's request: 404, and edge-1's answer still counts.
    expect(
      (await intruder.api.raw('PUT', `/api/v1/node/requests/${request.id}`, wrong)).status,
    ).toBe(404);
    expect((await edge.api.raw('PUT', '/api/v1/node/requests/0000-unknown', answer)).status).toBe(
      404,
    );
    expect((await edge.api.raw('PUT', `/api/v1/node/requests/${request.id}`, answer)).status).toBe(
      204,
    );
    expect((await edge.api.raw('PUT', `/api/v1/node/requests/${request.id}`, wrong)).status).toBe(
      404,
    );
    const res = await listing;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      nodes: expect.arrayContaining([
        { name: 'edge-1', messages: [stuck] },
        { name: 'edge-2', messages: [] },
      ]),
    });
  });

  it('answers are bounded: no token 401, an API token 401, a malformed body 400, a huge body 413', async () => {
    const c = await startConsole();
    const edge = await attachNode(c, 'edge-1', () => undefined);
    const path = '/api/v1/node/requests/abc';
    expect((await c.anonymous.raw('PUT', path, { ok: true, result: {} })).status).toBe(401);
    expect((await c.admin.raw('PUT', path, { ok: true, result: {} })).status).toBe(401);
    expect((await edge.api.raw('PUT', path, { ok: 'yes' })).status).toBe(400);
    expect(
      (await edge.api.raw('PUT', path, { ok: false, error: { code: 'boom', message: '' } })).status,
    ).toBe(400);
    expect(
      (await edge.api.raw('PUT', '/api/v1/node/requests/..%2Fstatus', { ok: true, result: {} }))
        .status,
    ).toBe(400);
    const huge = { ok: true, result: { messages: [], padding: 'x'.repeat(5 * 1024 * 1024) } };
    expect((await edge.api.raw('PUT', path, huge)).status).toBe(413);
  });

  it('requests waiting for one node are bounded (503 node-busy)', async () => {
    const c = await startConsole(2000);
    await attachNode(c, 'mute', () => undefined);
    const a = c.admin.raw('POST', `${Q}/mute/${stuck.id}/retry`);
    const b = c.admin.raw('POST', `${Q}/mute/${stuck.id}/retry`);
    await until(() => (c.app.nodeRequests.waiting(1) === 2 ? true : undefined));
    const third = await c.admin.raw('POST', `${Q}/mute/${stuck.id}/retry`);
    expect(third.status).toBe(503);
    expect(third.body).toMatchObject({ type: '/problems/node-busy' });
    expect((await a).status).toBe(504);
    expect((await b).status).toBe(504);
  });
});
