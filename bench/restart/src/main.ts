/**
 * Restarts under steady SMTP load. The console and one SMTP node run as real
 * processes; while `smtp-source` keeps sessions coming (and a prober opens
 * connections back to back), the bench saves and restarts 50 times,
 * alternating two configurations: A (the defaults: strangers are refused
 * relay) and B (127.0.0.0/8 may relay).
 *
 * It counts connection attempts that failed and replies that were neither
 * A's nor B's; measures the time from each restart request to the node
 * reporting the new version (p50, p99; target p99 < 500 ms); and checks that
 * a session opened before each restart finishes under the old version.
 *
 * `--engine postfix` runs the same against a Postfix node (apps/postfix-node
 * driving a private Postfix; issue 12), 10 restarts by default: its apply
 * includes a staging self-check and a spaced `postfix reload`, so its
 * latency is seconds, not milliseconds. Postfix words its replies itself:
 * for it a refusal is matched by code and enhanced code.
 *
 *   pnpm --filter @ims/bench-restart run bench [--restarts 50] [--engine ims|postfix] [--workers N]   (--quick: 5, or 2 for postfix)
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { type Engine, postfixAvailable, Stack } from '@ims/e2e/stack';
import type { RoutingConfig } from '@ims/routing-core';
import { RawSmtp } from '@ims/smtp/testing';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    restarts: { type: 'string' },
    workers: { type: 'string' },
    engine: { type: 'string', default: 'ims' },
  },
});
/** The node's SMTP workers (IMS_SMTP_WORKERS; default the available cores, as the node runs). */
const workers = Number(values.workers ?? availableParallelism());
if (values.engine !== 'ims' && values.engine !== 'postfix') {
  console.error(`--engine must be ims or postfix, not "${values.engine}"`);
  process.exit(2);
}
const engine: Engine = values.engine;
if (engine === 'postfix' && !postfixAvailable()) {
  console.log('Postfix is not installed (or not root): no Postfix restart bench.');
  process.stdout.write(`\n${JSON.stringify({ bench: 'restart-postfix', engine: 'none' })}\n`);
  process.exit(0);
}
const restarts = Number(
  values.restarts ?? (engine === 'postfix' ? (values.quick ? 2 : 10) : values.quick ? 5 : 50),
);

const DENIED_IMS = '550 5.7.1 Relaying is prohibited';
const isDenied = (reply: string) =>
  engine === 'ims' ? reply === DENIED_IMS : /^550 5\.7\.1 .*Relaying is prohibited$/.test(reply);
const ACCEPTED = /^250 2\.1\.5 /;
const open = (c: RoutingConfig) => {
  c.restrictions.clientAddresses = {
    enabled: true,
    entries: [{ ip: '127.0.0.0', mask: '255.0.0.0' }],
  };
};
const closed = (c: RoutingConfig) => {
  c.restrictions.clientAddresses = { enabled: false, entries: [] };
};

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

function hasSmtpSource(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v smtp-source'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// smtp-source and the prober open every session from 127.0.0.1, hundreds a
// second: the node's per-address limits (50 at once, 600 a minute) would
// refuse them. Off, as in bench/smtp; Postfix needs nothing (no rate limit by
// default, and its 50 sessions per address are far above smtp-source's 5 and
// the prober's one).
const stack = await Stack.start({
  engine,
  workers,
  nodeEnv: { IMS_SMTP_CLIENT_CONNECTION_LIMIT: '0', IMS_SMTP_CLIENT_CONNECTION_RATE: '0' },
});
const port = stack.smtpPort;
const result = {
  restarts,
  probes: 0,
  refused: [] as string[],
  unexpected: [] as string[],
  oldSessionWrong: [] as string[],
  applyMs: [] as number[],
};
let load: ChildProcess | undefined;
try {
  // Steady background load (relay-denied or relayed, depending on the version).
  if (hasSmtpSource()) {
    load = spawn(
      'smtp-source',
      [
        '-A',
        '-s',
        '5',
        '-m',
        '100000000',
        '-f',
        'load@remote.example',
        '-t',
        'v@elsewhere.example',
        `127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
  } else {
    console.log('smtp-source not installed (Debian postfix): the prober alone makes the load.');
  }

  // The prober: connection after connection, each a whole relay attempt.
  let probing = true;
  const prober = (async () => {
    while (probing) {
      let c: RawSmtp | undefined;
      try {
        c = await RawSmtp.open(port);
        const greeting = await c.reply();
        if (!greeting.startsWith('220 ')) {
          result.refused.push(greeting);
          continue;
        }
        await c.cmd('EHLO probe.example');
        await c.cmd('MAIL FROM:<probe@remote.example>');
        const reply = await c.cmd('RCPT TO:<v@elsewhere.example>');
        result.probes++;
        if (!isDenied(reply) && !ACCEPTED.test(reply)) result.unexpected.push(reply);
      } catch (err) {
        result.refused.push(String(err));
      } finally {
        c?.close();
      }
    }
  })();

  let isOpen = false;
  for (let i = 0; i < restarts; i++) {
    const next = isOpen ? closed : open;
    const version = await stack.save(next);
    // A session opened under the running version, mid-transaction.
    const before = await RawSmtp.open(port);
    await before.reply();
    await before.cmd('EHLO before.example');
    await before.cmd('MAIL FROM:<before@remote.example>');
    const asked = performance.now();
    const res = await stack.api('POST', '/api/v1/service/restart');
    if (res.status !== 202) throw new Error(`restart: ${res.status}`);
    for (;;) {
      const s = await stack.service();
      if (s.nodes[0]?.runningVersion === version) break;
      if (performance.now() - asked > (engine === 'postfix' ? 180_000 : 30_000))
        throw new Error(`version ${version} not applied`);
      await new Promise((r) => setTimeout(r, 5));
    }
    result.applyMs.push(performance.now() - asked);
    const old = await before.cmd('RCPT TO:<v@elsewhere.example>');
    const expectedOld = isOpen ? ACCEPTED.test(old) : isDenied(old);
    if (!expectedOld) result.oldSessionWrong.push(`restart ${i + 1}: ${old}`);
    before.close();
    isOpen = !isOpen;
  }
  probing = false;
  await prober;
} finally {
  load?.kill('SIGTERM');
  await stack.stop();
}

const p50 = percentile(result.applyMs, 50);
const p99 = percentile(result.applyMs, 99);
console.log(`engine:                              ${engine}`);
console.log(`restarts under load:                 ${restarts}`);
console.log(`probe transactions:                  ${result.probes}`);
console.log(`connection attempts that failed:     ${result.refused.length} (target 0)`);
console.log(`replies neither A's nor B's:         ${result.unexpected.length} (target 0)`);
console.log(`old sessions not on the old version: ${result.oldSessionWrong.length} (target 0)`);
console.log(
  `restart request → new version:       p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms${engine === 'ims' ? ' (target p99 < 500 ms)' : ''}`,
);
for (const line of [...result.refused, ...result.unexpected, ...result.oldSessionWrong].slice(
  0,
  10,
))
  console.log(`  ${line}`);
process.stdout.write(
  `\n${JSON.stringify({
    bench: engine === 'postfix' ? 'restart-postfix' : 'restart',
    engine,
    restarts,
    workers,
    probes: result.probes,
    refused: result.refused.length,
    unexpected: result.unexpected.length,
    oldSessionWrong: result.oldSessionWrong.length,
    applyP50Ms: Math.round(p50),
    applyP99Ms: Math.round(p99),
  })}\n`,
);
const ok =
  result.refused.length === 0 &&
  result.unexpected.length === 0 &&
  result.oldSessionWrong.length === 0;
process.exit(ok ? 0 : 1);
