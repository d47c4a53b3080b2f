import { describe, expect, it } from 'vitest';
import type { NodeView } from './nodes-repository';
import type { Signal } from './restart-state';
import {
  advanceRollout,
  defaultOrder,
  haltRollout,
  type RolloutRecord,
  remainingOf,
  rolloutSummary,
  startRollout,
} from './rollout-state';

const T0 = Date.parse('2026-11-29T12:00:00.000Z');
const times = { settleMs: 3000, timeoutMs: 30_000 };

function node(name: string, over: Partial<NodeView> = {}): NodeView {
  return {
    id: name.length * 100 + name.charCodeAt(name.length - 1),
    name,
    engine: 'ims',
    state: 'running',
    online: true,
    runningVersion: 1,
    lastError: null,
    listen: ['127.0.0.1:2525'],
    startedAt: null,
    lastSeen: null,
    counters: { sessions: 5 },
    ...over,
  };
}

/** Drives a rollout as the plugin does: every signal is recorded as restart-state's Signal. */
function driver(record: RolloutRecord) {
  let r = record;
  const signals = new Map<number, Signal>();
  const sent: string[] = [];
  return {
    step(nodes: NodeView[], now: number): string[] {
      const out = advanceRollout(r, { nodes, signals, now, times });
      r = out.record;
      for (const name of out.signal) {
        const n = nodes.find((x) => x.name === name);
        if (n)
          signals.set(n.id, {
            version: r.rollout.version,
            online: n.online,
            state: n.state,
            lastError: n.lastError,
          });
      }
      sent.push(...out.signal);
      return out.signal;
    },
    get record() {
      return r;
    },
    sent,
  };
}

describe('rolling restart', () => {
  it('signals one node at a time, in order, and waits for each to run the version', () => {
    const d = driver(startRollout(2, 'rolling', ['edge-1', 'edge-2', 'edge-3'], 1, T0));
    let nodes = [node('edge-1'), node('edge-2'), node('edge-3')];
    expect(d.step(nodes, T0)).toEqual(['edge-1']);
    // Nothing new yet: it keeps waiting, and signals nobody else.
    expect(d.step(nodes, T0 + 100)).toEqual([]);
    // The canary runs it but has served no new session: it settles first.
    nodes = [node('edge-1', { runningVersion: 2 }), node('edge-2'), node('edge-3')];
    expect(d.step(nodes, T0 + 200)).toEqual([]);
    expect(d.step(nodes, T0 + 200 + times.settleMs - 1)).toEqual([]);
    expect(d.record.rollout.done).toEqual([]);
    expect(rolloutSummary(d.record.rollout)).toBe('Restarting edge-1 (1 of 3)…');
    expect(d.step(nodes, T0 + 200 + times.settleMs)).toEqual(['edge-2']);
    expect(d.record.rollout.done).toEqual(['edge-1']);
    expect(rolloutSummary(d.record.rollout)).toBe('Restarting edge-2 (2 of 3)…');
    // Only the canary settles: the next one goes on as soon as it runs the version.
    nodes = [
      node('edge-1', { runningVersion: 2 }),
      node('edge-2', { runningVersion: 2 }),
      node('edge-3'),
    ];
    expect(d.step(nodes, T0 + 4000)).toEqual(['edge-3']);
    nodes = nodes.map((n) => ({ ...n, runningVersion: 2 }));
    expect(d.step(nodes, T0 + 4100)).toEqual([]);
    expect(d.record.rollout).toEqual({
      version: 2,
      strategy: 'rolling',
      state: 'done',
      order: ['edge-1', 'edge-2', 'edge-3'],
      done: ['edge-1', 'edge-2', 'edge-3'],
    });
    expect(d.sent).toEqual(['edge-1', 'edge-2', 'edge-3']);
  });

  it('a new session on the canary ends its settle time early', () => {
    const d = driver(startRollout(2, 'rolling', ['a', 'b'], 1, T0));
    d.step([node('a'), node('b')], T0);
    const served = node('a', { runningVersion: 2, counters: { sessions: 6 } });
    expect(d.step([served, node('b')], T0 + 10)).toEqual(['b']);
  });

  it('halts at a node that reports an error for the version; the rest are never signalled', () => {
    const d = driver(startRollout(7, 'rolling', ['edge-2', 'edge-1', 'edge-3'], 6, T0));
    const v6 = (name: string, over: Partial<NodeView> = {}) =>
      node(name, { runningVersion: 6, ...over });
    d.step([v6('edge-1'), v6('edge-2'), v6('edge-3')], T0);
    const canaryDone = [v6('edge-1'), v6('edge-2', { runningVersion: 7 }), v6('edge-3')];
    expect(d.step(canaryDone, T0 + 1)).toEqual([]);
    expect(d.step(canaryDone, T0 + 1 + times.settleMs)).toEqual(['edge-1']);
    const failing = [
      v6('edge-1', { state: 'error', lastError: 'listen EADDRINUSE 127.0.0.1:2600' }),
      v6('edge-2', { runningVersion: 7 }),
      v6('edge-3'),
    ];
    expect(d.step(failing, T0 + times.settleMs + 50)).toEqual([]);
    expect(d.record.rollout).toEqual({
      version: 7,
      strategy: 'rolling',
      state: 'halted',
      order: ['edge-2', 'edge-1', 'edge-3'],
      done: ['edge-2'],
      haltedAt: 'edge-1',
      error: 'listen EADDRINUSE 127.0.0.1:2600',
    });
    expect(d.step(failing, T0 + 60_000)).toEqual([]);
    expect(d.sent).toEqual(['edge-2', 'edge-1']);
    expect(remainingOf(d.record.rollout)).toEqual(['edge-3']);
    expect(rolloutSummary(d.record.rollout)).toBe(
      'Halted: edge-1 could not apply version 7: listen EADDRINUSE 127.0.0.1:2600.',
    );
  });

  it('an error the node already had when it was signalled is not its answer', () => {
    const sick = node('a', { state: 'error', lastError: 'old trouble' });
    const d = driver(startRollout(2, 'rolling', ['a'], 1, T0));
    d.step([sick], T0);
    expect(d.step([sick], T0 + 100)).toEqual([]);
    expect(d.record.rollout.state).toBe('running');
  });

  it('halts at a node that does not run the version within the timeout', () => {
    const d = driver(startRollout(2, 'rolling', ['a', 'b'], 1, T0));
    d.step([node('a'), node('b')], T0);
    d.step([node('a'), node('b')], T0 + times.timeoutMs - 1);
    expect(d.record.rollout.state).toBe('running');
    d.step([node('a'), node('b')], T0 + times.timeoutMs);
    expect(d.record.rollout).toMatchObject({
      state: 'halted',
      haltedAt: 'a',
      error: 'did not run version 2 within 30 s',
      done: [],
    });
    expect(d.sent).toEqual(['a']);
  });

  it('halts at a node that is not registered (any more)', () => {
    const d = driver(startRollout(2, 'rolling', ['a', 'ghost'], 1, T0));
    d.step([node('a')], T0);
    d.step([node('a', { runningVersion: 2, counters: { sessions: 9 } })], T0 + 1);
    expect(d.record.rollout).toMatchObject({ state: 'halted', haltedAt: 'ghost', done: ['a'] });
  });

  it('a node that already runs the version is done at once (a continued rollout)', () => {
    const d = driver(startRollout(2, 'rolling', ['a', 'b'], 1, T0));
    const both = [node('a', { runningVersion: 2 }), node('b', { runningVersion: 2 })];
    expect(d.step(both, T0)).toEqual(['a']);
    // The canary still settles: from when it was first seen running the version.
    expect(d.step(both, T0 + 1)).toEqual([]);
    expect(d.step(both, T0 + 1 + times.settleMs)).toEqual(['b']);
    expect(d.step(both, T0 + 2 + times.settleMs)).toEqual([]);
    expect(d.record.rollout.state).toBe('done');
  });
});

describe('all at once', () => {
  it('is done when every node of the order runs the version', () => {
    const d = driver(startRollout(3, 'all', ['a', 'b'], 2, T0));
    expect(
      d.step([node('a', { runningVersion: 3 }), node('b', { runningVersion: 2 })], T0),
    ).toEqual([]);
    expect(d.record.rollout).toMatchObject({ state: 'running', done: ['a'] });
    d.step([node('a', { runningVersion: 3 }), node('b', { runningVersion: 3 })], T0 + 5);
    expect(d.record.rollout).toMatchObject({ state: 'done', done: ['a', 'b'] });
    expect(rolloutSummary(d.record.rollout)).toBe('Version 3 runs on a, b.');
  });

  it('halts at a node that could not load it, or is late', () => {
    const failed = driver(startRollout(3, 'all', ['a', 'b'], 2, T0));
    failed.step([node('a'), node('b', { state: 'error', lastError: 'bad' })], T0);
    expect(failed.record.rollout).toMatchObject({ state: 'halted', haltedAt: 'b', error: 'bad' });
    const late = driver(startRollout(3, 'all', ['a', 'b'], 2, T0));
    late.step([node('a', { runningVersion: 3 }), node('b')], T0 + times.timeoutMs);
    expect(late.record.rollout).toMatchObject({ state: 'halted', haltedAt: 'b', done: ['a'] });
  });
});

describe('helpers', () => {
  it('the default order is every node by name', () => {
    expect(defaultOrder([node('edge-2'), node('edge-10'), node('alpha')])).toEqual([
      'alpha',
      'edge-10',
      'edge-2',
    ]);
  });

  it('a running rollout halted on a console restart stops at the node it waited for', () => {
    const d = driver(startRollout(2, 'rolling', ['a', 'b'], 1, T0));
    d.step([node('a'), node('b')], T0);
    const r = haltRollout(d.record, 'the console restarted during the rollout');
    expect(r.rollout).toMatchObject({ state: 'halted', haltedAt: 'a' });
    expect(r.step).toBeUndefined();
    // A finished one stays as it was.
    const done = { ...r, rollout: { ...r.rollout, state: 'done' as const } };
    expect(haltRollout(done, 'x')).toBe(done);
  });
});
