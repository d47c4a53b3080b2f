/**
 * The console's API under load (autocannon, bearer token) against a bare
 * Fastify hello-world measured in the same run, as the ceiling; and the
 * latency of a save (PUT with If-Match), p50 and p99; and the console's
 * start-up time and idle memory, through tsx and built.
 *
 *   pnpm --filter @ims/bench-api run bench   (--quick: a smoke run)
 */

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Stack } from '@ims/e2e/stack';
import type { RoutingConfig } from '@ims/routing-core';
import { childEnv, freePort } from '@ims/test-support';
import autocannon from 'autocannon';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick ?? false;
const duration = quick ? 1 : 8;
const saves = quick ? 5 : 100;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

async function rate(opts: autocannon.Options): Promise<number> {
  const r = await autocannon({ connections: 10, duration, ...opts });
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`${opts.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r.requests.average;
}

/** Resident memory of a process (kB, Linux /proc). */
function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

/**
 * The console alone (no SMTP node), started as development runs it (tsx) or
 * as `npm start` does (the JavaScript scripts/build.mjs builds): ms until it
 * prints that it listens, and its resident memory a second later.
 */
async function consoleStartup(kind: 'tsx' | 'js'): Promise<{ startMs: number; idleRssMb: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ims-bench-console-'));
  const port = await freePort();
  const server = resolve(import.meta.dirname, '../../../apps/server');
  const args =
    kind === 'js' ? [join(server, 'build/server.js')] : ['--import', 'tsx', 'src/server.ts'];
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, {
    cwd: server,
    env: childEnv({
      IMS_HTTP_PORT: String(port),
      IMS_DATA_DIR: dataDir,
      IMS_ADMIN_PASSWORD: 'bench console password',
      LOG_LEVEL: 'warn',
    }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((ok, fail) => {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += String(d);
        if (out.includes('IMS Routing Console:')) ok();
      });
      child.once('exit', (code) => fail(new Error(`the console (${kind}) exited ${code}: ${out}`)));
    });
    const startMs = Number(process.hrtime.bigint() - started) / 1e6;
    await new Promise((r) => setTimeout(r, 1000));
    return { startMs: Math.round(startMs), idleRssMb: Math.round(rssKb(child.pid ?? 0) / 1024) };
  } finally {
    await new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

execFileSync(
  process.execPath,
  [resolve(import.meta.dirname, '../../../scripts/build.mjs'), 'apps/server'],
  { stdio: 'inherit' },
);
const startup = { tsx: await consoleStartup('tsx'), js: await consoleStartup('js') };
console.log(
  `console start-up (empty data directory) to listening: tsx ${startup.tsx.startMs} ms, built JS ${startup.js.startMs} ms; idle RSS: tsx ${startup.tsx.idleRssMb} MB, built JS ${startup.js.idleRssMb} MB`,
);

const hello = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'hello.ts')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const helloPort = await new Promise<number>((resolve, reject) => {
  hello.stdout?.on('data', (d) => {
    const m = /listening (\d+)/.exec(String(d));
    if (m) resolve(Number(m[1]));
  });
  hello.once('exit', (code) => reject(new Error(`hello exited ${code}`)));
});
const stack = await Stack.start();
try {
  const auth = { authorization: `Bearer ${stack.token}` };
  const ceiling = async () => rate({ url: `http://127.0.0.1:${helloPort}/` });
  const rows: { name: string; rps: number; ratio: number }[] = [];
  const endpoints: { name: string; opts: autocannon.Options }[] = [
    { name: 'GET /api/v1/routing', opts: { url: `${stack.url}/api/v1/routing`, headers: auth } },
    {
      name: 'POST /api/v1/routing/evaluate',
      opts: {
        url: `${stack.url}/api/v1/routing/evaluate`,
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          against: 'saved',
          clientIp: '203.0.113.9',
          serverIp: '127.0.0.1',
          authenticated: false,
          mailFrom: '<someone@remote.example>',
          rcptTo: '<victim@elsewhere.example>',
        }),
      },
    },
    { name: 'GET /api/v1/service', opts: { url: `${stack.url}/api/v1/service`, headers: auth } },
  ];
  for (const e of endpoints) {
    // The ceiling is measured next to each endpoint, so both see the same machine.
    const [before, measured, after] = [await ceiling(), await rate(e.opts), await ceiling()];
    const peer = (before + after) / 2;
    rows.push({ name: e.name, rps: measured, ratio: measured / peer });
    console.log(
      `${e.name.padEnd(32)} ${measured.toFixed(0).padStart(6)} req/s   hello-world ${peer.toFixed(0).padStart(6)} req/s   ratio ${(measured / peer).toFixed(2)}`,
    );
  }
  const latencies: number[] = [];
  let open = false;
  for (let i = 0; i < saves; i++) {
    const t = performance.now();
    await stack.save((c: RoutingConfig) => {
      c.rejectUnknownRecipients = open;
    });
    latencies.push(performance.now() - t);
    open = !open;
  }
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `save (GET + PUT with If-Match) ×${saves}: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
  );
  process.stdout.write(
    `\n${JSON.stringify({
      bench: 'api',
      rows: rows.map((r) => ({ name: r.name, rps: Math.round(r.rps), ratio: +r.ratio.toFixed(2) })),
      saveP50Ms: +p50.toFixed(1),
      saveP99Ms: +p99.toFixed(1),
      startup,
    })}\n`,
  );
} finally {
  hello.kill('SIGTERM');
  await stack.stop();
}
