/**
 * The SMTP node against Postfix, on the same machine in the same run, both
 * driven by Postfix's own `smtp-source` (one connection per message), runs
 * alternated, medians printed with the ratio product ÷ Postfix. The
 * `smtp-source` → `smtp-sink` rate is printed as the load generator's ceiling.
 *
 *   pnpm --filter @ims/bench-smtp run bench [--runs 3] [--messages 2000]
 *   … --quick   a smoke run: tiny sizes, one run, no targets
 *
 * Postfix is installed from Debian when missing (needs root); without it the
 * product's numbers are printed alone.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '@ims/test-support';
import { installPostfix, PrivatePostfix, postfixInstalled } from './postfix';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    messages: { type: 'string' },
  },
});
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
    messages,
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
  execFileSync('smtp-source', [...args, `127.0.0.1:${port}`], { stdio: 'ignore' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return sc.messages / seconds;
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

  // The product's node, as its own process.
  const productPort = await freePort();
  const node = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'node-host.ts'),
      String(productPort),
      join(work, 'node'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(node);
  await waitForLine(node, /listening \d+/);

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

  const rows: { sc: Scenario; ceiling?: number; product: number; postfix?: number }[] = [];
  for (const sc of scenarios) {
    const product: number[] = [];
    const pf: number[] = [];
    const ceiling: number[] = [];
    for (let run = 0; run < runs; run++) {
      // Alternate which server goes first, so neither always gets the warmer machine.
      const order = run % 2 === 0 ? ['product', 'postfix'] : ['postfix', 'product'];
      for (const who of order) {
        if (who === 'product') product.push(drive(productPort, sc));
        else if (postfixPort) pf.push(drive(postfixPort, sc));
      }
      if (sc.id.startsWith('a')) ceiling.push(drive(sinkPort, sc));
    }
    const row = {
      sc,
      product: median(product),
      ...(pf.length ? { postfix: median(pf) } : {}),
      ...(ceiling.length ? { ceiling: median(ceiling) } : {}),
    };
    rows.push(row);
    const ratio = row.postfix ? (row.product / row.postfix).toFixed(2) : '–';
    console.log(
      `${sc.title.padEnd(48)} product ${row.product.toFixed(0).padStart(6)}/s  postfix ${
        row.postfix ? row.postfix.toFixed(0).padStart(6) : '     –'
      }/s  ratio ${ratio}${row.ceiling ? `  (generator ceiling ${row.ceiling.toFixed(0)}/s)` : ''}`,
    );
  }
  process.stdout.write(
    `\n${JSON.stringify({ bench: 'smtp', runs, messages, rows: rows.map((r) => ({ id: r.sc.id, title: r.sc.title, product: Math.round(r.product), postfix: r.postfix && Math.round(r.postfix), ratio: r.postfix && +(r.product / r.postfix).toFixed(2), ceiling: r.ceiling && Math.round(r.ceiling) })) })}\n`,
  );
} finally {
  cleanup();
}
