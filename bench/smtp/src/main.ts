/**
 * The SMTP node against Postfix, on the same machine in the same run, both
 * driven by Postfix's own `smtp-source` (one connection per message), runs
 * alternated, medians printed with the ratio product ÷ Postfix. Each row
 * starts with one uncounted run of each server, and each run starts once
 * Postfix has delivered what it accepted before and the disk has written
 * back what earlier runs left in the page cache (settle()). The
 * `smtp-source` → `smtp-sink` rate is printed as the load generator's ceiling,
 * and for the relay-denied rows the rate of a bare Node.js responder laid out
 * as the node (node-floor.ts) as the platform's floor. Both servers log as
 * they do by default, each to a file: the node a line per RCPT decision
 * (level info), Postfix its maillog_file through postlogd.
 *
 *   pnpm --filter @ims/bench-smtp run bench [--runs 3] [--messages 2000]
 *   … --quick   a smoke run: tiny sizes, one run, no targets
 *   … --only b10,d   only these rows (and no memory rows): for profiling one row
 *
 * Postfix is installed from Debian when missing (needs root); without it the
 * product's numbers are printed alone.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { descendants, freePort } from '@ims/test-support';
import { installPostfix, PrivatePostfix, postfixInstalled } from './postfix';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    messages: { type: 'string' },
    workers: { type: 'string' },
    only: { type: 'string' },
  },
});
/** Row ids to run (`--only a10,d`); all when absent. */
const only = values.only?.split(',').map((id) => id.trim());
/** The node's SMTP workers (as IMS_SMTP_WORKERS; default the available cores). */
const workers = Number(values.workers ?? availableParallelism());
const quick = values.quick ?? false;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const messages = Number(values.messages ?? (quick ? 50 : 2000));

export interface Scenario {
  id: string;
  title: string;
  sessions: number;
  size: number;
  recipients: number;
  to: string;
  /** Relay-denied: count transactions, and do not stop at the 5xx. */
  denied: boolean;
  messages: number;
}

const scenarios: Scenario[] = [
  ...[1, 10, 50].map((s) => ({
    id: `a${s}`,
    title: `(a) local delivery, 1 KB, ${s} session${s > 1 ? 's' : ''}`,
    sessions: s,
    size: 1024,
    recipients: 1,
    to: 'alice@example.com',
    denied: false,
    messages,
  })),
  ...[1, 10, 50].map((s) => ({
    id: `b${s}`,
    title: `(b) relay denied at RCPT, ${s} session${s > 1 ? 's' : ''}`,
    sessions: s,
    size: 1024,
    recipients: 1,
    to: 'victim@elsewhere.example',
    denied: true,
    // A refusal takes about a millisecond: three times as many transactions,
    // so that a run lasts seconds, as the other rows' runs do.
    messages: messages * 3,
  })),
  {
    id: 'c',
    title: '(c) local delivery, 100 KB, 10 sessions',
    sessions: 10,
    size: 100 * 1024,
    recipients: 1,
    to: 'alice@example.com',
    denied: false,
    messages: Math.max(10, Math.floor(messages / 4)),
  },
  {
    id: 'd',
    title: '(d) 20 recipients per message, 10 sessions',
    sessions: 10,
    size: 1024,
    recipients: 20,
    to: 'alice@example.com',
    denied: false,
    messages: Math.max(10, Math.floor(messages / 4)),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Before each run: Postfix has delivered what it accepted in the runs
 * before (it delivers after the 250, while the next run would be measured),
 * and the disk has written back what every earlier run left in the page
 * cache. Each run then pays for its own work only, whichever server went
 * before it.
 */
async function settle(): Promise<void> {
  const end = Date.now() + 120_000;
  while (postfix && postfix.inFlight() > 0) {
    if (Date.now() > end) {
      console.log(
        `Postfix still has ${postfix.inFlight()} messages in flight after 2 minutes; measuring anyway.`,
      );
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  execFileSync('sync');
}

/** One smtp-source run: messages (or transactions) per second. */
function drive(port: number, sc: Scenario): number {
  const args = [
    '-s',
    String(sc.sessions),
    '-l',
    String(sc.size),
    '-m',
    String(sc.messages),
    '-f',
    'sender@remote.example',
    '-t',
    sc.to,
    '-r',
    String(sc.recipients),
    '-M',
    'source.bench.example',
  ];
  if (sc.denied) args.unshift('-A');
  const start = process.hrtime.bigint();
  try {
    execFileSync('smtp-source', [...args, `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`smtp-source against port ${port} (${sc.title}) failed: ${stderr || err}`);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return sc.messages / seconds;
}

/**
 * Memory (kB) of a process and all its descendants (Linux /proc): RSS summed
 * as asked, and PSS, which shares each shared page (the node binary, libc)
 * between the processes that map it, so many processes are not over-counted.
 */
function treeMemKb(pid: number): { rss: number; pss: number } {
  const total = { rss: 0, pss: 0 };
  for (const p of [pid, ...descendants(pid).map((d) => d.pid)]) {
    try {
      const rollup = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      total.rss += Number(/^Rss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
      total.pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function treeRssKb(pid: number): number {
  return treeMemKb(pid).rss;
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const mem = (m: { rss: number; pss: number }) => `${mb(m.rss)} (PSS ${mb(m.pss)})`;

/**
 * Opens `count` sessions and waits for their greetings; returns them open.
 * Throws unless every one was greeted with 220 (a 421, the server full, is
 * no session held).
 */
async function idleSessions(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from(
        { length: Math.min(50, count - i) },
        () =>
          new Promise<void>((ok, fail) => {
            const s = connect(port, '127.0.0.1');
            sockets.push(s);
            s.once('data', (d) => {
              const line = String(d);
              if (line.startsWith('220 ')) ok();
              else
                fail(new Error(`session ${sockets.length} of ${count} not held: ${line.trim()}`));
            });
            s.once('error', fail);
          }),
      ),
    );
  }
  return sockets;
}

/** Throws unless every socket is still open (the server closed none of them while idle). */
function stillHeld(sockets: Socket[]): void {
  const closed = sockets.filter((s) => s.destroyed || s.readyState !== 'open').length;
  if (closed > 0) throw new Error(`${closed} of ${sockets.length} idle sessions were closed`);
}

/** Runs a scenario while sampling a process tree's RSS; returns the largest sample (kB). */
async function peakRssDuring(
  pid: number,
  port: number,
  sc: Scenario,
): Promise<{ rss: number; pss: number }> {
  const peak = treeMemKb(pid);
  const sample = () => {
    const now = treeMemKb(pid);
    peak.rss = Math.max(peak.rss, now.rss);
    peak.pss = Math.max(peak.pss, now.pss);
  };
  const timer = setInterval(sample, 100);
  try {
    await new Promise<void>((ok, fail) => {
      const args = ['-s', String(sc.sessions), '-l', String(sc.size), '-m', String(sc.messages)];
      const child = spawn(
        'smtp-source',
        [
          ...args,
          '-f',
          'sender@remote.example',
          '-t',
          sc.to,
          '-M',
          'source.bench.example',
          `127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
      child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`smtp-source: ${code}`))));
    });
  } finally {
    clearInterval(timer);
  }
  sample();
  return peak;
}

/** Starts the node host (built JavaScript or through tsx); resolves when it listens. */
async function startHost(
  kind: 'tsx' | 'js',
  port: number,
  dataDir: string,
): Promise<{ child: ChildProcess; startMs: number }> {
  const args =
    kind === 'js'
      ? [join(import.meta.dirname, '../build/node-host.js')]
      : ['--import', 'tsx', join(import.meta.dirname, 'node-host.ts')];
  // Its log (a line per RCPT at level info) goes to a file beside its data, as
  // Postfix's to its maillog_file; the listening line is read back from there.
  const log = `${dataDir}.log`;
  const out = openSync(log, 'w');
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...args, String(port), dataDir, String(workers)], {
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  children.push(child);
  await waitForFileLine(log, child, /^listening \d+$/m);
  return { child, startMs: Number(process.hrtime.bigint() - started) / 1e6 };
}

/** Waits until `file`, which `child` writes, has a line matching `re`. */
async function waitForFileLine(file: string, child: ChildProcess, re: RegExp): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    const text = readFileSync(file, 'utf8');
    if (re.test(text)) return;
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${text.slice(-2000)}`);
    if (Date.now() > end) throw new Error(`no "${re}" in ${file}: ${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function stopHost(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((ok) => {
    child.once('exit', () => ok());
    child.kill('SIGTERM');
  });
}

async function waitForLine(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${re}" in: ${out}`)), 30_000);
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

const work = mkdtempSync(join(tmpdir(), 'ims-bench-smtp-'));
// Postfix's unprivileged daemons must reach their directories inside it.
chmodSync(work, 0o755);
const children: ChildProcess[] = [];
let postfix: PrivatePostfix | undefined;
const cleanup = () => {
  for (const c of children) c.kill('SIGTERM');
  postfix?.stop();
  rmSync(work, { recursive: true, force: true });
};
process.once('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  const root = process.getuid?.() === 0;
  if (!postfixInstalled() && root) {
    console.log('Installing Postfix from Debian (postfix, smtp-source, smtp-sink)…');
    installPostfix();
  }
  if (!postfixInstalled()) {
    console.log(
      "smtp-source is not installed (install Debian's postfix): nothing to drive the servers with.",
    );
    process.exit(quick ? 0 : 1);
  }

  // The product's node, as its own process: first through tsx (as before
  // `npm start` built it), then as the built JavaScript that `npm start` runs,
  // which is the one measured below.
  const productPort = await freePort();
  const repo = resolve(import.meta.dirname, '../../..');
  execFileSync(
    process.execPath,
    [
      join(repo, 'scripts/build.mjs'),
      '--outdir',
      join(import.meta.dirname, '../build'),
      join(import.meta.dirname, 'node-host.ts'),
      join(import.meta.dirname, 'node-floor.ts'),
      join(repo, 'apps/smtp/src/cluster/worker.ts'),
    ],
    { stdio: 'inherit' },
  );
  const memory: { label: string; product: string; postfix?: string }[] = [];
  const startup: Record<'tsx' | 'js', { startMs: number; idleKb: number }> = {
    tsx: { startMs: 0, idleKb: 0 },
    js: { startMs: 0, idleKb: 0 },
  };
  for (const kind of ['tsx', 'js'] as const) {
    const host = await startHost(kind, productPort, join(work, `node-${kind}`));
    await new Promise((r) => setTimeout(r, 1000));
    startup[kind] = { startMs: host.startMs, idleKb: treeRssKb(host.child.pid ?? 0) };
    console.log(
      `node (${workers} worker${workers > 1 ? 's' : ''}) through ${kind === 'tsx' ? 'tsx' : 'built JS'}: listening after ${startup[kind].startMs.toFixed(0)} ms, idle RSS ${mb(startup[kind].idleKb)} (all its processes)`,
    );
    await stopHost(host.child);
  }
  const node = (await startHost('js', productPort, join(work, 'node'))).child;
  // Postfix, private (needs root to start).
  let postfixPort: number | undefined;
  if (root) {
    postfixPort = await freePort();
    postfix = new PrivatePostfix(join(work, 'postfix'), postfixPort);
    postfix.start();
    await new Promise((r) => setTimeout(r, 1000));
  } else {
    console.log('Not root: Postfix is not started; the product is measured alone.');
  }

  // The load generator's ceiling: smtp-source against smtp-sink.
  const sinkPort = await freePort();
  const sink = spawn(
    'smtp-sink',
    [...(root ? ['-u', 'postfix'] : []), `127.0.0.1:${sinkPort}`, '256'],
    {
      stdio: 'ignore',
    },
  );
  children.push(sink);
  await new Promise((r) => setTimeout(r, 300));

  // The relay-denied rows' floor: a bare Node.js responder laid out as the node (node-floor.ts).
  const floorPort = await freePort();
  const floorHost = spawn(
    process.execPath,
    [join(import.meta.dirname, '../build/node-floor.js'), String(floorPort), String(workers)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(floorHost);
  await waitForLine(floorHost, /listening \d+/);

  const rows: {
    sc: Scenario;
    ceiling?: number;
    floor?: number;
    product: number;
    postfix?: number;
  }[] = [];
  for (const sc of scenarios.filter((x) => !only || only.includes(x.id))) {
    const product: number[] = [];
    const pf: number[] = [];
    const ceiling: number[] = [];
    const floor: number[] = [];
    // One run of each server first, not counted: the node's JIT compiles its
    // paths for this row's traffic, Postfix starts the processes it needs.
    for (const port of [productPort, postfixPort, ...(sc.denied ? [floorPort] : [])]) {
      if (port === undefined) continue;
      await settle();
      drive(port, sc);
    }
    for (let run = 0; run < runs; run++) {
      // Alternate which server goes first, so neither always gets the warmer machine.
      const servers = ['product', 'postfix', ...(sc.denied ? ['floor'] : [])];
      const order = run % 2 === 0 ? servers : servers.reverse();
      for (const who of order) {
        await settle();
        if (who === 'product') product.push(drive(productPort, sc));
        else if (who === 'floor') floor.push(drive(floorPort, sc));
        else if (postfixPort) pf.push(drive(postfixPort, sc));
      }
      if (sc.id.startsWith('a')) {
        await settle();
        ceiling.push(drive(sinkPort, sc));
      }
    }
    const row = {
      sc,
      product: median(product),
      ...(pf.length ? { postfix: median(pf) } : {}),
      ...(ceiling.length ? { ceiling: median(ceiling) } : {}),
      ...(floor.length ? { floor: median(floor) } : {}),
    };
    rows.push(row);
    const ratio = row.postfix ? (row.product / row.postfix).toFixed(2) : '–';
    console.log(
      `${sc.title.padEnd(48)} product ${row.product.toFixed(0).padStart(6)}/s  postfix ${
        row.postfix ? row.postfix.toFixed(0).padStart(6) : '     –'
      }/s  ratio ${ratio}${row.ceiling ? `  (generator ceiling ${row.ceiling.toFixed(0)}/s)` : ''}${
        row.floor
          ? `  (bare Node.js responder ${row.floor.toFixed(0)}/s${row.postfix ? `, ${(row.floor / row.postfix).toFixed(2)}× Postfix` : ''})`
          : ''
      }`,
    );
  }
  // Memory: 1,000 idle sessions, and the peak during the 50-session run.
  const nodePid = node.pid ?? 0;
  const postfixPid = postfix?.masterPid();
  for (const [who, pid, port] of only
    ? []
    : ([
        ['product', nodePid, productPort],
        ...(postfixPid && postfixPort ? [['postfix', postfixPid, postfixPort] as const] : []),
      ] as const)) {
    const idle = treeMemKb(pid);
    const sockets = await idleSessions(port, quick ? 100 : 1000);
    await new Promise((r) => setTimeout(r, 1000));
    const held = treeMemKb(pid);
    stillHeld(sockets);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 1000));
    const a50 = scenarios.find((sc) => sc.id === 'a50');
    const peak = a50 ? await peakRssDuring(pid, port, a50) : { rss: 0, pss: 0 };
    const put = (label: string, kb: { rss: number; pss: number }) => {
      const row = memory.find((m) => m.label === label) ?? { label, product: '' };
      if (!memory.includes(row)) memory.push(row);
      row[who] = mem(kb);
    };
    // After the throughput rows: what the processes hold once the load is gone
    // (the node's fresh start is the start-up row).
    put('RSS idle after the runs, all processes', idle);
    put(`RSS at ${quick ? 100 : 1000} idle sessions`, held);
    put('RSS, peak during (a) 50 sessions', peak);
  }
  for (const m of memory)
    console.log(`${m.label.padEnd(40)} product ${m.product}  postfix ${m.postfix ?? '–'}`);
  console.log(
    `node start-up to a listening socket: tsx ${startup.tsx.startMs.toFixed(0)} ms, built JS ${startup.js.startMs.toFixed(0)} ms; idle RSS: tsx ${mb(startup.tsx.idleKb)}, built JS ${mb(startup.js.idleKb)}`,
  );
  process.stdout.write(
    `\n${JSON.stringify({ bench: 'smtp', runs, messages, workers, memory, startup: { tsx: { startMs: Math.round(startup.tsx.startMs), idleRssMb: Math.round(startup.tsx.idleKb / 1024) }, js: { startMs: Math.round(startup.js.startMs), idleRssMb: Math.round(startup.js.idleKb / 1024) } }, rows: rows.map((r) => ({ id: r.sc.id, title: r.sc.title, product: Math.round(r.product), postfix: r.postfix && Math.round(r.postfix), ratio: r.postfix && +(r.product / r.postfix).toFixed(2), ceiling: r.ceiling && Math.round(r.ceiling), floor: r.floor && Math.round(r.floor), floorRatio: r.floor && r.postfix && +(r.floor / r.postfix).toFixed(2) })) })}\n`,
  );
} finally {
  cleanup();
}
