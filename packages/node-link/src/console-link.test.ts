// The node's side of the attach API against a stand-in console, with an
// engine that only records: a silent event stream is dropped and re-opened,
// status (with the engine's counters) is reported while attached, a bundle
// that does not check or cannot be kept is not applied, requests are
// answered, and the choices of each engine (cache first or apply first,
// announced restarts, re-applying after an error) hold.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAnswerBody } from '@ims/api-contract';
import { expect, it, onTestFinished } from 'vitest';
import { type Bundle, ConsoleLink, type Engine, type LinkOptions } from './console-link';
import { standInConsole, until } from './testing/stand-in-console';

function bundle(version: number, directory: Bundle['directory'] = []): Bundle {
  return {
    version,
    config: { siteDomain: 'example.com' } as Bundle['config'],
    directory,
    issuedAt: new Date(0).toISOString(),
    targetVersion: version,
  };
}

interface Recorder extends Engine {
  runningVersion: number | undefined;
  /** What happened, in order: `check 2`, `apply 2`, `reapply 2`, `directory 1`. */
  calls: string[];
}

/** An engine that records what the link asks; `overrides` fail or check. */
function recorder(overrides: Partial<Engine> = {}): Recorder {
  const engine: Recorder = {
    runningVersion: undefined,
    listening: ['127.0.0.1:2525'],
    startedAt: new Date(),
    calls: [],
    status: () => ({ counters: { sessions: 0, queueMessages: 0 }, engine: 'ims' }),
    apply(b) {
      engine.calls.push(`apply ${b.version}`);
      engine.runningVersion = b.version;
    },
    reapply(b) {
      engine.calls.push(`reapply ${b.version}`);
    },
    setDirectory(b) {
      engine.calls.push(`directory ${b.version}`);
    },
    request: async (method): Promise<NodeAnswerBody> =>
      method === 'queue.list'
        ? { ok: true, result: { messages: [] } }
        : { ok: false, error: { code: 'bad-request', message: 'params.id is required.' } },
    ...overrides,
  };
  return engine;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ims-node-link-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A link from `engine` (running version 1) to a stand-in console, following its events. */
async function attached(
  engine: Recorder,
  bundleBody: () => unknown,
  options: Partial<LinkOptions> = {},
) {
  const stand = await standInConsole(bundleBody);
  const dataDir = tempDir();
  const log: Record<string, unknown>[] = [];
  const link = new ConsoleLink(engine, {
    consoleUrl: stand.url,
    token: 'imsn_test',
    dataDir,
    log: (entry) => log.push(entry),
    ...options,
  });
  engine.runningVersion ??= 1;
  void link.run();
  onTestFinished(() => link.stop());
  await until(() => stand.streams.length > 0);
  const signal = (event: string, data: unknown) =>
    stand.streams.at(-1)?.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  return { ...stand, link, dataDir, log, signal };
}

it('a console that goes silent (no heartbeat) is re-attached; status is reported meanwhile', async () => {
  const { reports, streams } = await attached(recorder(), () => bundle(1), {
    silenceMs: 300,
    statusIntervalMs: 100,
    maxBackoffMs: 100,
  });
  await until(() => streams.length >= 3);
  expect(reports.length).toBeGreaterThanOrEqual(3);
  expect(reports.at(-1)).toEqual({
    runningVersion: 1,
    state: 'running',
    listen: ['127.0.0.1:2525'],
    startedAt: expect.any(String),
    counters: { queueMessages: 0, sessions: 0 },
    engine: 'ims',
  });
});

it('a restart onto a bundle that does not check keeps the old version and reports the error', async () => {
  const engine = recorder({
    check(b) {
      if (b.version === 2) throw new Error('Version 2 is not a valid configuration: /siteDomain');
    },
  });
  const { reports, signal, log } = await attached(engine, () => bundle(2));
  signal('restart', { version: 2 });
  await until(() => reports.some((r) => r.state === 'error'));
  expect(reports.find((r) => r.state === 'error')).toMatchObject({
    runningVersion: 1,
    lastError: expect.stringMatching(/Version 2 is not a valid configuration/),
  });
  expect(engine.calls).toEqual([]);
  expect(log).toContainEqual({
    event: 'restart-failed',
    error: 'Version 2 is not a valid configuration: /siteDomain',
  });
});

it('a restart onto a version the node cannot keep on its disk keeps the old version and reports why', async () => {
  let version = 1;
  const engine = recorder({ check: () => undefined });
  const { reports, signal, dataDir } = await attached(engine, () => bundle(version));
  // Where the bundle's temporary copy goes there is a directory: EISDIR, even for root.
  mkdirSync(`${dataDir}/bundle.json.tmp`);
  version = 2;
  signal('restart', { version: 2 });
  await until(() => reports.some((r) => r.state === 'error'));
  expect(reports.find((r) => r.state === 'error')).toMatchObject({
    runningVersion: 1,
    lastError: expect.stringContaining('EISDIR'),
  });
  // Checked, never applied.
  expect(engine.calls).toEqual([]);
  expect(engine.runningVersion).toBe(1);
});

it("answers the console's requests on the event stream with PUT /api/v1/node/requests/{id}", async () => {
  const { answers, signal } = await attached(recorder(), () => bundle(1));
  signal('request', { id: 'r-1', method: 'queue.list', params: {} });
  signal('request', { id: 'r-2', method: 'queue.delete', params: {} });
  signal('request', { method: 'queue.list' });
  await until(() => answers.length === 2);
  expect(answers.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
    { id: 'r-1', body: { ok: true, result: { messages: [] } } },
    {
      id: 'r-2',
      body: { ok: false, error: { code: 'bad-request', message: 'params.id is required.' } },
    },
  ]);
});

it('an engine with a check: the bundle is cached once checked, then applied; a plain reload refreshes the directory', async () => {
  const version = 2;
  const engine = recorder({
    check(b) {
      engine.calls.push(`check ${b.version}`);
    },
  });
  const { reports, signal, dataDir, log, bundleRequests } = await attached(engine, () =>
    bundle(version),
  );
  signal('restart', { version: 2 });
  await until(() => reports.some((r) => r.runningVersion === 2));
  expect(engine.calls).toEqual(['check 2', 'apply 2']);
  expect(JSON.parse(readFileSync(join(dataDir, 'bundle.json'), 'utf8'))).toMatchObject({
    version: 2,
  });
  expect(reports.some((r) => r.state === 'restarting')).toBe(false);
  // The same version again (SIGHUP): the directory only.
  signal('restart', {});
  await until(() => engine.calls.length === 3);
  expect(engine.calls.at(-1)).toBe('reapply 2');
  await until(() => log.some((e) => e.event === 'reloaded'));
  expect(log).toContainEqual({ event: 'reloaded', version: 2, changed: false });
  // A directory event: the running version's bundle again.
  signal('directory', {});
  await until(() => engine.calls.length === 4);
  expect(engine.calls.at(-1)).toBe('directory 2');
  expect(bundleRequests).toEqual([2, undefined, 2]);
});

it('an engine without a check, announcing restarts: restarting, applied, then cached; re-applied after an error', async () => {
  let fail = true;
  const engine = recorder({
    apply(b) {
      engine.calls.push(`apply ${b.version}`);
      if (fail) throw new Error('postfix/postfix-script: fatal: the Postfix mail system is down');
      engine.runningVersion = b.version;
    },
  });
  const { reports, signal, dataDir, log } = await attached(engine, () => bundle(1), {
    announceRestarts: true,
    reapplyAfterError: true,
  });
  engine.runningVersion = 0;
  signal('restart', { version: 1 });
  await until(() => reports.some((r) => r.state === 'error'));
  expect(reports.map((r) => r.state)).toEqual(['running', 'restarting', 'error']);
  expect(() => readFileSync(join(dataDir, 'bundle.json'))).toThrow(/ENOENT/);
  // Failed, so the same version is applied again (not only reloaded).
  fail = false;
  engine.runningVersion = 1;
  signal('restart', { version: 1 });
  await until(() => reports.at(-1)?.state === 'running');
  expect(reports.map((r) => r.state).slice(2)).toEqual(['error', 'restarting', 'running']);
  expect(engine.calls).toEqual(['apply 1', 'apply 1']);
  expect(log).toContainEqual({ event: 'restarted', version: 1 });
  expect(JSON.parse(readFileSync(join(dataDir, 'bundle.json'), 'utf8'))).toMatchObject({
    version: 1,
  });
});

it('a burst of restart signals is one apply at a time, and the last one wins', async () => {
  let release: () => void = () => undefined;
  const engine = recorder({
    async apply(b) {
      engine.calls.push(`apply ${b.version}`);
      await new Promise<void>((r) => {
        release = r;
      });
      engine.runningVersion = b.version;
    },
  });
  let version = 2;
  const { signal } = await attached(engine, () => bundle(version));
  signal('restart', { version: 2 });
  await until(() => engine.calls.length === 1);
  version = 4;
  signal('restart', { version: 3 });
  signal('restart', { version: 4 });
  await new Promise((r) => setTimeout(r, 100));
  expect(engine.calls).toEqual(['apply 2']);
  release();
  await until(() => engine.calls.length === 2);
  release();
  expect(engine.calls).toEqual(['apply 2', 'apply 4']);
});

it('initialBundle: the target version, checked and cached; the cached one when the console is unreachable', async () => {
  const stand = await standInConsole(() => ({ ...bundle(3), targetVersion: 2 }));
  const dataDir = tempDir();
  const checked: number[] = [];
  const engine = recorder({ check: (b) => void checked.push(b.version) });
  const link = new ConsoleLink(engine, { consoleUrl: stand.url, token: 'imsn_test', dataDir });
  expect((await link.initialBundle()).version).toBe(3);
  expect(stand.bundleRequests).toEqual([undefined, 2]);
  expect(checked).toEqual([3]);
  expect(JSON.parse(readFileSync(join(dataDir, 'bundle.json'), 'utf8'))).toMatchObject({
    version: 3,
  });

  const log: Record<string, unknown>[] = [];
  const offline = new ConsoleLink(engine, {
    consoleUrl: 'http://127.0.0.1:1',
    token: 'imsn_test',
    dataDir,
    log: (e) => log.push(e),
  });
  expect((await offline.initialBundle()).version).toBe(3);
  expect(log[0]).toMatchObject({ event: 'console-unreachable', using: 'cached bundle' });
  rmSync(join(dataDir, 'bundle.json'));
  await expect(offline.initialBundle()).rejects.toThrow(
    /The console is unreachable and no bundle is cached/,
  );
});

it('without a check, initialBundle caches nothing; startWith applies and caches, or reports the failure', async () => {
  const stand = await standInConsole(() => bundle(1));
  const dataDir = tempDir();
  writeFileSync(join(dataDir, 'bundle.json'), JSON.stringify(bundle(7)));
  let fail = true;
  const engine = recorder({
    apply(b) {
      if (fail) throw new Error('x'.repeat(3000));
      engine.runningVersion = b.version;
    },
  });
  const link = new ConsoleLink(engine, { consoleUrl: stand.url, token: 'imsn_test', dataDir });
  const first = await link.initialBundle();
  expect(JSON.parse(readFileSync(join(dataDir, 'bundle.json'), 'utf8')).version).toBe(7);
  await link.startWith(first);
  await link.report('error');
  expect(stand.reports.at(-1)?.lastError).toHaveLength(2000);
  fail = false;
  await link.startWith(first);
  await link.report('running');
  expect(stand.reports.at(-1)).toMatchObject({ runningVersion: 1, state: 'running' });
  expect(stand.reports.at(-1)?.lastError).toBeUndefined();
  expect(JSON.parse(readFileSync(join(dataDir, 'bundle.json'), 'utf8')).version).toBe(1);
});
