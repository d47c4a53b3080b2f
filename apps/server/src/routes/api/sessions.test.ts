import { DEFAULT_PARAMS, hashPassword, parseHash } from '@ims/passwords';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../app';
import {
  ADMIN_PASSWORD,
  type Browser,
  build,
  login,
  problem,
  TEST_PASSWORD_COST,
  token,
} from '../../testing/helper';

const NEW_PASSWORD = 'a brand new admin password';

function signIn(app: FastifyInstance, password: string, userAgent = 'test-agent/1') {
  return app.inject({
    method: 'POST',
    url: '/api/v1/session',
    headers: { 'user-agent': userAgent },
    remoteAddress: '192.0.2.10',
    payload: { username: 'admin', password },
  });
}

async function mint(app: FastifyInstance, browser: Browser, name: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: browser.write,
    payload: { name, scope: 'write' },
  });
  expect(res.statusCode).toBe(201);
  return { authorization: `Bearer ${res.json<{ token: string }>().token}` };
}

const changePassword = (
  app: FastifyInstance,
  headers: Record<string, string>,
  body: Record<string, unknown>,
) => app.inject({ method: 'PUT', url: '/api/v1/session/password', headers, payload: body });

describe('PUT /api/v1/session/password', () => {
  it('changes the password; the old one stops working; every other session (and its tokens) is signed out', async () => {
    const app = await build();
    const me = await login(app);
    const other = await login(app);
    const otherToken = await mint(app, other, 'from-other-session');
    const myToken = await mint(app, me, 'from-my-session');
    const res = await changePassword(app, me.write, {
      currentPassword: ADMIN_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revokedSessions: 1, revokedTokens: 1 });
    // This session goes on; the other one and the token it made do not.
    expect((await app.inject({ url: '/api/v1/routing', headers: me.read })).statusCode).toBe(200);
    problem(
      await app.inject({ url: '/api/v1/routing', headers: other.read }),
      401,
      'unauthenticated',
    );
    problem(
      await app.inject({ url: '/api/v1/routing', headers: otherToken }),
      401,
      'unauthenticated',
    );
    expect((await app.inject({ url: '/api/v1/routing', headers: myToken })).statusCode).toBe(200);
    problem(await signIn(app, ADMIN_PASSWORD), 401, 'login-failed');
    expect((await signIn(app, NEW_PASSWORD)).statusCode).toBe(200);
    expect(app.audit.list({ limit: 5 }).map((e) => e.action)).toContain('password.changed');
  });

  it('refuses a wrong current password (403, field error) and changes nothing; five wrong ones end the tries', async () => {
    const app = await build();
    const me = await login(app);
    for (let i = 0; i < 5; i++) {
      const res = await changePassword(app, me.write, {
        currentPassword: `wrong ${i}`,
        newPassword: NEW_PASSWORD,
      });
      expect(problem(res, 403, 'forbidden').errors).toEqual([
        { pointer: '/currentPassword', detail: 'is not right' },
      ]);
    }
    const sixth = await changePassword(app, me.write, {
      currentPassword: ADMIN_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    problem(sixth, 429, 'too-many-requests');
    expect((await signIn(app, ADMIN_PASSWORD)).statusCode).toBe(200);
  });

  it('is for a signed-in user only: a token gets 403, no CSRF token 403, a short password 400', async () => {
    const app = await build();
    const me = await login(app);
    const body = { currentPassword: ADMIN_PASSWORD, newPassword: NEW_PASSWORD };
    problem(await changePassword(app, await token(app, 'write'), body), 403, 'forbidden');
    problem(await changePassword(app, me.read, body), 403, 'csrf-token-missing');
    problem(await changePassword(app, {}, body), 401, 'unauthenticated');
    const short = await changePassword(app, me.write, { ...body, newPassword: 'short' });
    expect(problem(short, 400, 'validation-failed').errors).toEqual([
      expect.objectContaining({ pointer: '/newPassword' }),
    ]);
    const same = await changePassword(app, me.write, { ...body, newPassword: ADMIN_PASSWORD });
    problem(same, 400, 'validation-failed');
    expect((await signIn(app, ADMIN_PASSWORD)).statusCode).toBe(200);
  });
});

describe('GET /api/v1/sessions and DELETE /api/v1/sessions/:id', () => {
  it('lists sessions with created, last seen, client address, user agent and which is current', async () => {
    const app = await build();
    const res = await signIn(app, ADMIN_PASSWORD, 'Mozilla/5.0 (test)');
    const cookie = `ims_session=${res.cookies.find((c) => c.name === 'ims_session')?.value}`;
    const other = await login(app);
    const list = await app.inject({ url: '/api/v1/sessions', headers: { cookie } });
    expect(list.statusCode).toBe(200);
    const sessions = list.json<{ sessions: Record<string, unknown>[] }>().sessions;
    expect(sessions).toHaveLength(2);
    const mine = sessions.find((s) => s.current === true);
    expect(mine).toMatchObject({
      username: 'admin',
      clientAddress: '192.0.2.10',
      userAgent: 'Mozilla/5.0 (test)',
    });
    expect(mine?.id).toMatch(/^[0-9a-f]{24}$/);
    expect(typeof mine?.lastSeenAt).toBe('string');
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    // Nothing secret in the list: not the cookie, not the CSRF token.
    expect(list.body).not.toContain(cookie.split('=')[1]);
    expect(list.body).not.toContain(other.csrfToken);
  });

  it('revokes another session and the tokens created in it; tokens of a signed-out session stay', async () => {
    const app = await build();
    const me = await login(app);
    const intruder = await login(app);
    const minted = await mint(app, intruder, 'intruder-token');
    // `ims login`: sign in, make a token, sign out; the token stays.
    const cli = await login(app);
    const cliToken = await mint(app, cli, 'cli-token');
    await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: cli.write });
    expect((await app.inject({ url: '/api/v1/routing', headers: cliToken })).statusCode).toBe(200);

    const list = await app.inject({ url: '/api/v1/sessions', headers: me.read });
    const sessions = list.json<{ sessions: { id: string; current: boolean }[] }>().sessions;
    expect(sessions).toHaveLength(2);
    const target = sessions.find((s) => !s.current);
    if (!target) throw new Error('no other session');
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/sessions/${target.id}`,
      headers: me.write,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revokedTokens: 1 });
    problem(
      await app.inject({ url: '/api/v1/routing', headers: intruder.read }),
      401,
      'unauthenticated',
    );
    problem(await app.inject({ url: '/api/v1/routing', headers: minted }), 401, 'unauthenticated');
    expect((await app.inject({ url: '/api/v1/routing', headers: cliToken })).statusCode).toBe(200);
    expect(app.audit.list({ limit: 1 })[0]).toMatchObject({
      action: 'session.revoked',
      target: `session:${target.id}`,
    });
    // Gone: 404; malformed: 400; a read token: 403.
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/sessions/${target.id}`,
      headers: me.write,
    });
    problem(again, 404, 'not-found');
    problem(
      await app.inject({ method: 'DELETE', url: '/api/v1/sessions/nothex', headers: me.write }),
      400,
      'validation-failed',
    );
    problem(
      await app.inject({
        method: 'DELETE',
        url: `/api/v1/sessions/${target.id}`,
        headers: await token(app, 'read'),
      }),
      403,
      'forbidden',
    );
    problem(await app.inject({ url: '/api/v1/sessions' }), 401, 'unauthenticated');
  });
});

describe('sign-in hardening (issue 13 item 11)', () => {
  it('refuses a body over 4 KB with 413 before parsing it', async () => {
    const app = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { 'content-type': 'application/json' },
      payload: `{"username":"admin","password":"${'x'.repeat(5000)}"}`,
    });
    problem(res, 413, 'payload-too-large');
    // Not a failed sign-in: it never got that far.
    expect(app.audit.list({ limit: 1 })[0]?.action).not.toBe('login.failed');
  });

  it('hashes an old, cheaper password hash again at the current cost at the next sign-in', async () => {
    // The console's cost here is 2^11; the stored hash is at 2^10, as an older install wrote.
    const cost = { N: 2 ** 11, r: 8, p: 1 };
    const app = await buildApp({
      dataDir: ':memory:',
      siteDomain: 'example.com',
      adminPassword: ADMIN_PASSWORD,
      passwordCost: cost,
    });
    onTestFinished(() => app.close());
    const old = await hashPassword(ADMIN_PASSWORD, TEST_PASSWORD_COST);
    app.db.prepare("UPDATE users SET password_hash = ? WHERE username = 'admin'").run(old);
    problem(await signIn(app, 'wrong password'), 401, 'login-failed');
    const stored = () =>
      (
        app.db.prepare("SELECT password_hash FROM users WHERE username = 'admin'").get() as {
          password_hash: string;
        }
      ).password_hash;
    expect(stored()).toBe(old);
    expect((await signIn(app, ADMIN_PASSWORD)).statusCode).toBe(200);
    const upgraded = stored();
    expect(upgraded).not.toBe(old);
    expect(parseHash(upgraded)?.params).toEqual(cost);
    expect((await signIn(app, ADMIN_PASSWORD)).statusCode).toBe(200);
  });

  it('without a test cost, the console hashes at OWASP’s minimum (N = 2^17, r = 8, p = 1)', async () => {
    const app = await buildApp({ dataDir: ':memory:', siteDomain: 'example.com' });
    try {
      const row = app.db.prepare('SELECT password_hash FROM users').get() as {
        password_hash: string;
      };
      expect(parseHash(row.password_hash)?.params).toEqual(DEFAULT_PARAMS);
      expect(DEFAULT_PARAMS.N).toBeGreaterThanOrEqual(2 ** 17);
    } finally {
      await app.close();
    }
  }, 60_000);
});
