/**
 * POST /api/v1/routing/impact over a real listener, with stand-in nodes that
 * follow their event stream through the api-client, report the version they
 * run, and answer `traffic.records` as apps/smtp's requests.ts does.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApiClient,
  createApiClient,
  type NodeAnswerBody,
  type NodeRequest,
  type RoutingState,
} from '@ims/api-client';
import type { TrafficRecordWire } from '@ims/api-contract';
import type { RoutingConfig } from '@ims/routing-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../app';
import { ADMIN_PASSWORD } from '../../testing/helper';

const IMPACT = '/api/v1/routing/impact';
const SINCE = '2026-11-22T00:00:00.000Z';

interface Console {
  url: string;
  admin: ApiClient;
  browser: ApiClient;
  reader: ApiClient;
  anonymous: ApiClient;
}

async function startConsole(requestTimeoutMs = 5000): Promise<Console> {
  const dir = mkdtempSync(join(tmpdir(), 'ims-console-'));
  const app = await buildApp({
    dataDir: dir,
    siteDomain: 'example.com',
    adminPassword: ADMIN_PASSWORD,
    heartbeatMs: 200,
    requestTimeoutMs,
    webDir: '/nonexistent/ims-web-dist',
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
  const write = await browser.tokens.create('ops', 'write');
  const read = await browser.tokens.create('viewer', 'read');
  return {
    url,
    admin: createApiClient({ baseUrl: url, token: write.token }),
    // Only a signed-in user registers nodes (issue 13 item 10).
    browser,
    reader: createApiClient({ baseUrl: url, token: read.token }),
    anonymous: createApiClient({ baseUrl: url }),
  };
}

const record = (
  clientIp: string,
  recipient: string,
  local: boolean,
  counts: Partial<TrafficRecordWire['counts']>,
): TrafficRecordWire => ({
  clientIp,
  serverIp: '127.0.0.1',
  authenticated: false,
  recipient,
  local,
  counts: { deliver: 0, relay: 0, reject: 0, 'accept-ndr': 0, ...counts },
});

/**
 * A node that runs `version` and holds `records`, answered in pages of
 * `pageSize` (the cursor is the index of the last record sent).
 */
async function attachNode(
  c: Console,
  name: string,
  version: number | null,
  records: TrafficRecordWire[],
  pageSize = 5000,
  answers = true,
) {
  const { token } = await c.browser.nodes.register(name);
  const api = createApiClient({ baseUrl: c.url, token });
  const requests: NodeRequest[] = [];
  const abort = new AbortController();
  onTestFinished(() => abort.abort());
  await new Promise<void>((resolve, reject) => {
    api.events
      .node(
        {
          onOpen: resolve,
          onEvent: ({ type, data }) => {
            if (type !== 'request') return;
            const request = data as NodeRequest;
            requests.push(request);
            if (!answers) return;
            const from = request.params.after === undefined ? 0 : Number(request.params.after) + 1;
            const page = records.slice(from, from + pageSize);
            const more = from + pageSize < records.length;
            const answer: NodeAnswerBody = {
              ok: true,
              result: {
                since: SINCE,
                windowDays: 7,
                records: page,
                ...(more ? { next: String(from + pageSize - 1) } : {}),
              },
            };
            void api.raw('PUT', `/api/v1/node/requests/${request.id}`, answer);
          },
        },
        { signal: abort.signal },
      )
      .catch((err: unknown) => (abort.signal.aborted ? undefined : reject(err)));
  });
  await api.node.status({
    runningVersion: version,
    state: 'running',
    listen: ['127.0.0.1:2525'],
    startedAt: new Date().toISOString(),
    counters: {},
  });
  return { api, requests };
}

/** Saves `change(config)` as a new version; returns it. */
async function save(c: Console, change: (config: RoutingConfig) => RoutingConfig) {
  const { data, etag } = await c.admin.routing.get();
  const saved = await c.admin.routing.put(
    { config: change(data.config as RoutingConfig), acknowledge: [] },
    etag,
  );
  return saved.data as RoutingState;
}

const allowing =
  (ip: string) =>
  (config: RoutingConfig): RoutingConfig => ({
    ...config,
    restrictions: {
      ...config.restrictions,
      clientAddresses: { enabled: true, entries: [{ ip, mask: '255.255.255.255' }] },
    },
  });

describe('POST /api/v1/routing/impact', () => {
  it("judges every online node's records: running version before, the draft after, summed by row", async () => {
    const c = await startConsole();
    const running = await save(c, allowing('127.0.0.2'));
    await attachNode(
      c,
      'edge-1',
      running.version,
      [
        record('127.0.0.2', 'partner.example', false, { relay: 6 }),
        record('127.0.0.2', 'alice@example.com', true, { deliver: 4 }),
        record('127.0.0.9', 'partner.example', false, { reject: 2 }),
      ],
      2, // two pages
    );
    await attachNode(c, 'edge-2', running.version, [
      record('127.0.0.2', 'partner.example', false, { relay: 3 }),
      record('127.0.0.2', 'other.example', false, { relay: 1 }),
    ]);
    const draft = allowing('127.0.0.3')(running.config as RoutingConfig);
    const answer = await c.reader.raw('POST', IMPACT, { config: draft });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      since: SINCE,
      transactions: 16,
      changes: [
        {
          clientIp: '127.0.0.2',
          serverIp: '127.0.0.1',
          authenticated: false,
          recipientDomain: 'partner.example',
          before: 'relay',
          after: 'reject',
          count: 9,
        },
        {
          clientIp: '127.0.0.2',
          serverIp: '127.0.0.1',
          authenticated: false,
          recipientDomain: 'other.example',
          before: 'relay',
          after: 'reject',
          count: 1,
        },
      ],
    });
    // The typed client's call, and the same draft as running: no change.
    expect(await c.admin.routing.impact(running.config)).toMatchObject({
      transactions: 16,
      changes: [],
    });
  });

  it('before is what each node runs: a node still on an older version is judged by it', async () => {
    const c = await startConsole();
    const old = await save(c, allowing('127.0.0.2'));
    const saved = await save(c, allowing('127.0.0.3'));
    await attachNode(c, 'old', old.version, [
      record('127.0.0.2', 'x.example', false, { relay: 5 }),
    ]);
    await attachNode(c, 'new', saved.version, [
      record('127.0.0.2', 'x.example', false, { reject: 2 }),
    ]);
    const result = await c.admin.routing.impact(saved.config);
    expect(result.transactions).toBe(7);
    expect(result.changes).toEqual([
      expect.objectContaining({
        clientIp: '127.0.0.2',
        before: 'relay',
        after: 'reject',
        count: 5,
      }),
    ]);
  });

  it('no node: nothing recorded; every node offline: 503; a silent node: 504', async () => {
    const c = await startConsole(300);
    const { data } = await c.admin.routing.get();
    const none = await c.admin.routing.impact(data.config);
    expect(none).toEqual({ since: expect.any(String), transactions: 0, changes: [] });
    await c.browser.nodes.register('edge-off');
    const offline = await c.admin.raw('POST', IMPACT, { config: data.config });
    expect(offline.status).toBe(503);
    expect(offline.body).toMatchObject({ type: '/problems/node-offline' });
    await attachNode(c, 'mute', data.version, [], 5000, false);
    const silent = await c.admin.raw('POST', IMPACT, { config: data.config });
    expect(silent.status).toBe(504);
    expect(silent.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('a bad body: 400 without config, 422 with an invalid one (per field); auth: 401 and 403', async () => {
    const c = await startConsole();
    const missing = await c.admin.raw('POST', IMPACT, {});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ type: '/problems/validation-failed' });
    const { data } = await c.admin.routing.get();
    const invalid = await c.admin.raw('POST', IMPACT, {
      config: { ...data.config, rerouteMode: 'sometimes' },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({
      type: '/problems/policy-invalid',
      errors: [expect.objectContaining({ pointer: '/config/rerouteMode' })],
    });
    expect((await c.anonymous.raw('POST', IMPACT, { config: data.config })).status).toBe(401);
    const node = await attachNode(c, 'edge-1', data.version, []);
    expect((await node.api.raw('POST', IMPACT, { config: data.config })).status).toBe(403);
  });
});
