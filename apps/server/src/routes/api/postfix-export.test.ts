import { defaultConfig } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { build, login, problem, token } from '../../testing/helper';

let app: FastifyInstance;
afterEach(async () => {
  await app?.close();
});

async function save(config: ReturnType<typeof defaultConfig>, acknowledge: string[] = []) {
  const browser = await login(app);
  const current = await app.inject({
    method: 'GET',
    url: '/api/v1/routing',
    headers: browser.read,
  });
  const res = await app.inject({
    method: 'PUT',
    url: '/api/v1/routing',
    headers: { ...browser.write, 'if-match': String(current.headers.etag) },
    payload: { config, comment: 'postfix export test', acknowledge },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ version: number }>().version;
}

describe('GET /api/v1/routing/versions/:n/export/postfix', () => {
  it("renders a version as Postfix's files, with the directory's mailboxes and the given listeners", async () => {
    app = await build();
    const auth = await token(app, 'read');
    const browser = await login(app);
    await app.inject({
      method: 'POST',
      url: '/api/v1/directory/mailboxes',
      headers: browser.write,
      payload: {
        address: 'alice@example.com',
        displayName: 'Alice',
        password: 'long enough password',
      },
    });
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/routing/versions/1/export/postfix?listen=192.0.2.5,192.0.2.6&port=2525&smartHost=relay.example.net:587&saslSocket=/run/ims/auth',
      headers: auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ version: number; files: Record<string, string> }>();
    expect(body.version).toBe(1);
    expect(Object.keys(body.files)).toEqual(expect.arrayContaining(['main.cf', 'master.cf']));
    expect(body.files['master.cf']).toContain('192.0.2.5:2525 inet n - n - - smtpd');
    expect(body.files['master.cf']).toContain('192.0.2.6:2525 inet n - n - - smtpd');
    expect(body.files['main.cf']).toContain('relayhost = [relay.example.net]:587');
    expect(body.files['main.cf']).toContain('smtpd_sasl_path = /run/ims/auth');
    expect(body.files['main.cf']).toContain('relay_domains =\n');
    expect(body.files['mailboxes.texthash']).toContain('alice@example.com alice@example.com/');
    // Addresses only: never a password hash.
    expect(JSON.stringify(body)).not.toContain('scrypt$');
  });

  it('answers 422 postfix-unsupported for what Postfix cannot express, with the field', async () => {
    app = await build();
    const c = defaultConfig('example.com');
    c.restrictions.internalAddresses = {
      enabled: true,
      entries: [{ ip: '192.0.2.5', mask: '255.255.255.255' }],
    };
    const n = await save(c);
    const auth = await token(app, 'read');
    const wildcard = await app.inject({
      method: 'GET',
      url: `/api/v1/routing/versions/${n}/export/postfix`,
      headers: auth,
    });
    const body = problem(wildcard, 422, 'postfix-unsupported');
    expect(body.errors).toEqual([
      {
        pointer: '/restrictions/internalAddresses',
        detail: expect.stringContaining('policy service'),
      },
    ]);
    const named = await app.inject({
      method: 'GET',
      url: `/api/v1/routing/versions/${n}/export/postfix?listen=192.0.2.5`,
      headers: auth,
    });
    expect(named.statusCode).toBe(200);
  });

  it('answers 404 for a version that does not exist, 400 for bad parameters, 401 without credentials', async () => {
    app = await build();
    const auth = await token(app, 'read');
    problem(
      await app.inject({
        method: 'GET',
        url: '/api/v1/routing/versions/99/export/postfix',
        headers: auth,
      }),
      404,
      'not-found',
    );
    for (const q of [
      'port=0',
      'port=70000',
      'listen=a;b',
      'saslSocket=relative',
      'smartHost=a%20b',
      'myhostname=a$b',
    ]) {
      problem(
        await app.inject({
          method: 'GET',
          url: `/api/v1/routing/versions/1/export/postfix?${q}`,
          headers: auth,
        }),
        400,
        'validation-failed',
      );
    }
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/routing/versions/1/export/postfix' }),
      401,
      'unauthenticated',
    );
  });
});
