import { PassThrough, Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { prettyStream, relayPretty } from './logging';
import { TEST_PASSWORD_COST } from './testing/helper';

const apps: { close: () => Promise<unknown> }[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

interface LogLine {
  level: number;
  msg: string;
  req?: { url: string };
}

/** A console whose log lines (JSON) land in `lines`. */
async function consoleAt(level: 'info' | 'debug') {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = await buildApp({
    passwordCost: TEST_PASSWORD_COST,
    dataDir: ':memory:',
    siteDomain: 'example.com',
    adminPassword: 'logging test password',
    webDir: '/nonexistent/ims-web-dist',
    logger: { level, stream },
  });
  apps.push(app);
  await app.ready();
  const node = app.nodes.register('edge');
  const report = () =>
    app.inject({
      method: 'PUT',
      url: '/api/v1/node/status',
      headers: { authorization: `Bearer ${node.token}` },
      payload: {
        runningVersion: 1,
        state: 'running',
        listen: [],
        startedAt: new Date().toISOString(),
        counters: {},
      },
    });
  return { app, lines, report };
}

const requestLines = (lines: LogLine[]) =>
  lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed');

describe('request logging', () => {
  it('at info, node status reports and health checks log nothing; other requests do', async () => {
    const { app, lines, report } = await consoleAt('info');
    expect((await report()).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(requestLines(lines)).toEqual([]);
    await app.inject({ method: 'GET', url: '/api/v1/service' });
    expect(requestLines(lines).map((l) => [l.level, l.msg])).toEqual([
      [30, 'incoming request'],
      [30, 'request completed'],
    ]);
  });

  it('at debug, they are there, at debug level', async () => {
    const { app, lines, report } = await consoleAt('debug');
    await report();
    await app.inject({ method: 'GET', url: '/healthz' });
    expect(requestLines(lines).map((l) => [l.level, l.msg, l.req?.url])).toEqual([
      [20, 'incoming request', '/api/v1/node/status'],
      [20, 'request completed', undefined],
      [20, 'incoming request', '/healthz'],
      [20, 'request completed', undefined],
    ]);
  });
});

describe('readable output on a terminal', () => {
  it('pretty only on a terminal', () => {
    expect(prettyStream(false)).toBeUndefined();
    const pretty = prettyStream(true);
    expect(pretty).toBeInstanceOf(Writable);
    pretty?.destroy();
  });

  it("relays a child's lines, JSON log lines made readable, others unchanged", async () => {
    const from = new PassThrough();
    let out = '';
    const to = new Writable({
      write(chunk, _encoding, done) {
        out += String(chunk);
        done();
      },
    });
    relayPretty(from, to);
    const line = JSON.stringify({ level: 30, time: 0, msg: 'listening', port: 2525 });
    // A line may arrive in pieces.
    from.write(`${line.slice(0, 10)}`);
    from.write(`${line.slice(10)}\nnot json\n`);
    from.end('{"level":50,"msg":"last, without a newline"}');
    await new Promise((r) => from.on('end', r));
    const plain = stripVTControlCharacters(out);
    const [first, second, third] = plain.split('\n');
    expect(first).toMatch(/INFO.*listening/);
    expect(first).toContain('"port":2525');
    expect(first).not.toContain('{"level"');
    expect(second).toBe('not json');
    expect(third).toMatch(/ERROR.*last, without a newline/);
  });
});
