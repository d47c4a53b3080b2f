/**
 * The restart flow over a real HTTP listener: a minimal SMTP-node client
 * attaches, is signalled after a save and a restart, reports the new
 * version, and the console's pendingRestart goes from true to false.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApiClient,
  ApiProblem,
  createApiClient,
  type NodeStatusBody,
  type StreamEvent,
} from '@ims/api-client';
import { defaultConfig } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from './app';
import { ADMIN_PASSWORD, TEST_PASSWORD_COST } from './testing/helper';

interface Console {
  app: FastifyInstance;
  url: string;
  /** The administrator's side, with a write token, as a script would use. */
  admin: ApiClient;
  /** The signed-in administrator (a session): only a session registers nodes. */
  browser: ApiClient;
}

async function startConsole(): Promise<Console> {
  const dir = mkdtempSync(join(tmpdir(), 'ims-console-'));
  const app = await buildApp({
    passwordCost: TEST_PASSWORD_COST,
    dataDir: dir,
    siteDomain: 'example.com',
    adminPassword: ADMIN_PASSWORD,
    heartbeatMs: 200,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  onTestFinished(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const session = await createApiClient({ baseUrl: url }).login('admin', ADMIN_PASSWORD);
  const browser = createApiClient({
    baseUrl: url,
    cookie: session.cookie,
    csrfToken: session.csrfToken,
  });
  const { token } = await browser.tokens.create('test', 'write');
  return { app, url, admin: createApiClient({ baseUrl: url, token }), browser };
}

/** The status of a refused request (the ApiProblem it threw). */
async function statusOf(request: Promise<unknown>): Promise<number> {
  const err = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiProblem)) throw new Error(`expected an ApiProblem, got ${String(err)}`);
  return err.status;
}

/** An event stream followed through the api-client: events queue up until a test takes them. */
class Events {
  private readonly queue: StreamEvent[] = [];
  private waiters: { accept: (e: StreamEvent) => boolean; resolve: (e: StreamEvent) => void }[] =
    [];
  private readonly abort = new AbortController();

  static async open(follow: ApiClient['events']['node']): Promise<Events> {
    const events = new Events();
    onTestFinished(() => events.abort.abort());
    await new Promise<void>((resolve, reject) => {
      follow(
        { onOpen: resolve, onEvent: (e) => events.deliver(e) },
        { signal: events.abort.signal },
      ).catch((err: unknown) => (events.abort.signal.aborted ? undefined : reject(err)));
    });
    return events;
  }

  private deliver(event: StreamEvent): void {
    const waiter = this.waiters.find((w) => w.accept(event));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(event);
    } else {
      this.queue.push(event);
    }
  }

  /** The next event of `type` (already received or still to come) that matches. */
  next(
    type: string,
    match: (data: unknown) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<StreamEvent> {
    const accept = (e: StreamEvent) => e.type === type && match(e.data);
    const i = this.queue.findIndex(accept);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as StreamEvent);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${type} event within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        accept,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}

/** A minimal SMTP node: fetches bundles, listens for signals, reports its version. */
class FakeNode {
  running: number | null = null;
  events!: Events;
  readonly api: ApiClient;
  constructor(c: Console, token: string) {
    this.api = createApiClient({ baseUrl: c.url, token });
  }
  async attach(): Promise<void> {
    this.events = await Events.open(this.api.events.node);
  }
  async load(version?: number): Promise<{ version: number; config: { siteDomain: string } }> {
    const bundle = await this.api.node.bundle(version);
    this.running = bundle.version;
    return bundle;
  }
  async report(): Promise<void> {
    const status: NodeStatusBody = {
      runningVersion: this.running,
      state: 'running',
      listen: ['127.0.0.1:2525'],
      startedAt: new Date().toISOString(),
      counters: { sessions: 0 },
    };
    expect(await this.api.node.status(status)).toBeNull();
  }
}

async function register(c: Console, name: string): Promise<FakeNode> {
  const created = await c.browser.nodes.register(name);
  return new FakeNode(c, created.token);
}

async function saveNewVersion(c: Console, basedOn: number, host: string): Promise<number> {
  const config = defaultConfig('example.com');
  config.routes.push({ sentTo: 'branch.example', routeTo: host });
  return (await c.admin.routing.put({ config }, `"v${basedOn}"`)).data.version;
}

type Service = Awaited<ReturnType<ApiClient['service']['status']>>;

describe('restart signalling over a real listener', () => {
  it('save + restart: the node is signalled, reports the new version, and pendingRestart clears', async () => {
    const c = await startConsole();
    const node = await register(c, 'local');
    expect((await node.load()).version).toBe(1);
    await node.attach();
    await node.report();
    const browser = await Events.open(c.admin.events.service);
    expect(await c.admin.service.status()).toMatchObject({
      pendingRestart: false,
      savedVersion: 1,
    });

    const v2 = await saveNewVersion(c, 1, 'mail2.example.net');
    expect(await c.admin.service.status()).toMatchObject({
      pendingRestart: true,
      savedVersion: 2,
    });
    await browser.next('service', (d) => (d as Service).pendingRestart === true);
    // Saving alone never signals the node.
    expect(node.running).toBe(1);
    // Saved vs running, as the banner shows it.
    const pending = await c.admin.routing.diff({ from: 'running' });
    expect(pending).toMatchObject({
      from: 1,
      to: v2,
      changes: [expect.objectContaining({ kind: 'add' })],
    });

    const restart = await c.admin.call('restart', {});
    expect({ status: restart.status, body: restart.data }).toEqual({
      status: 202,
      body: { version: v2, coalesced: false, signalled: 1 },
    });
    const signal = await node.events.next('restart');
    expect(signal.data).toEqual({ version: v2 });
    expect((await node.load(v2)).version).toBe(v2);
    await node.report();

    expect(await c.admin.service.status()).toMatchObject({
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
    const first = await c.admin.service.restart();
    const second = await c.admin.service.restart();
    expect(first).toMatchObject({ coalesced: false, signalled: 1 });
    expect(second).toMatchObject({ coalesced: true, signalled: 0 });
    await a.events.next('restart');

    // b was not attached: it is told as soon as it attaches.
    await b.attach();
    expect((await b.events.next('restart')).data).toEqual({ version: v2 });
  });

  it('a node token reaches only the node API, and an admin credential not the node API', async () => {
    const c = await startConsole();
    const node = await register(c, 'n');
    const anonymous = createApiClient({ baseUrl: c.url });
    expect(await statusOf(node.api.routing.get())).toBe(403);
    expect(await statusOf(c.admin.node.bundle())).toBe(401);
    expect(await statusOf(anonymous.node.bundle())).toBe(401);
    const bad = await node.api.raw<{ errors: unknown[] }>('PUT', '/api/v1/node/status', {
      state: 'bogus',
    });
    expect(bad.status).toBe(400);
  });
});
