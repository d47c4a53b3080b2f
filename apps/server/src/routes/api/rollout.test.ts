/**
 * Rolling restart and rollback through the API (issue #14 items 3-4). The
 * nodes are played by their status reports: a rollout moves on when the node
 * it waits for reports, and the version each node is to run is what its
 * bundle's `targetVersion` says.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CONSOLE_RESTARTED } from '../../plugins/app/rollout';
import { build, login, problem } from '../../testing/helper';

type Headers = Record<string, string>;

async function fleet(app: FastifyInstance, names: string[]) {
  const browser = await login(app);
  const nodes = new Map<string, Headers>();
  for (const name of names) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/nodes',
      headers: browser.write,
      payload: { name },
    });
    nodes.set(name, { authorization: `Bearer ${res.json<{ token: string }>().token}` });
  }
  const auth = (name: string): Headers => {
    const h = nodes.get(name);
    if (!h) throw new Error(`no node ${name}`);
    return h;
  };
  const report = async (
    name: string,
    runningVersion: number,
    state: 'running' | 'error' = 'running',
    lastError?: string,
  ) => {
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v1/node/status',
      headers: auth(name),
      payload: {
        runningVersion,
        state,
        ...(lastError ? { lastError } : {}),
        listen: ['127.0.0.1:2525'],
        startedAt: new Date().toISOString(),
        counters: { sessions: 0 },
      },
    });
    expect(res.statusCode).toBe(204);
  };
  /** The version the node is told to load. */
  const targetOf = async (name: string) =>
    (await app.inject({ method: 'GET', url: '/api/v1/node/bundle', headers: auth(name) })).json<{
      targetVersion: number;
    }>().targetVersion;
  const service = async () =>
    (await app.inject({ method: 'GET', url: '/api/v1/service', headers: browser.read })).json();
  const post = (url: string, payload?: object) =>
    app.inject({
      method: 'POST',
      url,
      headers: browser.write,
      ...(payload === undefined ? {} : { payload }),
    });
  const saveCopyOf1 = async () => {
    const current = (
      await app.inject({ method: 'GET', url: '/api/v1/routing', headers: browser.read })
    ).headers.etag as string;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/versions/1/restore',
      headers: { ...browser.write, 'if-match': current },
    });
    expect(res.statusCode).toBe(200);
  };
  for (const name of names) await report(name, 1);
  return { browser, report, targetOf, service, post, saveCopyOf1 };
}

describe('rolling restart', () => {
  it('moves one node at a time, halts at a failure, continues, and rolls back', async () => {
    const app = await build(':memory:', { rolloutSettleMs: 0 });
    const f = await fleet(app, ['a', 'b', 'c']);
    await f.saveCopyOf1(); // version 2

    const started = await f.post('/api/v1/service/restart', {
      strategy: 'rolling',
      order: ['b', 'a', 'c'],
    });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toEqual({ version: 2, coalesced: false, signalled: 1 });
    let s = await f.service();
    expect(s.rollout).toEqual({
      version: 2,
      strategy: 'rolling',
      state: 'running',
      order: ['b', 'a', 'c'],
      done: [],
    });
    expect(s.restart).toMatchObject({ state: 'restarting', summary: 'Restarting b (1 of 3)…' });
    expect(s.restartInProgress).toBe(true);
    // Only the canary is told to move; a node that restarts on its own keeps version 1.
    expect([await f.targetOf('b'), await f.targetOf('a'), await f.targetOf('c')]).toEqual([
      2, 1, 1,
    ]);
    // Another restart while it runs: the same one coalesces; a different one is refused.
    expect(
      (await f.post('/api/v1/service/restart', { strategy: 'rolling' })).json().coalesced,
    ).toBe(true);
    problem(await f.post('/api/v1/service/restart'), 409, 'conflict');

    await f.report('b', 2);
    s = await f.service();
    expect(s.rollout.done).toEqual(['b']);
    expect(s.restart.summary).toBe('Restarting a (2 of 3)…');
    expect([await f.targetOf('a'), await f.targetOf('c')]).toEqual([2, 1]);

    await f.report('a', 1, 'error', 'listen EADDRINUSE 127.0.0.1:2600');
    s = await f.service();
    expect(s.rollout).toEqual({
      version: 2,
      strategy: 'rolling',
      state: 'halted',
      order: ['b', 'a', 'c'],
      done: ['b'],
      haltedAt: 'a',
      error: 'listen EADDRINUSE 127.0.0.1:2600',
    });
    expect(s.restart).toMatchObject({
      state: 'failed',
      summary: 'Halted: a could not apply version 2: listen EADDRINUSE 127.0.0.1:2600.',
      behind: [],
    });
    // c was never signalled: it keeps version 1, also when it restarts.
    expect(await f.targetOf('c')).toBe(1);

    // Continue: the remaining nodes.
    expect(
      (await f.post('/api/v1/service/restart', { strategy: 'rolling', order: ['c'] })).statusCode,
    ).toBe(202);
    expect(await f.targetOf('c')).toBe(2);
    await f.report('c', 2);
    s = await f.service();
    expect(s.rollout).toMatchObject({ state: 'done', order: ['c'], done: ['c'] });

    // Roll back: a new version equal to version 1, and every node onto it.
    const back = await f.post('/api/v1/service/rollback');
    expect(back.statusCode).toBe(202);
    expect(back.json()).toEqual({ version: 3, restoredFrom: 1, signalled: 0 });
    const v1 = (
      await app.inject({
        method: 'GET',
        url: '/api/v1/routing/versions/1',
        headers: f.browser.read,
      })
    ).json().config;
    const v3 = (
      await app.inject({
        method: 'GET',
        url: '/api/v1/routing/versions/3',
        headers: f.browser.read,
      })
    ).json();
    expect(v3.config).toEqual(v1);
    expect(v3.restoredFrom).toBe(1);
    expect([await f.targetOf('a'), await f.targetOf('b'), await f.targetOf('c')]).toEqual([
      3, 3, 3,
    ]);
    s = await f.service();
    expect(s.rollout).toMatchObject({ version: 3, strategy: 'all', state: 'running' });
    for (const n of ['a', 'b', 'c']) await f.report(n, 3);
    s = await f.service();
    expect(s.rollout).toMatchObject({ state: 'done', done: ['a', 'b', 'c'] });
    expect(s.restart.state).toBe('idle');
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=routing.rolled-back',
      headers: f.browser.read,
    });
    expect(audit.json().entries).toEqual([
      expect.objectContaining({
        action: 'routing.rolled-back',
        target: 'routing:v3',
        summary: expect.stringContaining('Rolled back to version 1 as version 3'),
      }),
    ]);
  });

  it('the canary waits for its settle time before the next node is signalled', async () => {
    const app = await build(':memory:', { rolloutSettleMs: 60_000 });
    const f = await fleet(app, ['a', 'b']);
    await f.saveCopyOf1();
    await f.post('/api/v1/service/restart', { strategy: 'rolling' });
    await f.report('a', 2);
    const s = await f.service();
    expect(s.rollout).toMatchObject({ state: 'running', order: ['a', 'b'], done: [] });
    expect(await f.targetOf('b')).toBe(1);
  });

  it('rejects an order that names no registered node, an order without rolling, a rollback with nothing to roll back', async () => {
    const app = await build();
    const f = await fleet(app, ['a']);
    const bad = problem(
      await f.post('/api/v1/service/restart', { strategy: 'rolling', order: ['a', 'zz'] }),
      400,
      'validation-failed',
    );
    expect(bad.errors).toEqual([{ pointer: '/order/1', detail: 'There is no node named zz.' }]);
    problem(
      await f.post('/api/v1/service/restart', { strategy: 'rolling', order: [] }),
      400,
      'validation-failed',
    );
    problem(await f.post('/api/v1/service/restart', { order: ['a'] }), 400, 'validation-failed');
    problem(
      await f.post('/api/v1/service/restart', { strategy: 'sideways' }),
      400,
      'validation-failed',
    );
    problem(await f.post('/api/v1/service/rollback'), 409, 'conflict');
    expect((await f.service()).rollout).toBeNull();
  });

  it('a rollout running when the console stops is halted when it starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-rollout-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const first = await build(dir, { rolloutSettleMs: 0 });
    const f = await fleet(first, ['a', 'b']);
    await f.saveCopyOf1();
    await f.post('/api/v1/service/restart', { strategy: 'rolling' });
    await first.close();
    const second = await build(dir);
    const browser = await login(second);
    const s = (
      await second.inject({ method: 'GET', url: '/api/v1/service', headers: browser.read })
    ).json();
    expect(s.rollout).toMatchObject({
      state: 'halted',
      haltedAt: 'a',
      done: [],
      error: CONSOLE_RESTARTED,
    });
    // b was not signalled, and stays where it was.
    const rollback = await second.inject({
      method: 'POST',
      url: '/api/v1/service/rollback',
      headers: browser.write,
    });
    expect(rollback.json()).toMatchObject({ version: 3, restoredFrom: 1 });
  });
});
