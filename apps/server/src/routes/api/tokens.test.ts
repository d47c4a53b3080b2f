import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('tokens: minted only by a signed-in user, and they may expire (issue 13 item 10)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a write token can neither mint a token nor register a node: 403, and nothing is created', async () => {
    const app = await build();
    const auth = await token(app, 'write');
    const before = app.auth.listTokens().length;
    const minted = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: auth,
      payload: { name: 'child', scope: 'write' },
    });
    expect(problem(minted, 403, 'forbidden').detail).toMatch(/Only a signed-in user/);
    const node = await app.inject({
      method: 'POST',
      url: '/api/v1/nodes',
      headers: auth,
      payload: { name: 'rogue' },
    });
    problem(node, 403, 'forbidden');
    expect(app.auth.listTokens()).toHaveLength(before);
    expect(app.nodes.byName('rogue')).toBeUndefined();
    // A session still can.
    const browser = await login(app);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/nodes',
      headers: browser.write,
      payload: { name: 'edge' },
    });
    expect(ok.statusCode).toBe(201);
  });

  it('expiresIn sets expiresAt (in the answer and the list); past it the token answers 401', async () => {
    const app = await build();
    const browser = await login(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: browser.write,
      payload: { name: 'ci', scope: 'read', expiresIn: 3600 },
    });
    expect(res.statusCode).toBe(201);
    const created = res.json<{ id: number; token: string; createdAt: string; expiresAt: string }>();
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(3_600_000);
    const list = await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: browser.read });
    expect(list.json().tokens).toContainEqual(
      expect.objectContaining({ id: created.id, expiresAt: created.expiresAt }),
    );
    const bearer = { authorization: `Bearer ${created.token}` };
    expect((await app.inject({ url: '/api/v1/routing', headers: bearer })).statusCode).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse(created.expiresAt) + 1000);
    problem(await app.inject({ url: '/api/v1/routing', headers: bearer }), 401, 'unauthenticated');
  });

  it('refuses an expiresIn under a minute or over ten years', async () => {
    const app = await build();
    const browser = await login(app);
    for (const expiresIn of [0, 59, 10 * 366 * 24 * 3600 + 1, 1.5]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: browser.write,
        payload: { name: 'x', scope: 'read', expiresIn },
      });
      const errors = problem(res, 400, 'validation-failed').errors as { pointer: string }[];
      expect(errors.length).toBeGreaterThan(0);
      expect(new Set(errors.map((e) => e.pointer))).toEqual(new Set(['/expiresIn']));
    }
  });
});
