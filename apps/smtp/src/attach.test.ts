// The node's side of the attach API against a stand-in console: a silent
// event stream is dropped and re-opened, and status (with counters) is
// reported while attached.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it, onTestFinished } from 'vitest';
import { ConsoleLink } from './attach';
import { startNode } from './testing/node-fixture';

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
