import { createServer, type Server, type Socket } from 'node:net';
import { ApiNetworkError, ApiProblem, createApiClient } from '@ims/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { TEST_PASSWORD_COST } from './testing/helper';

const PASSWORD = 'api-client test password';
let app: Awaited<ReturnType<typeof buildApp>>;
let baseUrl: string;
let token: string;

beforeAll(async () => {
  app = await buildApp({
    dataDir: ':memory:',
    siteDomain: 'example.com',
    adminPassword: PASSWORD,
    passwordCost: TEST_PASSWORD_COST,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  baseUrl = `http://127.0.0.1:${address.port}/`;
  const browser = createApiClient({ baseUrl });
  const session = await browser.login('admin', PASSWORD);
  expect(session.cookie).toMatch(/^ims_session=/);
  const signedIn = createApiClient({
    baseUrl,
    cookie: session.cookie,
    csrfToken: session.csrfToken,
  });
  token = (await signedIn.tokens.create('api-client-test', 'write')).token;
});
afterAll(() => app.close());

describe('api-client against a real console', () => {
  it('reads and writes the routing configuration with If-Match', async () => {
    const api = createApiClient({ baseUrl, token });
    const { data, etag } = await api.routing.get();
    expect(etag).toBe(`"v${data.version}"`);
    expect(data.config.siteDomain).toBe('example.com');
    const next = structuredClone(data.config);
    next.routes.push({ sentTo: 'partner.example', routeTo: 'mx.partner.example' });
    const saved = await api.routing.put({ config: next, comment: 'client test' }, etag);
    expect(saved.data.version).toBe(data.version + 1);
    expect(saved.etag).toBe(`"v${saved.data.version}"`);
    const versions = await api.routing.versions();
    expect(versions.versions[0]?.comment).toBe('client test');
  });

  it('throws ApiProblem with the RFC 9457 body: stale ETag (412)', async () => {
    const api = createApiClient({ baseUrl, token });
    const { data } = await api.routing.get();
    const err = await api.routing.put({ config: data.config }, '"v0"').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    const p = err as ApiProblem;
    expect(p.status).toBe(412);
    expect(p.type).toBe('/problems/precondition-failed');
    expect(p.body.savedBy).toBe('token:api-client-test');
    expect(p.body.currentVersion).toBe(data.version);
  });

  it('throws ApiProblem with per-field errors (422)', async () => {
    const api = createApiClient({ baseUrl, token });
    const { data, etag } = await api.routing.get();
    const bad = { ...data.config, routes: [{ sentTo: 'bad..domain', routeTo: '<inbound>' }] };
    const p = (await api.routing.put({ config: bad }, etag).catch((e: unknown) => e)) as ApiProblem;
    expect(p).toBeInstanceOf(ApiProblem);
    expect(p.status).toBe(422);
    expect(p.title).toBe('The routing configuration is not valid');
    expect(p.errors.map((e) => e.pointer)).toContain('/config/routes/0/sentTo');
  });

  it('throws ApiProblem 401 for a wrong token', async () => {
    const api = createApiClient({ baseUrl, token: 'ims_wrong' });
    const p = (await api.service.status().catch((e: unknown) => e)) as ApiProblem;
    expect(p).toBeInstanceOf(ApiProblem);
    expect(p.status).toBe(401);
    expect(p.type).toBe('/problems/unauthenticated');
  });

  it('evaluates, advises, lists the audit log and the service', async () => {
    const api = createApiClient({ baseUrl, token });
    const r = await api.routing.evaluate({
      against: 'saved',
      clientIp: '203.0.113.9',
      serverIp: '127.0.0.1',
      authenticated: false,
      mailFrom: '<a@remote.example>',
      rcptTo: '<b@elsewhere.example>',
    });
    expect(r.reply.line).toBe('550 5.7.1 Relaying is prohibited');
    const { data } = await api.routing.get();
    const open = {
      ...data.config,
      restrictions: { ...data.config.restrictions, authenticated: false },
    };
    expect((await api.routing.advice(open)).findings.map((f) => f.id)).toContain('open-relay');
    expect((await api.audit({ limit: 5 })).entries.length).toBeGreaterThan(0);
    expect((await api.service.status()).savedVersion).toBeGreaterThan(0);
    expect(await api.health()).toEqual({ status: 'ok' });
  });

  it('throws ApiNetworkError when nothing listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const api = createApiClient({ baseUrl: `http://127.0.0.1:${port}`, token });
    const err = (await api.health().catch((e: unknown) => e)) as ApiNetworkError;
    expect(err).toBeInstanceOf(ApiNetworkError);
    expect(err.timedOut).toBe(false);
    expect(err.message).toMatch(/Cannot reach the console/);
  });

  it('times out when the console does not answer', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => {
      sockets.push(s);
    });
    const port = await new Promise<number>((resolve) => {
      silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port));
    });
    try {
      const api = createApiClient({ baseUrl: `http://127.0.0.1:${port}`, token, timeoutMs: 200 });
      const err = (await api.health().catch((e: unknown) => e)) as ApiNetworkError;
      expect(err).toBeInstanceOf(ApiNetworkError);
      expect(err.timedOut).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a 2xx that is not JSON (a proxy page), or a body cut off by the timeout, is an ApiNetworkError', async () => {
    const sockets: Socket[] = [];
    const odd: Server = createServer((socket) => {
      sockets.push(socket);
      socket.once('data', (chunk) => {
        if (String(chunk).startsWith('GET /healthz')) {
          socket.end(
            'HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\r\n<html></html>',
          );
        } else {
          // Headers, half a body, then nothing.
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":',
          );
        }
      });
    });
    const port = await new Promise<number>((resolve) => {
      odd.listen(0, '127.0.0.1', () => resolve((odd.address() as { port: number }).port));
    });
    try {
      const api = createApiClient({ baseUrl: `http://127.0.0.1:${port}`, token, timeoutMs: 300 });
      const html = (await api.health().catch((e: unknown) => e)) as ApiNetworkError;
      expect(html).toBeInstanceOf(ApiNetworkError);
      expect(html.message).toMatch(/not JSON/);
      const cut = (await api.service.status().catch((e: unknown) => e)) as ApiNetworkError;
      expect(cut).toBeInstanceOf(ApiNetworkError);
      expect(cut.timedOut).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => odd.close(r));
    }
  });
});
