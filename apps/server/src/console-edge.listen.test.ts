/**
 * The console's edge over real sockets (issue 13, items 7-9): sign-in
 * throttling by the real client address (clients bound to 127.0.0.x with
 * `localAddress`), a reverse proxy's X-Forwarded-* believed only when
 * trusted, and the console on HTTPS with a self-signed certificate.
 */

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { selfSignedCert, tempDir } from '@ims/test-support';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type AppOptions, buildApp } from './app';
import { ADMIN_PASSWORD } from './testing/helper';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

async function start(
  options: Partial<AppOptions> = {},
): Promise<{ app: FastifyInstance; port: number }> {
  const app = await buildApp({
    dataDir: ':memory:',
    siteDomain: 'example.com',
    adminPassword: ADMIN_PASSWORD,
    webDir: '/nonexistent/ims-web-dist',
    ...options,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  onTestFinished(() => app.close());
  return { app, port: (app.server.address() as { port: number }).port };
}

function send(
  port: number,
  opts: {
    method?: string;
    path: string;
    body?: unknown;
    localAddress?: string;
    headers?: Record<string, string>;
    tls?: { ca: Buffer; servername?: string };
  },
): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const options = {
    host: '127.0.0.1',
    port,
    method: opts.method ?? 'GET',
    path: opts.path,
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    headers: {
      ...(payload ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
  };
  return new Promise((resolve, reject) => {
    const done = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    };
    const req = opts.tls
      ? httpsRequest({ ...options, ca: opts.tls.ca, servername: opts.tls.servername }, done)
      : httpRequest(options, done);
    req.on('error', reject);
    req.end(payload);
  });
}

const signIn = (port: number, password: string, localAddress: string, username = 'admin') =>
  send(port, {
    method: 'POST',
    path: '/api/v1/session',
    body: { username, password },
    localAddress,
  });

describe('sign-in throttling by client address and account (real sockets)', () => {
  it('five wrong passwords from 127.0.0.1 do not lock out the right password from 127.0.0.2', async () => {
    const { port } = await start();
    for (let i = 0; i < 5; i++) {
      expect((await signIn(port, `wrong ${i}`, '127.0.0.1')).status).toBe(401);
    }
    const locked = await signIn(port, ADMIN_PASSWORD, '127.0.0.1');
    expect(locked.status).toBe(429);
    expect((await signIn(port, ADMIN_PASSWORD, '127.0.0.2')).status).toBe(200);
  });

  it('guesses spread over 127.0.0.2..127.0.0.20 are throttled per account; the administrator still gets in', async () => {
    const { port } = await start();
    const answers: Answer[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 2; i <= 20; i++)
        answers.push(await signIn(port, `guess ${round} ${i}`, `127.0.0.${i}`));
    }
    const throttled = answers.filter((a) => a.status === 429);
    // No address reached its own limit (3 failures each): the account's counter caught them.
    expect(throttled.length).toBeGreaterThanOrEqual(19 * 2 - 1);
    expect(answers.filter((a) => a.status === 401).length).toBeLessThan(19 + 10 + 1);
    const first = throttled[0] as Answer;
    const retryAfter = Number(first.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(first.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(first.body)).toMatchObject({
      type: '/problems/too-many-requests',
      status: 429,
      retryAfter,
    });
    // A right password from an address with no failures signs in all the same.
    expect((await signIn(port, ADMIN_PASSWORD, '127.0.0.21')).status).toBe(200);
    // About 30 of the 57 attempts check a password (scrypt at its real cost):
    // on a loaded 2-core machine that alone has taken over 30 s.
  }, 120_000);
});

describe('behind a reverse proxy (IMS_TRUST_PROXY)', () => {
  const forwarded = { 'x-forwarded-for': '203.0.113.77', 'x-forwarded-proto': 'https' };

  async function lastSignInSource(app: FastifyInstance): Promise<string> {
    const row = app.db
      .prepare("SELECT source FROM audit_log WHERE action LIKE 'login%' ORDER BY id DESC LIMIT 1")
      .get() as { source: string } | undefined;
    return row?.source ?? '';
  }

  it('without trust, X-Forwarded-For and -Proto are ignored: throttle, audit and cookie see the peer', async () => {
    const { app, port } = await start();
    for (let i = 0; i < 5; i++) {
      const res = await send(port, {
        method: 'POST',
        path: '/api/v1/session',
        body: { username: 'admin', password: 'wrong' },
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
      expect(res.status).toBe(401);
    }
    expect(await lastSignInSource(app)).toBe('127.0.0.1');
    // A spoofed address does not get the client a fresh counter.
    const spoofed = await send(port, {
      method: 'POST',
      path: '/api/v1/session',
      body: { username: 'admin', password: ADMIN_PASSWORD },
      headers: forwarded,
    });
    expect(spoofed.status).toBe(429);
    const ok = await send(port, {
      method: 'POST',
      path: '/api/v1/session',
      body: { username: 'admin', password: ADMIN_PASSWORD },
      headers: forwarded,
      localAddress: '127.0.0.3',
    });
    expect(ok.status).toBe(200);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/^ims_session=/);
    expect(cookie).not.toMatch(/Secure/i);
    expect(ok.headers['strict-transport-security']).toBeUndefined();
  });

  it('trusted, the audit log and the throttle see the forwarded client; HTTPS per X-Forwarded-Proto gets a __Host- Secure cookie', async () => {
    const { app, port } = await start({ trustProxy: ['127.0.0.1'] });
    for (let i = 0; i < 5; i++) {
      const res = await send(port, {
        method: 'POST',
        path: '/api/v1/session',
        body: { username: 'admin', password: 'wrong' },
        headers: forwarded,
      });
      expect(res.status).toBe(401);
    }
    expect(await lastSignInSource(app)).toBe('203.0.113.77');
    const locked = await send(port, {
      method: 'POST',
      path: '/api/v1/session',
      body: { username: 'admin', password: ADMIN_PASSWORD },
      headers: forwarded,
    });
    expect(locked.status).toBe(429);
    // Another client behind the same proxy is not the one that failed.
    const other = await send(port, {
      method: 'POST',
      path: '/api/v1/session',
      body: { username: 'admin', password: ADMIN_PASSWORD },
      headers: { ...forwarded, 'x-forwarded-for': '203.0.113.78' },
    });
    expect(other.status).toBe(200);
    const cookie = String(other.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-ims_session=/);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(other.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    // The cookie works under its HTTPS name, and not on plain HTTP.
    const session = cookie.split(';')[0] as string;
    const me = await send(port, {
      path: '/api/v1/session',
      headers: { ...forwarded, cookie: session },
    });
    expect(me.status).toBe(200);
    const plain = await send(port, {
      path: '/api/v1/session',
      headers: { 'x-forwarded-for': '203.0.113.78', cookie: session },
    });
    expect(plain.status).toBe(401);
  });

  it('a proxy that is not in the trusted list is not believed', async () => {
    const { app, port } = await start({ trustProxy: ['10.0.0.0/8'] });
    await send(port, {
      method: 'POST',
      path: '/api/v1/session',
      body: { username: 'admin', password: 'wrong' },
      headers: forwarded,
    });
    expect(await lastSignInSource(app)).toBe('127.0.0.1');
  });
});

describe('the console on HTTPS (IMS_HTTP_TLS_CERT / IMS_HTTP_TLS_KEY)', () => {
  it('serves HTTPS with the certificate; the session cookie is __Host- and Secure; HSTS is sent', async () => {
    const dir = tempDir('ims-console-tls-');
    onTestFinished(dir.remove);
    const cert = selfSignedCert(dir.path);
    const { port } = await start({ tls: { cert: cert.cert, key: cert.key } });
    const health = await send(port, { path: '/healthz', tls: { ca: cert.cert } });
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const ok = await send(port, {
      method: 'POST',
      path: '/api/v1/session',
      body: { username: 'admin', password: ADMIN_PASSWORD },
      tls: { ca: cert.cert },
    });
    expect(ok.status).toBe(200);
    expect(String(ok.headers['set-cookie'])).toMatch(/^__Host-ims_session=[^;]+;.*Secure/i);
    // Plain HTTP to the HTTPS port gets nothing useful.
    const plain = await send(port, { path: '/healthz' }).catch(() => undefined);
    expect(plain?.status ?? 400).toBe(400);
    // An untrusting client refuses the self-signed certificate.
    await expect(send(port, { path: '/healthz', tls: { ca: Buffer.from('') } })).rejects.toThrow();
  });

  it('plain HTTP sends no HSTS and no upgrade-insecure-requests (a LAN address still loads the UI)', async () => {
    const { port } = await start();
    const res = await send(port, { path: '/healthz' });
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(String(res.headers['content-security-policy'])).not.toContain(
      'upgrade-insecure-requests',
    );
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
  });
});
