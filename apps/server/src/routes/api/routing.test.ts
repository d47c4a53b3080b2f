import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { type Browser, build, login, problem, token } from '../../testing/helper';

async function setup(): Promise<{ app: FastifyInstance; browser: Browser }> {
  const app = await build();
  return { app, browser: await login(app) };
}

function put(app: FastifyInstance, headers: Record<string, string>, body: unknown) {
  return app.inject({ method: 'PUT', url: '/api/v1/routing', headers, payload: body as object });
}

const withRoute = (sentTo: string, routeTo: string): RoutingConfig => {
  const c = defaultConfig('example.com');
  return { ...c, routes: [...c.routes, { sentTo, routeTo }] };
};

describe('GET /api/v1/routing', () => {
  it('returns the seeded defaults with an ETag and findings', async () => {
    const { app, browser } = await setup();
    const res = await app.inject({ method: 'GET', url: '/api/v1/routing', headers: browser.read });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"v1"');
    expect(res.json()).toEqual({
      version: 1,
      savedAt: expect.any(String),
      savedBy: 'system',
      config: defaultConfig('example.com'),
      findings: [],
    });
  });

  it('401 without credentials', async () => {
    const app = await build();
    problem(await app.inject({ method: 'GET', url: '/api/v1/routing' }), 401, 'unauthenticated');
  });
});

describe('PUT /api/v1/routing', () => {
  it('saves a new version, normalised, and returns it with its ETag', async () => {
    const { app, browser } = await setup();
    const res = await put(
      app,
      { ...browser.write, 'if-match': '"v1"' },
      {
        config: withRoute('Branch.Example.', 'MAIL2.example.net:2525'),
        comment: 'branch office',
      },
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"v2"');
    expect(res.json()).toMatchObject({ version: 2, savedBy: 'admin' });
    expect(res.json().config.routes[1]).toEqual({
      sentTo: 'branch.example',
      routeTo: 'mail2.example.net:2525',
    });
    const after = await app.inject({
      method: 'GET',
      url: '/api/v1/routing',
      headers: browser.read,
    });
    expect(after.json().version).toBe(2);
  });

  it('428 without If-Match, 412 with a stale one (naming who saved the newer version)', async () => {
    const { app, browser } = await setup();
    problem(
      await put(app, browser.write, { config: defaultConfig('example.com') }),
      428,
      'precondition-required',
    );
    expect(
      (
        await put(
          app,
          { ...browser.write, 'if-match': '"v1"' },
          { config: withRoute('a.example', 'h') },
        )
      ).statusCode,
    ).toBe(200);
    const stale = problem(
      await put(
        app,
        { ...browser.write, 'if-match': '"v1"' },
        { config: withRoute('b.example', 'h') },
      ),
      412,
      'precondition-failed',
    );
    expect(stale).toMatchObject({
      currentVersion: 2,
      savedBy: 'admin',
      savedAt: expect.any(String),
    });
    problem(
      await put(
        app,
        { ...browser.write, 'if-match': 'garbage' },
        { config: withRoute('b.example', 'h') },
      ),
      412,
      'precondition-failed',
    );
  });

  it('400 for a document of the wrong shape, 422 for invalid values: one error per field, nothing saved', async () => {
    const { app, browser } = await setup();
    const headers = { ...browser.write, 'if-match': '"v1"' };
    const shape = problem(
      await put(app, headers, { config: { ...defaultConfig('example.com'), rerouteMode: 7 } }),
      400,
      'validation-failed',
    );
    expect(shape.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ pointer: '/config/rerouteMode' })]),
    );
    const bad = defaultConfig('example.com');
    bad.routes.push({ sentTo: 'bad..domain', routeTo: '<inbound>' });
    bad.restrictions.neverRoute.push({ ip: '10.0.0.1', mask: '255.0.255.0' });
    const values = problem(await put(app, headers, { config: bad }), 422, 'policy-invalid');
    expect(values.errors).toEqual([
      { pointer: '/config/routes/1/sentTo', detail: expect.any(String) },
      { pointer: '/config/restrictions/neverRoute/0/mask', detail: expect.any(String) },
    ]);
    const after = await app.inject({
      method: 'GET',
      url: '/api/v1/routing',
      headers: browser.read,
    });
    expect(after.json().version).toBe(1);
  });

  it('refuses critical findings unless acknowledged', async () => {
    const { app, browser } = await setup();
    const open = defaultConfig('example.com');
    open.restrictions.authenticated = false;
    const refused = problem(
      await put(app, { ...browser.write, 'if-match': '"v1"' }, { config: open }),
      422,
      'unacknowledged-findings',
    );
    expect(refused.findings).toEqual([
      expect.objectContaining({ id: 'open-relay', severity: 'critical' }),
    ]);
    const saved = await put(
      app,
      { ...browser.write, 'if-match': '"v1"' },
      { config: open, acknowledge: ['open-relay'] },
    );
    expect(saved.statusCode).toBe(200);
    expect(saved.json().findings[0]).toMatchObject({ id: 'open-relay' });
  });

  it('403 for a read token, 403 without the CSRF token; a write token needs no CSRF token', async () => {
    const { app, browser } = await setup();
    const body = { config: withRoute('a.example', 'h') };
    problem(
      await put(app, { ...(await token(app, 'read')), 'if-match': '"v1"' }, body),
      403,
      'forbidden',
    );
    problem(
      await put(app, { ...browser.read, 'if-match': '"v1"' }, body),
      403,
      'csrf-token-missing',
    );
    problem(await put(app, { 'if-match': '"v1"' }, body), 401, 'unauthenticated');
    expect(
      (await put(app, { ...(await token(app, 'write')), 'if-match': '"v1"' }, body)).statusCode,
    ).toBe(200);
  });
});

describe('versions, restore and diff', () => {
  it('lists and reads history; 404 for an unknown version', async () => {
    const { app, browser } = await setup();
    await put(
      app,
      { ...browser.write, 'if-match': '"v1"' },
      { config: withRoute('a.example', 'h') },
    );
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/routing/versions',
      headers: browser.read,
    });
    expect(list.json().versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const page = await app.inject({
      method: 'GET',
      url: '/api/v1/routing/versions?limit=1',
      headers: browser.read,
    });
    expect(page.json()).toMatchObject({ versions: [{ version: 2 }], nextBefore: 2 });
    const one = await app.inject({
      method: 'GET',
      url: '/api/v1/routing/versions/1',
      headers: browser.read,
    });
    expect(one.json()).toMatchObject({ version: 1, config: defaultConfig('example.com') });
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/routing/versions/9', headers: browser.read }),
      404,
      'not-found',
    );
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/routing/versions/x', headers: browser.read }),
      400,
      'validation-failed',
    );
    problem(
      await app.inject({
        method: 'GET',
        url: '/api/v1/routing/versions?limit=0',
        headers: browser.read,
      }),
      400,
      'validation-failed',
    );
  });

  it('restores a version as a new one; 404 for an unknown one; 412 with a stale If-Match', async () => {
    const { app, browser } = await setup();
    await put(
      app,
      { ...browser.write, 'if-match': '"v1"' },
      { config: withRoute('a.example', 'h') },
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/versions/1/restore',
        headers: browser.write,
      }),
      428,
      'precondition-required',
    );
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/versions/1/restore',
      headers: { ...browser.write, 'if-match': '"v2"' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 3, config: defaultConfig('example.com') });
    const v3 = await app.inject({
      method: 'GET',
      url: '/api/v1/routing/versions/3',
      headers: browser.read,
    });
    expect(v3.json()).toMatchObject({ restoredFrom: 1 });
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/versions/9/restore',
        headers: browser.write,
      }),
      404,
      'not-found',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/versions/2/restore',
        headers: { ...browser.write, 'if-match': '"v2"' },
      }),
      412,
      'precondition-failed',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/versions/2/restore',
        headers: browser.read,
      }),
      403,
      'csrf-token-missing',
    );
  });

  it('a restore takes an optional comment for the new version (default "Restored version n")', async () => {
    const { app, browser } = await setup();
    await put(
      app,
      { ...browser.write, 'if-match': '"v1"' },
      { config: withRoute('a.example', 'h') },
    );
    const restore = (n: number, ifMatch: string, payload?: object) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/routing/versions/${n}/restore`,
        headers: { ...browser.write, 'if-match': ifMatch },
        ...(payload ? { payload } : {}),
      });
    const commented = await restore(1, '"v2"', { comment: 'back to the defaults' });
    expect(commented.statusCode).toBe(200);
    expect(commented.json()).toMatchObject({ version: 3 });
    const plain = await restore(2, '"v3"');
    expect(plain.statusCode).toBe(200);
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/routing/versions?limit=2',
      headers: browser.read,
    });
    expect(list.json().versions).toMatchObject([
      { version: 4, restoredFrom: 2, comment: 'Restored version 2' },
      { version: 3, restoredFrom: 1, comment: 'back to the defaults' },
    ]);
    problem(await restore(1, '"v4"', { comment: 'x'.repeat(501) }), 400, 'validation-failed');
    problem(await restore(1, '"v4"', { comment: 7 }), 400, 'validation-failed');
  });

  it('diffs two versions in words the UI can show', async () => {
    const { app, browser } = await setup();
    await put(
      app,
      { ...browser.write, 'if-match': '"v1"' },
      { config: withRoute('a.example', 'h') },
    );
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/routing/diff?from=1',
      headers: browser.read,
    });
    expect(res.json()).toEqual({
      from: 1,
      to: 2,
      changes: [
        {
          pointer: '/routes/1',
          kind: 'add',
          summary: 'Added route a.example → h',
          after: { sentTo: 'a.example', routeTo: 'h' },
        },
      ],
    });
    problem(
      await app.inject({
        method: 'GET',
        url: '/api/v1/routing/diff?from=7',
        headers: browser.read,
      }),
      404,
      'not-found',
    );
    problem(
      await app.inject({
        method: 'GET',
        url: '/api/v1/routing/diff?from=running',
        headers: browser.read,
      }),
      409,
      'conflict',
    );
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/routing/diff', headers: browser.read }),
      400,
      'validation-failed',
    );
  });
});

describe('advice and the what-if evaluator', () => {
  it('advises on a draft, valid or not, without saving it', async () => {
    const { app, browser } = await setup();
    const open = defaultConfig('example.com');
    open.restrictions.authenticated = false;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/advice',
      headers: browser.write,
      payload: { config: open },
    });
    expect(res.json().findings).toEqual([
      expect.objectContaining({ id: 'open-relay', reference: 'Q260562' }),
    ]);
    const invalid = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/advice',
      headers: browser.write,
      payload: { config: { siteDomain: 'x' } },
    });
    expect(invalid.json().findings[0]).toMatchObject({ code: 'invalid', severity: 'critical' });
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/advice',
        headers: browser.write,
        payload: {},
      }),
      400,
      'validation-failed',
    );
    // Advice writes nothing: a read token may use it.
    const reader = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/advice',
      headers: await token(app, 'read'),
      payload: { config: open },
    });
    expect(reader.statusCode).toBe(200);
  });

  const query = {
    clientIp: '203.0.113.9',
    serverIp: '127.0.0.1',
    authenticated: false,
    mailFrom: '<spammer@remote.example>',
    rcptTo: '<victim@elsewhere.example>',
  };

  it('answers with the decision, the SMTP reply and the trace, for the saved config', async () => {
    const { app, browser } = await setup();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/evaluate',
      headers: browser.write,
      payload: { against: 'saved', ...query },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      against: 'saved',
      version: 1,
      decision: { action: 'reject', reason: 'relay-denied' },
      reply: { code: 550, enhanced: '5.7.1', line: '550 5.7.1 Relaying is prohibited' },
    });
    expect(body.decision.trace.length).toBeGreaterThan(1);
  });

  it('knows the directory the nodes have: an unknown local mailbox gets 550 5.1.1, a known one 250', async () => {
    const { app, browser } = await setup();
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/directory/mailboxes',
      headers: browser.write,
      payload: { address: 'alice@example.com', displayName: 'Alice', password: 'correct horse 1' },
    });
    expect(created.statusCode).toBe(201);
    const line = async (rcptTo: string, against: 'saved' | 'draft') =>
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/routing/evaluate',
          headers: browser.write,
          payload: {
            ...query,
            against,
            rcptTo,
            ...(against === 'draft' ? { config: defaultConfig('example.com') } : {}),
          },
        })
      ).json().reply.line;
    for (const against of ['saved', 'draft'] as const) {
      expect(await line('<nobody@example.com>', against)).toBe(
        '550 5.1.1 Recipient address rejected: no such user here',
      );
      expect(await line('<ALICE@example.com>', against)).toBe('250 2.1.5 Accepted');
      expect(await line('<postmaster@example.com>', against)).toBe('250 2.1.5 Accepted');
    }
  });

  it('evaluates a draft; refuses an invalid draft with pointers; running needs a node', async () => {
    const { app, browser } = await setup();
    const open = defaultConfig('example.com');
    open.restrictions.authenticated = false;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/evaluate',
      headers: browser.write,
      payload: { against: 'draft', config: open, ...query },
    });
    expect(res.json()).toMatchObject({
      decision: { action: 'relay', reason: 'relay-unrestricted' },
      reply: { line: '250 2.1.5 Accepted' },
    });
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/evaluate',
      headers: browser.write,
      payload: { against: 'draft', config: { ...open, siteDomain: '-x-' }, ...query },
    });
    expect(problem(bad, 422, 'policy-invalid').errors).toEqual([
      { pointer: '/config/siteDomain', detail: expect.any(String) },
    ]);
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/evaluate',
        headers: browser.write,
        payload: { against: 'draft', ...query },
      }),
      400,
      'validation-failed',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/evaluate',
        headers: browser.write,
        payload: { against: 'running', ...query },
      }),
      409,
      'conflict',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/routing/evaluate',
        headers: browser.write,
        payload: { against: 'saved' },
      }),
      400,
      'validation-failed',
    );
  });
});
