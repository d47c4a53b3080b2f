/**
 * The restart flow over a real HTTP listener: a minimal SMTP-node client
 * attaches, is signalled after a save and a restart, reports the new
 * version, and the console's pendingRestart goes from true to false.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from './app';
import { ADMIN_PASSWORD } from './testing/helper';
import { SseClient } from './testing/sse-client';

interface Console {
  app: FastifyInstance;
  url: string;
  admin: Record<string, string>;
}

async function startConsole(): Promise<Console> {
  const dir = mkdtempSync(join(tmpdir(), 'ims-console-'));
  const app = await buildApp({
    dataDir: dir,
    siteDomain: 'example.com',
    adminPassword: ADMIN_PASSWORD,
    heartbeatMs: 200,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  onTestFinished(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // A write token for the administrator's side, as a script would use.
  const login = await fetch(`${address}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const created = await fetch(`${address}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name: 'test', scope: 'write' }),
  });
  const { token } = (await created.json()) as { token: string };
  return {
    app,
    url: address,
    admin: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  };
}

async function api<T>(
  c: Console,
  method: string,
  path: string,
  body?: unknown,
  headers = c.admin,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** A minimal SMTP node: fetches bundles, listens for signals, reports its version. */
class FakeNode {
  running: number | null = null;
  events!: SseClient;
  constructor(
    private readonly c: Console,
    private readonly token: string,
  ) {}
  get headers() {
    return { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' };
  }
  async attach(): Promise<void> {
    this.events = await SseClient.open(`${this.c.url}/api/v1/node/events`, this.headers);
    onTestFinished(() => this.events.close());
  }
  async load(version?: number): Promise<{ version: number; config: { siteDomain: string } }> {
    const res = await api<{ version: number; config: { siteDomain: string } }>(
      this.c,
      'GET',
      `/api/v1/node/bundle${version === undefined ? '' : `?version=${version}`}`,
      undefined,
      this.headers,
    );
    expect(res.status).toBe(200);
    this.running = res.body.version;
    return res.body;
  }
  async report(): Promise<void> {
    const res = await api(
      this.c,
      'PUT',
      '/api/v1/node/status',
      {
        runningVersion: this.running,
        state: 'running',
        listen: ['127.0.0.1:2525'],
        startedAt: new Date().toISOString(),
        counters: { sessions: 0 },
      },
      this.headers,
    );
    expect(res.status).toBe(204);
  }
}

async function register(c: Console, name: string): Promise<FakeNode> {
  const res = await api<{ token: string }>(c, 'POST', '/api/v1/nodes', { name });
  expect(res.status).toBe(201);
  return new FakeNode(c, res.body.token);
}

async function saveNewVersion(c: Console, basedOn: number, host: string): Promise<number> {
  const config = defaultConfig('example.com');
  config.routes.push({ sentTo: 'branch.example', routeTo: host });
  const res = await api<{ version: number }>(
    c,
    'PUT',
    '/api/v1/routing',
    { config },
    { ...c.admin, 'if-match': `"v${basedOn}"` },
  );
  expect(res.status).toBe(200);
  return res.body.version;
}

type Service = {
  pendingRestart: boolean;
  savedVersion: number;
  nodes: { runningVersion: number | null; online: boolean; state: string }[];
};

describe('restart signalling over a real listener', () => {
  it('save + restart: the node is signalled, reports the new version, and pendingRestart clears', async () => {
    const c = await startConsole();
    const node = await register(c, 'local');
    expect((await node.load()).version).toBe(1);
    await node.attach();
    await node.report();
    const browser = await SseClient.open(`${c.url}/api/v1/events`, c.admin);
    onTestFinished(() => browser.close());
    expect((await api<Service>(c, 'GET', '/api/v1/service')).body).toMatchObject({
      pendingRestart: false,
      savedVersion: 1,
    });

    const v2 = await saveNewVersion(c, 1, 'mail2.example.net');
    expect((await api<Service>(c, 'GET', '/api/v1/service')).body).toMatchObject({
      pendingRestart: true,
      savedVersion: 2,
    });
    await browser.next('service', (d) => (d as Service).pendingRestart === true);
    // Saving alone never signals the node.
    expect(node.running).toBe(1);
    // Saved vs running, as the banner shows it.
    const pending = await api<{ from: number; to: number; changes: unknown[] }>(
      c,
      'GET',
      '/api/v1/routing/diff?from=running',
    );
    expect(pending.body).toMatchObject({
      from: 1,
      to: v2,
      changes: [expect.objectContaining({ kind: 'add' })],
    });

    const restart = await api<{ version: number; coalesced: boolean; signalled: number }>(
      c,
      'POST',
      '/api/v1/service/restart',
    );
    expect(restart).toEqual({ status: 202, body: { version: v2, coalesced: false, signalled: 1 } });
    const signal = await node.events.next('restart');
    expect(signal.data).toEqual({ version: v2 });
    expect((await node.load(v2)).version).toBe(v2);
    await node.report();

    expect((await api<Service>(c, 'GET', '/api/v1/service')).body).toMatchObject({
      pendingRestart: false,
      nodes: [{ runningVersion: v2, online: true, state: 'running' }],
    });
    await browser.next(
      'service',
      (d) => (d as Service).pendingRestart === false && (d as Service).savedVersion === v2,
    );
    await node.events.next('heartbeat');
  });

  it('coalesces a burst of restarts; a node that was away gets the restart when it re-attaches', async () => {
    const c = await startConsole();
    const a = await register(c, 'a');
    const b = await register(c, 'b');
    for (const n of [a, b]) {
      await n.load();
      await n.report();
    }
    await a.attach();
    const v2 = await saveNewVersion(c, 1, 'mail2.example.net');
    const first = await api<{ coalesced: boolean; signalled: number }>(
      c,
      'POST',
      '/api/v1/service/restart',
    );
    const second = await api<{ coalesced: boolean; signalled: number }>(
      c,
      'POST',
      '/api/v1/service/restart',
    );
    expect(first.body).toMatchObject({ coalesced: false, signalled: 1 });
    expect(second.body).toMatchObject({ coalesced: true, signalled: 0 });
    await a.events.next('restart');

    // b was not attached: it is told as soon as it attaches.
    await b.attach();
    expect((await b.events.next('restart')).data).toEqual({ version: v2 });
  });

  it('a node token reaches only the node API, and an admin credential not the node API', async () => {
    const c = await startConsole();
    const node = await register(c, 'n');
    expect((await api(c, 'GET', '/api/v1/routing', undefined, node.headers)).status).toBe(403);
    expect((await api(c, 'GET', '/api/v1/node/bundle', undefined, c.admin)).status).toBe(401);
    expect((await api(c, 'GET', '/api/v1/node/bundle', undefined, {})).status).toBe(401);
    const bad = await api<{ errors: unknown[] }>(
      c,
      'PUT',
      '/api/v1/node/status',
      { state: 'bogus' },
      node.headers,
    );
    expect(bad.status).toBe(400);
  });
});
