/**
 * A rollout: how the latest restart moves the nodes to a version (issue #14).
 * `all` signals every node at once; `rolling` signals one node at a time, in
 * `order`, and waits until that node reports running the version (the first,
 * the canary, also until it served a new session or `settleMs` passed) before
 * it signals the next. A node that reports an error for the version, or does
 * not run it within `timeoutMs`, halts the rollout: the nodes after it are
 * never signalled and keep the version they ran.
 *
 * Pure: the rollout plugin feeds it the nodes (what they last reported), the
 * signals they got and the time, and does what it answers (signal a node,
 * save the record, tell the browsers).
 */

import type { Rollout } from '@ims/api-contract';
import type { NodeView } from './nodes-repository';
import { failureOf, type Signal } from './restart-state';

export interface RolloutTimes {
  /** The canary counts as good this long after it runs the version, without a new session. */
  settleMs: number;
  /** A node that does not run the version this long after its signal halts the rollout. */
  timeoutMs: number;
}

/** The node a rolling restart waits for. */
export interface RolloutStep {
  name: string;
  signalledAt: number;
  /** Its `sessions` counter when it was signalled: a change is a new session. */
  sessions: number | null;
  /** When it was first seen running the version (the canary's settle time counts from then). */
  ranAt?: number;
}

/** What the console keeps of a rollout: the wire shape plus what it needs to go on. */
export interface RolloutRecord {
  rollout: Rollout;
  /** The version the fleet ran before the rollout started: what a rollback restores. */
  fromVersion: number;
  startedAt: number;
  step?: RolloutStep;
}

export interface RolloutInput {
  nodes: readonly NodeView[];
  /** The last restart signal each node got, by node id (restart-state.ts). */
  signals: ReadonlyMap<number, Signal>;
  now: number;
  times: RolloutTimes;
}

export interface RolloutAdvance {
  record: RolloutRecord;
  /** Nodes to signal now to run `record.rollout.version`, by name. */
  signal: string[];
}

/** The default rolling order: every registered node, by name. */
export function defaultOrder(nodes: readonly NodeView[]): string[] {
  return nodes.map((n) => n.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function startRollout(
  version: number,
  strategy: Rollout['strategy'],
  order: readonly string[],
  fromVersion: number,
  now: number,
): RolloutRecord {
  return {
    rollout: { version, strategy, state: 'running', order: [...order], done: [] },
    fromVersion,
    startedAt: now,
  };
}

const runs = (n: NodeView, version: number) => n.online && n.runningVersion === version;
const sessionsOf = (n: NodeView) => n.counters.sessions ?? null;

function halted(record: RolloutRecord, at: string, error: string): RolloutRecord {
  const { step: _step, ...rest } = record;
  return { ...rest, rollout: { ...record.rollout, state: 'halted', haltedAt: at, error } };
}

/** A running rollout marked halted, e.g. because the console restarted during it. */
export function haltRollout(record: RolloutRecord, error: string): RolloutRecord {
  if (record.rollout.state !== 'running') return record;
  const at =
    record.step?.name ??
    record.rollout.order.find((n) => !record.rollout.done.includes(n)) ??
    record.rollout.order[0] ??
    '';
  return halted(record, at, error);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function advanceAll(record: RolloutRecord, input: RolloutInput): RolloutAdvance {
  const { version } = record.rollout;
  const done = [...record.rollout.done];
  for (const name of record.rollout.order) {
    if (done.includes(name)) continue;
    const node = input.nodes.find((n) => n.name === name);
    if (!node) return { record: halted(record, name, `${name} was removed`), signal: [] };
    if (runs(node, version)) {
      done.push(name);
      continue;
    }
    const error = failureOf(node, version, input.signals.get(node.id));
    if (error !== undefined) {
      return {
        record: halted({ ...record, rollout: { ...record.rollout, done } }, name, error),
        signal: [],
      };
    }
  }
  const rollout = { ...record.rollout, done };
  if (done.length === rollout.order.length) {
    return { record: { ...record, rollout: { ...rollout, state: 'done' } }, signal: [] };
  }
  if (input.now - record.startedAt >= input.times.timeoutMs) {
    const late = rollout.order.find((n) => !done.includes(n)) ?? '';
    return {
      record: halted(
        { ...record, rollout },
        late,
        `did not run version ${version} within ${seconds(input.times.timeoutMs)}`,
      ),
      signal: [],
    };
  }
  return { record: { ...record, rollout }, signal: [] };
}

function advanceRolling(record: RolloutRecord, input: RolloutInput): RolloutAdvance {
  const { now, times } = input;
  const { version } = record.rollout;
  let r = record;
  for (;;) {
    if (r.rollout.state !== 'running') return { record: r, signal: [] };
    const step = r.step;
    if (step === undefined) {
      const next = r.rollout.order.find((n) => !r.rollout.done.includes(n));
      if (next === undefined) {
        return { record: { ...r, rollout: { ...r.rollout, state: 'done' } }, signal: [] };
      }
      const node = input.nodes.find((n) => n.name === next);
      if (!node) return { record: halted(r, next, `${next} is not registered`), signal: [] };
      return {
        record: { ...r, step: { name: next, signalledAt: now, sessions: sessionsOf(node) } },
        signal: [next],
      };
    }
    const node = input.nodes.find((n) => n.name === step.name);
    if (!node) return { record: halted(r, step.name, `${step.name} was removed`), signal: [] };
    if (runs(node, version)) {
      const canary = r.rollout.done.length === 0;
      const ranAt = step.ranAt ?? now;
      const served = step.sessions !== null && sessionsOf(node) !== step.sessions;
      if (canary && !served && now - ranAt < times.settleMs) {
        return { record: { ...r, step: { ...step, ranAt } }, signal: [] };
      }
      const { step: _done, ...rest } = r;
      r = { ...rest, rollout: { ...r.rollout, done: [...r.rollout.done, step.name] } };
      continue;
    }
    const error = failureOf(node, version, input.signals.get(node.id));
    if (error !== undefined) return { record: halted(r, step.name, error), signal: [] };
    if (now - step.signalledAt >= times.timeoutMs) {
      return {
        record: halted(
          r,
          step.name,
          `did not run version ${version} within ${seconds(times.timeoutMs)}`,
        ),
        signal: [],
      };
    }
    return { record: r, signal: [] };
  }
}

/** The rollout after what the nodes reported, and the nodes to signal now. */
export function advanceRollout(record: RolloutRecord, input: RolloutInput): RolloutAdvance {
  if (record.rollout.state !== 'running') return { record, signal: [] };
  return record.rollout.strategy === 'all'
    ? advanceAll(record, input)
    : advanceRolling(record, input);
}

/** The nodes a halted rolling restart had not reached: what "Continue" restarts. */
export function remainingOf(rollout: Rollout): string[] {
  return rollout.order.filter((n) => !rollout.done.includes(n) && n !== rollout.haltedAt);
}

/** One sentence for the banner and `ims`: where the rollout stands. */
export function rolloutSummary(rollout: Rollout): string {
  const { version, order, done } = rollout;
  if (rollout.state === 'done')
    return `Version ${version} runs on ${done.join(', ') || 'no node'}.`;
  if (rollout.state === 'halted') {
    return `Halted: ${rollout.haltedAt ?? 'a node'} could not apply version ${version}: ${rollout.error ?? 'no reason given'}.`;
  }
  if (rollout.strategy === 'all') return `Restarting every node onto version ${version}…`;
  const current = order.find((n) => !done.includes(n));
  return `Restarting ${current ?? 'the last node'} (${done.length + 1} of ${order.length})…`;
}
