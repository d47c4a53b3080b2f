/**
 * The console's API under load (autocannon, bearer token) against a bare
 * Fastify hello-world measured in the same run, as the ceiling; and the
 * latency of a save (PUT with If-Match), p50 and p99.
 *
 *   pnpm --filter @ims/bench-api run bench   (--quick: a smoke run)
 */

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Stack } from '@ims/e2e/stack';
import type { RoutingConfig } from '@ims/routing-core';
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
    })}\n`,
  );
} finally {
  hello.kill('SIGTERM');
  await stack.stop();
}
