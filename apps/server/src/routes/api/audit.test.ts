import { defaultConfig } from '@ims/routing-core';
import { describe, expect, it } from 'vitest';
import { build, login, problem, token } from '../../testing/helper';

describe('GET /api/v1/audit', () => {
  it('records every change with actor, source, time and a diff; newest first; filterable and paged', async () => {
    const app = await build();
    const browser = await login(app);
    await token(app, 'read', 'reporting');
    const config = defaultConfig('example.com');
    config.routes.push({ sentTo: 'branch.example', routeTo: 'mail2.example.net' });
    await app.inject({
      method: 'PUT',
      url: '/api/v1/routing',
      headers: { ...browser.write, 'if-match': '"v1"' },
      payload: { config },
      remoteAddress: '192.0.2.44',
    });
    const res = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: browser.read });
    const entries = res.json<{
      entries: { action: string; actor: string; source: string; at: string }[];
    }>().entries;
    expect(entries.map((e) => e.action)).toEqual([
      'routing.saved',
      'token.created',
      'login',
      'login',
      'user.created',
      'mailbox.created',
      'routing.seeded',
    ]);
    expect(entries[0]).toMatchObject({
      actor: 'admin',
      source: '192.0.2.44',
      target: 'routing:v2',
      details: {
        from: 1,
        to: 2,
        changes: [
          expect.objectContaining({
            kind: 'add',
            summary: 'Added route branch.example → mail2.example.net',
          }),
        ],
      },
    });
    const saves = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=login',
      headers: browser.read,
    });
    expect(saves.json().entries).toHaveLength(2);
    const page = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?limit=2',
      headers: browser.read,
    });
    const next = page.json<{ nextBefore: number }>().nextBefore;
    const rest = await app.inject({
      method: 'GET',
      url: `/api/v1/audit?limit=10&before=${next}`,
      headers: browser.read,
    });
    expect(rest.json().entries.map((e: { action: string }) => e.action)).toEqual([
      'login',
      'login',
      'user.created',
      'mailbox.created',
      'routing.seeded',
    ]);
  });

  it('gives every entry a summary (the History sentences for a save) and keeps its details', async () => {
    const app = await build();
    const browser = await login(app);
    const config = defaultConfig('example.com');
    config.routes.push({ sentTo: 'partner.example', routeTo: 'mx.partner.example' });
    await app.inject({
      method: 'PUT',
      url: '/api/v1/routing',
      headers: { ...browser.write, 'if-match': '"v1"' },
      payload: { config },
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/routing/versions/1/restore',
      headers: { ...browser.write, 'if-match': '"v2"' },
      payload: {},
    });
    await app.inject({ method: 'POST', url: '/api/v1/service/restart', headers: browser.write });
    const res = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: browser.read });
    const entries = res.json<{
      entries: { action: string; summary: string; by: string; details?: unknown }[];
    }>().entries;
    const summaryOf = (action: string) => entries.find((e) => e.action === action)?.summary;
    expect(summaryOf('routing.saved')).toBe(
      'Saved version 2: Added route partner.example → mx.partner.example',
    );
    expect(summaryOf('routing.restored')).toBe(
      'Saved version 3 (version 1 restored): Removed route partner.example → mx.partner.example',
    );
    expect(summaryOf('service.restart')).toBe('Restart requested: the nodes are to run version 3');
    expect(summaryOf('login')).toBe('Signed in');
    expect(summaryOf('user.created')).toBe('User admin created');
    expect(summaryOf('mailbox.created')).toBe('Mailbox postmaster@example.com created');
    expect(summaryOf('routing.seeded')).toBe('Version 1 created for a new install');
    // The full details stay beside the summary.
    expect(entries.find((e) => e.action === 'routing.saved')?.details).toMatchObject({
      from: 1,
      to: 2,
    });
    expect(entries.every((e) => e.by === 'admin' || e.by === 'system')).toBe(true);
  });

  it('names the person behind a token: "admin via token deploy"', async () => {
    const app = await build();
    const deploy = await token(app, 'write', 'deploy');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/directory/mailboxes',
      headers: deploy,
      payload: { address: 'carol@example.com', displayName: 'Carol', password: 'carol-password' },
    });
    expect(created.statusCode).toBe(201);
    const res = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: deploy });
    const [newest] = res.json<{ entries: Record<string, unknown>[] }>().entries;
    expect(newest).toMatchObject({
      action: 'mailbox.created',
      actor: 'token:deploy',
      person: 'admin',
      by: 'admin via token deploy',
      summary: 'Mailbox carol@example.com created (Carol)',
    });
  });

  it('filters by action family (a prefix ending with a dot), exact actions still exact', async () => {
    const app = await build();
    const browser = await login(app);
    await app.inject({ method: 'POST', url: '/api/v1/service/restart', headers: browser.write });
    const actions = async (query: string) =>
      (await app.inject({ method: 'GET', url: `/api/v1/audit?${query}`, headers: browser.read }))
        .json<{ entries: { action: string }[] }>()
        .entries.map((e) => e.action);
    expect(await actions('action=routing.')).toEqual(['routing.seeded']);
    expect(await actions('action=service.')).toEqual(['service.restart']);
    expect(await actions('action=routing')).toEqual([]);
    expect(await actions('action=service.restart')).toEqual(['service.restart']);
    // LIKE's wildcards are plain characters in a family.
    expect(await actions('action=%25.')).toEqual([]);
    expect(await actions('action=_outing.')).toEqual([]);
  });

  it('leaves out sign-ins with signIns=false (they are listed by default)', async () => {
    const app = await build();
    const browser = await login(app);
    await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'admin', password: 'wrong password' },
    });
    const actions = async (query: string) =>
      (await app.inject({ method: 'GET', url: `/api/v1/audit${query}`, headers: browser.read }))
        .json<{ entries: { action: string }[] }>()
        .entries.map((e) => e.action);
    expect(await actions('')).toEqual([
      'login.failed',
      'login',
      'user.created',
      'mailbox.created',
      'routing.seeded',
    ]);
    expect(await actions('?signIns=false')).toEqual([
      'user.created',
      'mailbox.created',
      'routing.seeded',
    ]);
    expect(await actions('?signIns=true&action=login')).toEqual(['login']);
  });

  it('never records secrets', async () => {
    const app = await build();
    const browser = await login(app);
    await token(app, 'write', 'deployer');
    const res = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: browser.read });
    expect(res.body).not.toMatch(/ims_[A-Za-z0-9_-]{20,}/);
    expect(res.body).not.toContain('correct horse');
  });

  it('400 for a bad query, 401 without credentials', async () => {
    const app = await build();
    const browser = await login(app);
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/audit?limit=0', headers: browser.read }),
      400,
      'validation-failed',
    );
    problem(await app.inject({ method: 'GET', url: '/api/v1/audit' }), 401, 'unauthenticated');
  });
});

describe('unknown routes', () => {
  it('answer 404 problem+json', async () => {
    const app = await build();
    const browser = await login(app);
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: browser.read }),
      404,
      'not-found',
    );
    // Unmatched, so nothing to protect: the same 404 without credentials.
    problem(await app.inject({ method: 'GET', url: '/api/v1/nothing' }), 404, 'not-found');
    problem(await app.inject({ method: 'GET', url: '/nothing' }), 404, 'not-found');
  });
});

describe('authentication is decided on the matched route, not the URL text', () => {
  // An encoded path matches its route, so the route's authentication applies: 401. A trailing
  // slash matches no route (and so protects nothing): the same 404 as any unknown path.
  it.each([
    ['/%61pi/v1/tokens', 401, 'unauthenticated'],
    ['/api/v%31/routing', 401, 'unauthenticated'],
    ['/%61pi/v1/audit', 401, 'unauthenticated'],
    ['/%61pi/v1/service', 401, 'unauthenticated'],
    ['/api/v1/routing/', 404, 'not-found'],
    ['/api/v1/routing?x=1', 401, 'unauthenticated'],
  ] as const)('GET %s without credentials is %i %s', async (url, status, slug) => {
    const app = await build();
    const res = await app.inject({ method: 'GET', url });
    problem(res, status, slug);
    expect(res.body).not.toContain('"config"');
    expect(res.body).not.toContain('"tokens"');
  });

  it('an encoded node path needs a node token too', async () => {
    const app = await build();
    problem(
      await app.inject({ method: 'GET', url: '/%61pi/v1/node/bundle' }),
      401,
      'unauthenticated',
    );
  });
});
