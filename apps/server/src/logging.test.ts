import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from './app';

describe('structured logs', () => {
  it('never contain passwords, tokens or cookies', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const password = 'a very secret password';
    const app = await buildApp({
      dataDir: ':memory:',
      siteDomain: 'example.com',
      adminPassword: password,
      logger: { level: 'trace', stream },
    });
    onTestFinished(() => app.close());
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'admin', password },
    });
    const cookie = login.cookies.find((c) => c.name === 'ims_session')?.value ?? '';
    const { csrfToken } = login.json<{ csrfToken: string }>();
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie: `ims_session=${cookie}`, 'x-csrf-token': csrfToken },
      payload: { name: 'ci', scope: 'write' },
    });
    const { token } = created.json<{ token: string }>();
    await app.inject({
      method: 'GET',
      url: '/api/v1/routing',
      headers: { authorization: `Bearer ${token}` },
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'admin', password: 'wrong one' },
    });
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    for (const secret of [password, 'wrong one', cookie, csrfToken, token]) {
      expect(secret.length).toBeGreaterThan(5);
      expect(log).not.toContain(secret);
    }
  });
});
