/**
 * Decisions per second of routing-core's compiled evaluate() against a
 * linear-scan peer (evaluateLinear), measured in the same run on the same
 * workload. First checks that both decide every query alike.
 *
 *   pnpm --filter @ims/bench-routing-core run bench            full run
 *   pnpm --filter @ims/bench-routing-core run bench --quick    CI smoke run (a few seconds)
 *   ... run bench --check=2000                                 check only 2,000 queries
 *
 * Speed is reported, never enforced: the exit code is 1 only when the two
 * implementations disagree (or the workload cannot be built).
 */

import { cpus } from 'node:os';
import {
  compile,
  type Decision,
  type EvaluateInput,
  evaluate,
  type Policy,
  type RoutingConfig,
} from '@ims/routing-core';
import { evaluateLinear } from '@ims/routing-core/testing';
import { buildWorkload } from './workload';

const COMPILED_AIM = 1_000_000;
/** Recipients per message in the SMTP-shaped stream. */
const RECIPIENTS_PER_MESSAGE = 5;
const RATIO_AIM = 50;

interface Settings {
  rounds: number;
  /** Time slice of each implementation in each round, in ms. */
  compiledMs: number;
  tracedMs: number;
  linearMs: number;
  /** How many queries the agreement check covers (spread over the whole set). */
  check: number | 'all';
}

function settingsFrom(argv: readonly string[]): Settings {
  const quick = argv.includes('--quick');
  const settings: Settings = quick
    ? { rounds: 3, compiledMs: 150, tracedMs: 100, linearMs: 150, check: 250 }
    : { rounds: 5, compiledMs: 1000, tracedMs: 500, linearMs: 1000, check: 'all' };
  for (const arg of argv) {
    const m = /^--check=(\d+|all)$/.exec(arg);
    if (m?.[1]) settings.check = m[1] === 'all' ? 'all' : Number(m[1]);
  }
  return settings;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A decision as comparable text: every field but the trace, keys in a fixed order. */
function canonical(d: Decision): string {
  const sortKeys = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(sortKeys);
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys(record[k])]),
    );
  };
  const { trace: _trace, ...rest } = d;
  return JSON.stringify(sortKeys(rest));
}

function describeQuery(q: EvaluateInput): string {
  const { isKnownRecipient: _known, ...rest } = q;
  return JSON.stringify(rest);
}

/** Checks evaluate() (trace off and on) against evaluateLinear(); returns false on a mismatch. */
function checkAgreement(
  policy: Policy,
  config: RoutingConfig,
  queries: readonly EvaluateInput[],
  count: number,
  stride = queries.length / count,
): boolean {
  const started = performance.now();
  let lastReport = started;
  for (let k = 0; k < count; k++) {
    const q = queries[Math.floor(k * stride)];
    if (!q) continue;
    const fast = canonical(evaluate(policy, q, { trace: false }));
    const traced = canonical(evaluate(policy, q));
    const linear = canonical(evaluateLinear(config, q));
    if (fast !== linear || traced !== fast) {
      console.error(`MISMATCH on query ${Math.floor(k * stride)}: ${describeQuery(q)}`);
      console.error(`  evaluate (compiled):        ${fast}`);
      if (traced !== fast) console.error(`  evaluate (compiled, trace): ${traced}`);
      console.error(`  evaluateLinear:             ${linear}`);
      return false;
    }
    const now = performance.now();
    if (now - lastReport > 10_000) {
      lastReport = now;
      const rate = (k + 1) / ((now - started) / 1000);
      process.stderr.write(
        `  checked ${fmt(k + 1)} of ${fmt(count)} (about ${fmt((count - k - 1) / rate)} s left)\n`,
      );
    }
  }
  return true;
}

/** Cheap, order-dependent digest of a decision, so no result can be optimised away. */
function digest(d: Decision): number {
  return d.reason.length + d.action.length * 3 + (d.rule ? d.rule.pointer.length : 0);
}

interface Runner {
  name: string;
  /** Decisions between two reads of the clock. */
  batch: number;
  decide: (q: EvaluateInput) => Decision;
  sliceMs: number;
  cursor: number;
  rates: number[];
}

let sink = 0;

function runSlice(runner: Runner, queries: readonly EvaluateInput[]): number {
  const n = queries.length;
  const decide = runner.decide;
  let i = runner.cursor;
  let count = 0;
  let acc = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let b = 0; b < runner.batch; b++) {
      acc = (acc * 31 + digest(decide(queries[i] as EvaluateInput))) | 0;
      i = i + 1 === n ? 0 : i + 1;
    }
    count += runner.batch;
    elapsed = performance.now() - start;
  } while (elapsed < runner.sliceMs);
  runner.cursor = i;
  sink ^= acc;
  return count / (elapsed / 1000);
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function main(): number {
  const settings = settingsFrom(process.argv.slice(2));
  const cpu = cpus();
  console.log(
    `routing-core bench: node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
  );

  let t = performance.now();
  const workload = buildWorkload();
  const { config, queries } = workload;
  const buildMs = performance.now() - t;
  t = performance.now();
  const policy = compile(config);
  const compileMs = performance.now() - t;
  const r = config.restrictions;
  const ipCount = r.clientAddresses.entries.length + r.internalAddresses.entries.length;
  console.log(
    `workload: ${fmt(config.routes.length)} routes, ${fmt(ipCount + r.neverRoute.length)} address entries ` +
      `(${fmt(r.clientAddresses.entries.length)} client, ${fmt(r.internalAddresses.entries.length)} internal, ` +
      `${fmt(r.neverRoute.length)} never-route), ${fmt(queries.length)} queries, ` +
      `${fmt(workload.directory.size)} mailboxes; built in ${fmt(buildMs)} ms, compiled in ${fmt(compileMs)} ms`,
  );

  // The same recipients as an SMTP node asks about them: in messages of
  // RECIPIENTS_PER_MESSAGE RCPTs that share the session (client and server
  // address, authentication) and the MAIL FROM.
  const sessions = queries.map((q, i) => {
    const first = queries[i - (i % RECIPIENTS_PER_MESSAGE)] as EvaluateInput;
    return { ...first, rcptTo: q.rcptTo };
  });

  // 1. Agreement, in both streams (the second exercises what evaluate() keeps
  // from one recipient of a session to the next).
  const count =
    settings.check === 'all' ? queries.length : Math.min(settings.check, queries.length);
  t = performance.now();
  if (
    !checkAgreement(policy, config, queries, count) ||
    !checkAgreement(policy, config, sessions, Math.min(count, 2000), 1)
  ) {
    console.error('FAIL: evaluate() and evaluateLinear() disagree.');
    return 1;
  }
  console.log(
    `agreement: evaluate() and evaluateLinear() decide ${fmt(count)} of ${fmt(queries.length)} queries alike ` +
      `(${count === queries.length ? 'every query' : 'spread over the set'}; ${fmt((performance.now() - t) / 1000, 1)} s)`,
  );
  const reasons = new Map<string, number>();
  for (const q of queries) {
    const d = evaluate(policy, q, { trace: false });
    const key = `${d.action}/${d.reason}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  console.log(
    `decisions: ${[...reasons]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${fmt((100 * v) / queries.length, 1)}%`)
      .join(', ')}`,
  );

  // 2. Speed, the implementations alternating in rounds, the median rate of each.
  const compiled: Runner = {
    name: 'routing-core evaluate (compiled)',
    batch: 1000,
    decide: (q) => evaluate(policy, q, { trace: false }),
    sliceMs: settings.compiledMs,
    cursor: 0,
    rates: [],
  };
  const session: Runner = {
    name: `  same, SMTP sessions (${RECIPIENTS_PER_MESSAGE} RCPT/message)`,
    batch: 1000,
    decide: (q) => evaluate(policy, q, { trace: false }),
    sliceMs: settings.compiledMs,
    cursor: 0,
    rates: [],
  };
  const traced: Runner = {
    name: 'routing-core evaluate (trace on)',
    batch: 500,
    decide: (q) => evaluate(policy, q),
    sliceMs: settings.tracedMs,
    cursor: 0,
    rates: [],
  };
  const linear: Runner = {
    name: 'linear scan',
    batch: 1,
    decide: (q) => evaluateLinear(config, q),
    sliceMs: settings.linearMs,
    cursor: 0,
    rates: [],
  };
  const runners = [compiled, session, traced, linear];
  const streamOf = (runner: Runner) => (runner === session ? sessions : queries);
  for (const runner of runners) {
    runSlice({ ...runner, sliceMs: runner.sliceMs / 3 }, streamOf(runner));
  }
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < runners.length; k++) {
      const runner = runners[(round + k) % runners.length] as Runner;
      runner.rates.push(runSlice(runner, streamOf(runner)));
    }
  }

  const width = Math.max(...runners.map((x) => x.name.length));
  console.log('');
  console.log(
    `${'implementation'.padEnd(width)}  ${'decisions/s'.padStart(12)}  ${'min'.padStart(12)}  ${'max'.padStart(12)}`,
  );
  for (const runner of runners) {
    console.log(
      `${runner.name.padEnd(width)}  ${fmt(median(runner.rates)).padStart(12)}  ` +
        `${fmt(Math.min(...runner.rates)).padStart(12)}  ${fmt(Math.max(...runner.rates)).padStart(12)}`,
    );
  }
  const compiledRate = median(compiled.rates);
  const ratio = compiledRate / median(linear.rates);
  console.log(
    `(median of ${settings.rounds} alternating rounds of ${fmt(settings.compiledMs)} / ${fmt(settings.compiledMs)} / ` +
      `${fmt(settings.tracedMs)} / ${fmt(settings.linearMs)} ms; checksum ${(sink >>> 0).toString(16)})`,
  );
  console.log(
    'Every query of the first row is a new session and message (the worst case); the second row ' +
      'asks the same recipients the way an SMTP node does, several RCPTs per MAIL FROM.',
  );
  console.log('');
  const sessionRate = median(session.rates);
  const meets = (rate: number) => (rate >= COMPILED_AIM ? 'met' : 'NOT met');
  console.log(
    `aim ≥${fmt(COMPILED_AIM)} decisions/s (compiled): independent queries ${meets(compiledRate)} ` +
      `(${fmt(compiledRate)}/s); SMTP sessions ${meets(sessionRate)} (${fmt(sessionRate)}/s)`,
  );
  console.log(
    `aim ≥${RATIO_AIM}x the linear scan: ${ratio >= RATIO_AIM ? 'met' : 'NOT met'} (${fmt(ratio, 1)}x)`,
  );
  console.log('(speed is reported, not enforced: these machines are noisy)');
  console.log(`ratio compiled/linear: ${fmt(ratio, 1)}x`);
  // One machine-readable line for the suite's summary (scripts/bench.mjs).
  console.log(
    JSON.stringify({
      bench: 'routing-core',
      compiledPerSecond: Math.round(compiledRate),
      sessionPerSecond: Math.round(sessionRate),
      linearPerSecond: Math.round(median(linear.rates)),
      ratio: +ratio.toFixed(1),
    }),
  );
  return 0;
}

process.exitCode = main();
