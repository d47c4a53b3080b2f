// The node's side of the attach API against a stand-in console: a silent
// event stream is dropped and re-opened, status (with counters) is reported
// while attached, and a bundle that does not validate is not applied.

import { mkdirSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it, onTestFinished } from 'vitest';
import { type AttachOptions, ConsoleLink } from './attach';
import { bundle, startNode } from './testing/node-fixture';

interface Report {
  runningVersion: number;
  state: string;
  lastError?: string;
  counters?: Record<string, number>;
}

/**
 * A stand-in console on loopback: records status reports, opens event
 * streams (and says nothing on them), answers the bundle with `bundleBody`.
 * Returns a ConsoleLink attached to it from a fresh node.
 */
async function standInConsole(bundleBody: () => unknown, link: Partial<AttachOptions> = {}) {
  const reports: Report[] = [];
  const answers: { id: string; body: unknown }[] = [];
  const streams: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/api/v1/node/events') {
      // Headers, then silence: a half-open connection as far as the node can tell.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      streams.push(res);
    } else if (url.startsWith('/api/v1/node/bundle')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(bundleBody()));
    } else if (url === '/api/v1/node/status' && req.method === 'PUT') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        reports.push(JSON.parse(body) as Report);
        res.writeHead(204).end();
      });
    } else if (url.startsWith('/api/v1/node/requests/') && req.method === 'PUT') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        answers.push({ id: url.split('/').at(-1) ?? '', body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const { node, dataDir } = await startNode();
  const consoleLink = new ConsoleLink(node, {
    consoleUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 'imsn_test',
    dataDir,
    ...link,
  });
  void consoleLink.run();
  onTestFinished(() => consoleLink.stop());
  return { node, reports, streams, answers, dataDir };
}

async function until(ok: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(ok()).toBe(true);
}

it('a console that goes silent (no heartbeat) is re-attached; status is reported meanwhile', async () => {
  const { reports, streams } = await standInConsole(() => bundle(1), {
    silenceMs: 300,
    statusIntervalMs: 100,
    maxBackoffMs: 100,
  });
  await until(() => streams.length >= 3);
  expect(reports.length).toBeGreaterThanOrEqual(3);
  expect(reports.at(-1)).toMatchObject({
    runningVersion: 1,
    state: 'running',
    counters: { queueMessages: 0, sessions: 0 },
  });
});

it('a restart onto a bundle that does not validate keeps the old version and reports the error', async () => {
  // Version 2 names a site domain that is no domain at all.
  const broken = () => {
    const b = bundle(2);
    b.config = { ...b.config, siteDomain: 'not a domain' };
    return b;
  };
  const { node, reports, streams } = await standInConsole(broken);
  await until(() => streams.length > 0);
  streams[0]?.write('event: restart\ndata: {"version":2}\n\n');
  await until(() => reports.some((r) => r.state === 'error'));
  expect(reports.find((r) => r.state === 'error')).toMatchObject({
    runningVersion: 1,
    lastError: expect.stringMatching(/Version 2 is not a valid configuration/),
  });
  expect(node.runningVersion).toBe(1);
});

it('a restart onto a version the node cannot keep on its disk keeps the old version and reports why', async () => {
  let version = 1;
  const { node, reports, streams, dataDir } = await standInConsole(() => bundle(version));
  await until(() => streams.length > 0);
  // Where the bundle's temporary copy goes there is a directory: EISDIR, even for root.
  mkdirSync(`${dataDir}/bundle.json.tmp`);
  version = 2;
  streams[0]?.write('event: restart\ndata: {"version":2}\n\n');
  await until(() => reports.some((r) => r.state === 'error'));
  expect(reports.find((r) => r.state === 'error')).toMatchObject({
    runningVersion: 1,
    lastError: expect.stringContaining('EISDIR'),
  });
  expect(node.runningVersion).toBe(1);
});

it("answers the console's requests on the event stream with PUT /api/v1/node/requests/{id}", async () => {
  const { answers, streams } = await standInConsole(() => bundle(1));
  await until(() => streams.length > 0);
  const ask = (id: string, method: string, params: object) =>
    streams[0]?.write(`event: request\ndata: ${JSON.stringify({ id, method, params })}\n\n`);
  ask('r-1', 'queue.list', {});
  ask('r-2', 'queue.retry', { id: 'nope' });
  ask('r-3', 'queue.delete', {});
  await until(() => answers.length === 3);
  expect(answers.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
    { id: 'r-1', body: { ok: true, result: { messages: [] } } },
    {
      id: 'r-2',
      body: {
        ok: false,
        error: { code: 'not-found', message: 'There is no message nope in the queue.' },
      },
    },
    {
      id: 'r-3',
      body: { ok: false, error: { code: 'bad-request', message: 'params.id is required.' } },
    },
  ]);
});
