/**
 * A fleet (issue #14 item 5): the launcher's local node and two more nodes
 * attached as README's "Attaching an SMTP node running elsewhere" says, each
 * a real process on its own loopback port, on one console. A rolling restart
 * reaches them one at a time and refuses no connection on any of them; a node
 * that cannot apply the version halts it, the nodes after it keep the old
 * version; a rollback brings all three to one version.
 *
 * The failing node's trouble is real, not a test hook: a node applies a
 * version only once it is on its own disk, and its data directory has a
 * directory where the bundle's temporary file goes (smtp/bundle.json.tmp:
 * EISDIR, even for root).
 */

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ApiClient, createApiClient, type Service } from '@ims/api-client';
import { RawSmtp } from '@ims/smtp/testing';
import { type Child, childEnv, freePort, start, until } from '@ims/test-support';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium, signIn } from './browser';

const root = resolve(import.meta.dirname, '..');
/** Set to a folder (docs/) to save the README screenshot there. */
const SHOTS = process.env.IMS_SCREENSHOTS;
const children: Child[] = [];
const dirs: string[] = [];
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-fleet-'));
  dirs.push(d);
  return d;
};

const PASSWORD = 'fleet e2e admin password';

interface Fleet {
  api: ApiClient;
  /** The environment `ims` runs with: the console's URL and the write token. */
  imsEnv: Record<string, string>;
  /** SMTP port by node name. */
  ports: Map<string, number>;
  dataDirs: Map<string, string>;
}

async function startFleet(): Promise<Fleet & { url: string }> {
  // The launcher serves the built web app (the banner is looked at in a browser).
  ensureWebBuilt();
  const httpPort = await freePort();
  const localPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const launcher = start(join(root, 'apps/server'), 'src/launcher.ts', {
    IMS_HTTP_PORT: String(httpPort),
    IMS_SMTP_PORT: String(localPort),
    IMS_DATA_DIR: temp(),
    IMS_ADMIN_PASSWORD: PASSWORD,
    IMS_ROLLOUT_SETTLE_MS: '500',
    IMS_ROLLOUT_TIMEOUT_MS: '30000',
  });
  children.push(launcher);
  await until(
    async () => ((await createApiClient({ baseUrl: url }).health()) ? true : undefined),
    60_000,
    'the console',
  );
  const session = await createApiClient({ baseUrl: url }).login('admin', PASSWORD);
  const browser = createApiClient({
    baseUrl: url,
    cookie: session.cookie,
    csrfToken: session.csrfToken,
  });
  const { token } = await browser.tokens.create('fleet', 'write');
  const api = createApiClient({ baseUrl: url, token });
  const ports = new Map([['local', localPort]]);
  const dataDirs = new Map<string, string>();
  // README, "Attaching an SMTP node running elsewhere": register, then start it pointing at the console.
  for (const name of ['edge-1', 'edge-2']) {
    const node = await browser.nodes.register(name);
    const port = await freePort();
    const dataDir = temp();
    ports.set(name, port);
    dataDirs.set(name, dataDir);
    children.push(
      start(join(root, 'apps/smtp'), 'src/main.ts', {
        IMS_CONSOLE_URL: url,
        IMS_NODE_TOKEN: node.token,
        IMS_SMTP_LISTEN: '127.0.0.1',
        IMS_SMTP_PORT: String(port),
        IMS_DATA_DIR: dataDir,
      }),
    );
  }
  await runningEverywhere(api, 1);
  return {
    api,
    url,
    ports,
    dataDirs,
    imsEnv: { IMS_URL: url, IMS_TOKEN: token, HOME: temp() },
  };
}

/** `ims` as a subprocess (apps/cli/bin/ims.mjs), with the caller's IMS_* variables cleared. */
function ims(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const proc = spawn(process.execPath, [join(root, 'apps/cli/bin/ims.mjs'), ...args], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => {
      stdout += String(d);
    });
    proc.stderr.on('data', (d) => {
      stderr += String(d);
    });
    proc.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Resolves once all three nodes are online and run `version`. */
function runningEverywhere(api: ApiClient, version: number): Promise<Service> {
  return until(
    async () => {
      const s = await api.service.status();
      return s.nodes.length === 3 && s.nodes.every((n) => n.online && n.runningVersion === version)
        ? s
        : undefined;
    },
    90_000,
    `every node to run version ${version}`,
  );
}

const versions = (s: Service) => Object.fromEntries(s.nodes.map((n) => [n.name, n.runningVersion]));

/** A new saved version (a copy of the saved one, with a comment): what a rollout moves. */
async function save(api: ApiClient, comment: string): Promise<number> {
  const { etag } = await api.routing.get();
  const { data } = await api.routing.restore(1, etag, { comment });
  return data.version;
}

/**
 * Follows a rolling restart until it is done or halted, checking at every
 * look that at most one node runs the new version without being done (the
 * one it waits for): the nodes are moved one at a time.
 */
async function follow(api: ApiClient, version: number) {
  const seen: string[][] = [];
  const final = await until(
    async () => {
      const s = await api.service.status();
      const r = s.rollout;
      if (!r || r.version !== version) return undefined;
      const moving = s.nodes.filter(
        (n) => n.runningVersion === version && !r.done.includes(n.name),
      );
      expect(moving.length, JSON.stringify(s.nodes)).toBeLessThanOrEqual(1);
      const last = seen.at(-1);
      if (!last || last.join() !== r.done.join()) seen.push([...r.done]);
      return r.state === 'running' ? undefined : s;
    },
    120_000,
    `the rolling restart to version ${version}`,
  );
  return { final, seen };
}

describe('a fleet of three nodes on one console', () => {
  it('rolling restart one at a time under load, a halt that keeps the rest, and a rollback', {
    timeout: 400_000,
  }, async () => {
    const fleet = await startFleet();
    const { api, ports } = fleet;

    // ---- A rolling restart under connection load: no connection refused on any node. ----
    const v2 = await save(api, 'rolled out one node at a time');
    let probing = true;
    const probes = { ok: 0, failed: [] as string[] };
    const prober = (async () => {
      while (probing) {
        for (const [name, port] of ports) {
          try {
            const c = await RawSmtp.open(port);
            const greeting = await c.reply();
            c.close();
            if (greeting.startsWith('220 ')) probes.ok++;
            else probes.failed.push(`${name}: ${greeting}`);
          } catch (err) {
            probes.failed.push(`${name}: ${String(err)}`);
          }
        }
      }
    })();
    const order = ['edge-2', 'local', 'edge-1'];
    const started = await api.service.restart({ strategy: 'rolling', order });
    expect(started).toEqual({ version: v2, coalesced: false, signalled: 1 });
    const first = await follow(api, v2);
    probing = false;
    await prober;
    expect(first.final.rollout).toEqual({
      version: v2,
      strategy: 'rolling',
      state: 'done',
      order,
      done: order,
    });
    // Seen one at a time, in order: each look at `done` is a prefix of the order.
    for (const done of first.seen) expect(done).toEqual(order.slice(0, done.length));
    expect(first.seen.length).toBeGreaterThanOrEqual(2);
    expect(probes.failed).toEqual([]);
    expect(probes.ok).toBeGreaterThan(3);
    expect(versions(await runningEverywhere(api, v2))).toEqual({
      local: v2,
      'edge-1': v2,
      'edge-2': v2,
    });

    // ---- A node that cannot apply the next version halts the rollout. ----
    const edge1 = fleet.dataDirs.get('edge-1') ?? '';
    mkdirSync(join(edge1, 'smtp', 'bundle.json.tmp'));
    const v3 = await save(api, 'edge-1 cannot keep this one');
    await api.service.restart({ strategy: 'rolling', order: ['local', 'edge-1', 'edge-2'] });
    const halted = await follow(api, v3);
    expect(halted.final.rollout).toMatchObject({
      version: v3,
      state: 'halted',
      done: ['local'],
      haltedAt: 'edge-1',
      error: expect.stringContaining('EISDIR'),
    });
    expect(halted.final.restart.state).toBe('failed');
    expect(halted.final.restart.summary).toMatch(
      new RegExp(`^Halted: edge-1 could not apply version ${v3}: .*EISDIR`),
    );
    // The node that failed keeps the version it ran; the one after it was never signalled.
    await new Promise((r) => setTimeout(r, 1500));
    expect(versions(await api.service.status())).toEqual({
      local: v3,
      'edge-1': v2,
      'edge-2': v2,
    });

    // ---- Roll back: every node ends on one version, a copy of the one before. ----
    rmSync(join(edge1, 'smtp', 'bundle.json.tmp'), { recursive: true });
    const back = await api.service.rollback();
    expect(back.restoredFrom).toBe(v2);
    const after = await runningEverywhere(api, back.version);
    expect(after.savedVersion).toBe(back.version);
    expect(after.rollout).toMatchObject({ version: back.version, strategy: 'all' });
    const restored = await api.routing.version(back.version);
    expect(restored.restoredFrom).toBe(v2);
    expect(restored.config).toEqual((await api.routing.version(v2)).config);
    const audit = await api.audit({ action: 'routing.rolled-back' });
    expect(audit.entries[0]?.summary).toContain(`Rolled back to version ${v2}`);

    // ---- The same from ims: a rolling restart with a canary, then a rollback. ----
    const v5 = await save(api, 'through ims');
    const rolled = await ims(
      ['restart', '--rolling', '--canary', 'edge-1', '--wait'],
      fleet.imsEnv,
    );
    expect(rolled.stderr).toContain('Restarting edge-1 (1 of 3)…');
    expect(rolled.stdout).toContain(`Version ${v5} runs on edge-1, edge-2, local.`);
    expect(rolled.code).toBe(0);
    const undone = await ims(['rollback', '--wait'], fleet.imsEnv);
    expect(undone.stderr).toContain(`Saved version ${v5 + 1} (a copy of version ${back.version}).`);
    expect(undone.stdout).toContain(`Every online node runs version ${v5 + 1}.`);
    expect(undone.code).toBe(0);

    // ---- In the browser: Rolling restart in the banner, which says where it stands. ----
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await signIn(context, fleet.url, PASSWORD);
    const v7 = await save(api, 'from the banner');
    const banner = page.getByRole('status', { name: 'Internet Mail Service status' });
    await banner.getByRole('button', { name: 'Rolling restart' }).click();
    await banner.getByText(/^Restarting (edge-1|edge-2|local) \([123] of 3\)…$/).waitFor();
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'rolling-restart.png') });
    const viaBanner = await follow(api, v7);
    expect(viaBanner.final.rollout).toMatchObject({
      strategy: 'rolling',
      state: 'done',
      order: ['edge-1', 'edge-2', 'local'],
      done: ['edge-1', 'edge-2', 'local'],
    });
    await banner.getByText(`Applied: the Internet Mail Service runs version ${v7}.`).waitFor();
  });
});
