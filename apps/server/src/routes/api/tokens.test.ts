import { describe, expect, it } from 'vitest';
import { build, login, problem, token } from '../../testing/helper';

describe('/api/v1/tokens', () => {
  it('creates a token shown once, lists it without its secret, and it authenticates', async () => {
    const app = await build();
    const browser = await login(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: browser.write,
      payload: { name: 'deploy', scope: 'write' },
    });
    expect(res.statusCode).toBe(201);
    const created = res.json<{ id: number; token: string }>();
    expect(created).toMatchObject({ name: 'deploy', scope: 'write', createdBy: 'admin' });
    expect(created.token).toMatch(/^ims_/);
    const list = await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: browser.read });
    expect(list.json().tokens).toEqual([
      expect.objectContaining({ id: created.id, name: 'deploy' }),
    ]);
    expect(list.body).not.toContain(created.token);
    const used = await app.inject({
      method: 'GET',
      url: '/api/v1/routing',
      headers: { authorization: `Bearer ${created.token}` },
    });
    expect(used.statusCode).toBe(200);
  });

  it('validates the body', async () => {
    const app = await build();
    const browser = await login(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: browser.write,
      payload: { name: 'x y', scope: 'admin' },
    });
    const body = problem(res, 400, 'validation-failed');
    expect((body.errors as { pointer: string }[]).map((e) => e.pointer)).toEqual(
      expect.arrayContaining(['/name', '/scope']),
    );
  });

  it('401 without credentials, 401 with a bad token, 403 for a read token, 403 without CSRF', async () => {
    const app = await build();
    const payload = { name: 'x', scope: 'read' };
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/tokens', payload }),
      401,
      'unauthenticated',
    );
    problem(
      await app.inject({
        method: 'GET',
        url: '/api/v1/tokens',
        headers: { authorization: 'Bearer ims_nope' },
      }),
      401,
      'unauthenticated',
    );
    const reader = await token(app, 'read');
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: reader, payload }),
      403,
      'forbidden',
    );
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: reader })).statusCode,
    ).toBe(200);
    const browser = await login(app);
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: browser.read, payload }),
      403,
      'csrf-token-missing',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: { ...browser.read, 'x-csrf-token': 'forged' },
        payload,
      }),
      403,
      'csrf-token-missing',
    );
  });

  it('revokes a token: it stops working; unknown ids are 404', async () => {
    const app = await build();
    const browser = await login(app);
    const writer = await token(app, 'write', 'temp');
    const list = await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: browser.read });
    const id = list
      .json<{ tokens: { id: number; name: string }[] }>()
      .tokens.find((t) => t.name === 'temp')?.id;
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${id}`,
      headers: browser.write,
    });
    expect(res.statusCode).toBe(204);
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/routing', headers: writer }),
      401,
      'unauthenticated',
    );
    problem(
      await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: browser.write }),
      404,
      'not-found',
    );
    problem(
      await app.inject({ method: 'DELETE', url: '/api/v1/tokens/abc', headers: browser.write }),
      400,
      'validation-failed',
    );
  });
});
