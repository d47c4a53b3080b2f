/**
 * A stand-in console on loopback for the tests of a node's link: records
 * status reports and answers, opens event streams (and says nothing on them:
 * a test writes the events it wants), answers the bundle with `bundleBody`.
 * Closed when the test ends.
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Report {
  runningVersion: number | null;
  state: string;
  lastError?: string;
  counters?: Record<string, number>;
  engine?: string;
}

export interface StandInConsole {
  url: string;
  reports: Report[];
  answers: { id: string; body: unknown }[];
  /** The event streams opened so far (the latest last). */
  streams: ServerResponse[];
  /** The versions asked for with GET /api/v1/node/bundle (undefined: none named). */
  bundleRequests: (number | undefined)[];
}

export async function standInConsole(bundleBody: () => unknown): Promise<StandInConsole> {
  const reports: Report[] = [];
  const answers: { id: string; body: unknown }[] = [];
  const streams: ServerResponse[] = [];
  const bundleRequests: (number | undefined)[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/api/v1/node/events') {
      // Headers, then silence: a half-open connection as far as the node can tell.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      streams.push(res);
    } else if (url.startsWith('/api/v1/node/bundle')) {
      const version = new URL(url, 'http://console').searchParams.get('version');
      bundleRequests.push(version === null ? undefined : Number(version));
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
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reports,
    answers,
    streams,
    bundleRequests,
  };
}

/** Waits (10 s at most) until `ok()`, then expects it. */
export async function until(ok: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (!ok()) throw new Error(`Not so after 10 s: ${ok.toString()}`);
}
