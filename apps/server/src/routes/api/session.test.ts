import { describe, expect, it } from 'vitest';
import { ADDRESS_FREE_FAILURES as MAX_FAILED_LOGINS } from '../../plugins/app/sign-in-throttle';
import { ADMIN_PASSWORD, build, login, problem } from '../../testing/helper';

describe('POST /api/v1/session', () => {
  it('signs in: an HttpOnly, SameSite=Strict cookie and a CSRF token', async () => {
    const app = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: { username: 'admin' }, csrfToken: expect.any(String) });
    const cookie = res.cookies.find((c) => c.name === 'ims_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.secure).toBeFalsy(); // plain HTTP here; Secure when served over TLS
  });

  it('refuses a wrong password, and an unknown user, alike', async () => {
    const app = await build();
    for (const username of ['admin', 'nobody']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username, password: 'wrong password' },
      });
      problem(res, 401, 'login-failed');
    }
  });

  it('rejects a malformed body with per-field errors', async () => {
    const app = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'admin' },
    });
    expect(problem(res, 400, 'validation-failed').errors).toEqual([
      { pointer: '/password', detail: expect.any(String) },
    ]);
  });

  it('rate-limits failed sign-ins per client address', async () => {
    const app = await build();
    const attempt = (password: string, remoteAddress = '192.0.2.7') =>
      app.inject({
        method: 'POST',
        url: '/api/v1/session',
        remoteAddress,
        payload: { username: 'admin', password },
      });
    for (let i = 0; i < MAX_FAILED_LOGINS; i++)
      problem(await attempt('wrong'), 401, 'login-failed');
    const limited = await attempt(ADMIN_PASSWORD);
    const body = problem(limited, 429, 'too-many-requests');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // When to try again, in the body too.
    expect(body.retryAfter).toBe(Number(limited.headers['retry-after']));
    // Another address is not affected.
    expect((await attempt(ADMIN_PASSWORD, '192.0.2.8')).statusCode).toBe(200);
  });

  it('a burst of parallel attempts gets no more guesses than the limit', async () => {
    const app = await build();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/session',
          remoteAddress: '192.0.2.9',
          payload: { username: 'admin', password: i === 19 ? ADMIN_PASSWORD : `wrong ${i}` },
        }),
      ),
    );
    const checked = results.filter((r) => r.statusCode !== 429);
    expect(checked.length).toBeLessThanOrEqual(MAX_FAILED_LOGINS);
    expect(results.at(-1)?.statusCode).toBe(429);
  });

  it('a password typed as the user name is not recorded', async () => {
    const app = await build();
    await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'hunter2-secret', password: 'x' },
    });
    const browser = await login(app);
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=login.failed',
      headers: browser.read,
    });
    expect(audit.body).not.toContain('hunter2-secret');
    expect(audit.json().entries[0]).toMatchObject({ actor: '(unknown user)' });
  });
});

describe('GET and DELETE /api/v1/session', () => {
  it('tells who is signed in; 401 without credentials', async () => {
    const app = await build();
    const browser = await login(app);
    const res = await app.inject({ method: 'GET', url: '/api/v1/session', headers: browser.read });
    expect(res.json()).toEqual({ user: { username: 'admin' }, csrfToken: browser.csrfToken });
    problem(await app.inject({ method: 'GET', url: '/api/v1/session' }), 401, 'unauthenticated');
  });

  it('signs out: the cookie no longer works; needs the CSRF token', async () => {
    const app = await build();
    const browser = await login(app);
    problem(
      await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: browser.read }),
      403,
      'csrf-token-missing',
    );
    const res = await app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: browser.write,
    });
    expect(res.statusCode).toBe(204);
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/routing', headers: browser.read }),
      401,
      'unauthenticated',
    );
  });

  it('a token has no browser session to end', async () => {
    const app = await build();
    const browser = await login(app);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: browser.write,
      payload: { name: 'ci', scope: 'write' },
    });
    const res = await app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { authorization: `Bearer ${created.json<{ token: string }>().token}` },
    });
    problem(res, 404, 'not-found');
  });
});
