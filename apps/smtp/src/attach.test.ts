// The node's side of the attach API against a stand-in console: a silent
// event stream is dropped and re-opened, and status (with counters) is
// reported while attached.

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it, onTestFinished } from 'vitest';
import { ConsoleLink } from './attach';
import { bundle, startNode } from './testing/node-fixture';

it('a console that goes silent (no heartbeat) is re-attached; status is reported meanwhile', async () => {
  let streams = 0;
  const reports: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/api/v1/node/events') {
      streams++;
      // Headers, then silence: a half-open connection as far as the node can tell.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      return;
    }
    if (req.url === '/api/v1/node/status' && req.method === 'PUT') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        reports.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(404).end();
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
  const link = new ConsoleLink(node, {
    consoleUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 'imsn_test',
    dataDir,
    silenceMs: 300,
    statusIntervalMs: 100,
    maxBackoffMs: 100,
  });
  void link.run();
  onTestFinished(() => link.stop());
  const until = Date.now() + 10_000;
  while (streams < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(streams).toBeGreaterThanOrEqual(3);
  expect(reports.length).toBeGreaterThanOrEqual(3);
  expect(reports.at(-1)).toMatchObject({
    runningVersion: 1,
    state: 'running',
    counters: { queueMessages: 0, sessions: 0 },
  });
});

it('a restart onto a bundle that does not validate keeps the old version and reports the error', async () => {
  const reports: { runningVersion: number; state: string; lastError?: string }[] = [];
  let events: ServerResponse | undefined;
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/api/v1/node/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      events = res;
      return;
    }
    if (url.startsWith('/api/v1/node/bundle')) {
      // Version 2 names a site domain that is no domain at all.
      const b = bundle(2);
      b.config = { ...b.config, siteDomain: 'not a domain' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(b));
      return;
    }
    if (url === '/api/v1/node/status') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        reports.push(JSON.parse(body));
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(404).end();
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
  const link = new ConsoleLink(node, {
    consoleUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 'imsn_test',
    dataDir,
  });
  void link.run();
  onTestFinished(() => link.stop());
  const until = async (ok: () => boolean) => {
    const end = Date.now() + 10_000;
    while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(ok()).toBe(true);
  };
  await until(() => events !== undefined);
  events?.write('event: restart\ndata: {"version":2}\n\n');
  await until(() => reports.some((r) => r.state === 'error'));
  expect(reports.find((r) => r.state === 'error')).toMatchObject({
    runningVersion: 1,
    lastError: expect.stringMatching(/Version 2 is not a valid configuration/),
  });
  expect(node.runningVersion).toBe(1);
});
