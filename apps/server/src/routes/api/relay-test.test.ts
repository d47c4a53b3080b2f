import { createServer, type Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { build, login, problem, token } from '../../testing/helper';
import { parseListen } from './relay-test';

/** A stand-in SMTP service: postmaster is accepted, every other recipient refused. */
const servers: Server[] = [];
const peers: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
async function fakeSmtp(acceptAll = false): Promise<number> {
  const server = createServer((socket) => {
    peers.push(socket.remoteAddress ?? '');
    socket.write('220 fake ESMTP\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += String(chunk);
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i).toUpperCase();
        buffer = buffer.slice(i + 2);
        if (line.startsWith('RCPT')) {
          socket.write(
            acceptAll || /<POSTMASTER(@EXAMPLE\.COM)?>/.test(line)
              ? '250 2.1.5 Recipient OK\r\n'
              : '550 5.7.1 Relaying is prohibited\r\n',
          );
        } else if (line.startsWith('QUIT')) socket.end('221 2.0.0 Bye\r\n');
        else socket.write('250 2.0.0 OK\r\n');
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** Registers a node that reports it runs version 1 and listens on `listen`. */
async function onlineNode(app: FastifyInstance, listen: string[], runningVersion = 1) {
  const browser = await login(app);
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes',
    headers: browser.write,
    payload: { name: `node-${listen.length}-${Date.now()}` },
  });
  const node = created.json<{ id: number; token: string }>();
  const res = await app.inject({
    method: 'PUT',
    url: '/api/v1/node/status',
    headers: { authorization: `Bearer ${node.token}` },
    payload: {
      runningVersion,
      state: 'running',
      listen,
      startedAt: new Date().toISOString(),
      counters: {},
    },
  });
  expect(res.statusCode).toBe(204);
  return node.id;
}

describe('POST /api/v1/service/relay-test', () => {
  it('runs the battery against the first online node from the chosen source address', async () => {
    const app = await build();
    const port = await fakeSmtp();
    await onlineNode(app, [`127.0.0.1:${port}`]);
    const auth = await token(app, 'write');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/service/relay-test',
      headers: auth,
      payload: { from: '127.0.0.3' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      from: string;
      target: { host: string; port: number };
      passed: boolean;
      cases: { id: string; expected: string; reply: string; passed: boolean }[];
    }>();
    expect(body.from).toBe('127.0.0.3');
    expect(body.target).toEqual({ host: '127.0.0.1', port });
    expect(body.passed).toBe(true);
    expect(body.cases.find((c) => c.id === 'plain-outside')).toMatchObject({
      expected: 'reject',
      reply: '550 5.7.1 Relaying is prohibited',
      passed: true,
    });
    expect(peers.at(-1)).toBe('127.0.0.3');
    // The verdict in words, and no source that may relay.
    expect(body).not.toHaveProperty('sourceMayRelay');
    expect(res.json().summary).toBe(
      `0 of ${body.cases.length} cases relayed. Every case as expected.`,
    );
    expect(res.json().cases.every((c: { relayed: boolean }) => !c.relayed)).toBe(true);

    // Audited, with the outcome.
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=service.relay-test',
      headers: auth,
    });
    expect(audit.json().entries[0]).toMatchObject({
      actor: 'token:write-script',
      action: 'service.relay-test',
      details: { from: '127.0.0.3', passed: true, failed: [] },
    });

    // No body: the defaults (127.0.0.1).
    const defaults = await app.inject({
      method: 'POST',
      url: '/api/v1/service/relay-test',
      headers: auth,
    });
    expect(defaults.statusCode).toBe(200);
    expect(defaults.json().from).toBe('127.0.0.1');
  });

  it('is not fooled by a never-routed source: inconclusive, and an open relay for the outside world fails', async () => {
    const app = await build();
    const port = await fakeSmtp();
    const browser = await login(app);
    // Reroute with no restriction ticked (an open relay), but 127/8 never routes.
    const current = await app.inject({
      method: 'GET',
      url: '/api/v1/routing',
      headers: browser.read,
    });
    const config = current.json<{ config: Record<string, unknown> }>().config as {
      restrictions: { authenticated: boolean; neverRoute: unknown[] };
    };
    config.restrictions.authenticated = false;
    config.restrictions.neverRoute = [{ ip: '127.0.0.0', mask: '255.0.0.0' }];
    const saved = await app.inject({
      method: 'PUT',
      url: '/api/v1/routing',
      headers: { ...browser.write, 'if-match': current.headers.etag as string },
      payload: { config, acknowledge: ['open-relay'] },
    });
    expect(saved.statusCode).toBe(200);
    await onlineNode(app, [`127.0.0.1:${port}`], 2);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/service/relay-test',
      headers: await token(app, 'write'),
      payload: { from: '127.0.0.3' },
    });
    const body = res.json<{
      passed: boolean;
      cases: { id: string; passed: boolean; reply: string }[];
    }>();
    expect(body.passed).toBe(false);
    expect(body.cases.find((c) => c.id === 'source-never-route')?.passed).toBe(false);
    const outside = body.cases.find((c) => c.id === 'outside-client');
    expect(outside?.passed).toBe(false);
    expect(outside?.reply).toMatch(/250 2\.1\.5/);
    // A never-routed source may not relay, open relay or not: no note says it may.
    expect(body).not.toHaveProperty('sourceMayRelay');
  });

  it('says so at the top when the source itself may relay, and does not list its relays as failures', async () => {
    const app = await build();
    const port = await fakeSmtp(true);
    const browser = await login(app);
    const current = await app.inject({
      method: 'GET',
      url: '/api/v1/routing',
      headers: browser.read,
    });
    const config = current.json<{ config: Record<string, unknown> }>().config as {
      restrictions: { clientAddresses: { enabled: boolean; entries: unknown[] } };
    };
    config.restrictions.clientAddresses = {
      enabled: true,
      entries: [{ ip: '127.0.0.0', mask: '255.0.0.0' }],
    };
    const saved = await app.inject({
      method: 'PUT',
      url: '/api/v1/routing',
      headers: { ...browser.write, 'if-match': current.headers.etag as string },
      payload: { config },
    });
    expect(saved.statusCode).toBe(200);
    await onlineNode(app, [`127.0.0.1:${port}`], 2);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/service/relay-test',
      headers: await token(app, 'write'),
      payload: { from: '127.0.0.3' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      passed: boolean;
      summary: string;
      sourceMayRelay?: string;
      cases: { id: string; passed: boolean; relayed: boolean; expected: string }[];
    }>();
    expect(body.sourceMayRelay).toMatch(
      /^127\.0\.0\.3 may relay by the running configuration: it is on the list of "Hosts and clients with these IP addresses"\./,
    );
    const relayed = body.cases.filter((c) => c.relayed);
    expect(relayed.length).toBeGreaterThan(5);
    expect(relayed.every((c) => c.passed && c.expected === 'reject')).toBe(true);
    // The outside world still may not relay: the check that means something here.
    expect(body.cases.find((c) => c.id === 'outside-client')).toMatchObject({
      passed: true,
      relayed: false,
    });
    expect(body.passed).toBe(true);
    expect(body.summary).toMatch(
      new RegExp(
        `^${relayed.length} of ${body.cases.length} cases relayed: [a-z0-9, -]+ \\(the source address may relay\\)\\. Every case as expected\\.$`,
      ),
    );
  });

  it('reports a node that does not answer as failing, with the reason', async () => {
    const app = await build();
    const port = await fakeSmtp();
    await new Promise((r) => servers.pop()?.close(r));
    await onlineNode(app, [`127.0.0.1:${port}`]);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/service/relay-test',
      headers: await token(app, 'write'),
      payload: {},
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().passed).toBe(false);
    expect(res.json().cases[0].reply).toMatch(/^no answer: connection refused/);
  });

  it('refuses a source address that is not loopback (422), and bad bodies (400)', async () => {
    const app = await build();
    const auth = await token(app, 'write');
    for (const from of ['192.0.2.1', '0.0.0.0', 'localhost', '127.0.0.999']) {
      const body = problem(
        await app.inject({
          method: 'POST',
          url: '/api/v1/service/relay-test',
          headers: auth,
          payload: { from },
        }),
        422,
        'source-not-loopback',
      );
      expect(body.errors).toEqual([{ pointer: '/from', detail: 'Must be a loopback IP address.' }]);
    }
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/service/relay-test',
        headers: auth,
        payload: { from: '127.0.0.1', extra: 1 },
      }),
      400,
      'validation-failed',
    );
  });

  it('409 for a node that listens on another machine: the test is no way out', async () => {
    const app = await build();
    await onlineNode(app, ['192.0.2.10:25']);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/service/relay-test',
      headers: await token(app, 'write'),
      payload: { from: '127.0.0.1' },
    });
    problem(res, 409, 'conflict');
    expect(res.json<{ detail: string }>().detail).toMatch(/not this machine/);
  });

  it('409 without an online node, 404 for an unknown node', async () => {
    const app = await build();
    const auth = await token(app, 'write');
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/service/relay-test', headers: auth }),
      409,
      'conflict',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/service/relay-test',
        headers: auth,
        payload: { node: 99 },
      }),
      404,
      'not-found',
    );
  });

  it('needs a write credential', async () => {
    const app = await build();
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/service/relay-test', payload: {} }),
      401,
      'unauthenticated',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/service/relay-test',
        headers: await token(app, 'read'),
        payload: {},
      }),
      403,
      'forbidden',
    );
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:2525', { host: '127.0.0.1', port: 2525 }],
    ['[::1]:25', { host: '::1', port: 25 }],
    ['0.0.0.0:2525', { host: '127.0.0.1', port: 2525 }],
    ['[::]:2525', { host: '::1', port: 2525 }],
    ['nonsense', undefined],
  ])('%s', (listen, expected) => {
    expect(parseListen(listen)).toEqual(expected);
  });
});
