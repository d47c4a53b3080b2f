import type { Rollout } from '@ims/api-contract';
import { describe, expect, it } from 'vitest';
import type { NodeView } from './nodes-repository';
import { RESTART_WINDOW_MS, restartState, type Signal } from './restart-state';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const justNow = new Date(NOW - 1000).toISOString();
const longAgo = new Date(NOW - RESTART_WINDOW_MS - 1000).toISOString();

function node(name: string, over: Partial<NodeView> = {}): NodeView {
  return {
    id: name.charCodeAt(0),
    name,
    engine: 'ims',
    state: 'running',
    online: true,
    runningVersion: 1,
    lastError: null,
    listen: ['127.0.0.1:2525'],
    startedAt: justNow,
    lastSeen: justNow,
    counters: {},
    ...over,
  };
}

const signal = (n: NodeView, version: number): [number, Signal] => [
  n.id,
  { version, online: n.online, state: n.state, lastError: n.lastError },
];

interface Case {
  name: string;
  saved: number;
  pins?: [number, number][];
  rollout?: Rollout;
  target?: { version: number; requestedAt: string };
  nodes: NodeView[];
  signals?: [number, Signal][];
  state: string;
  behind?: string[];
  failed?: string[];
  waitingFor?: string[];
  summary: RegExp;
}

const errored = node('b', { state: 'error', lastError: 'bad bundle' });

const cases: Case[] = [
  {
    name: 'every node runs the saved version',
    saved: 1,
    nodes: [node('a'), node('b')],
    state: 'idle',
    summary: /^Every node runs version 1\.$/,
  },
  {
    name: 'a save nobody restarted for',
    saved: 2,
    target: { version: 1, requestedAt: longAgo },
    nodes: [node('a')],
    state: 'pending',
    summary: /Version 2 is saved; the nodes were last told to run version 1/,
  },
  {
    name: 'a restart under way: the node has not loaded the target yet',
    saved: 2,
    target: { version: 2, requestedAt: justNow },
    nodes: [node('a'), node('b', { runningVersion: 2 })],
    state: 'restarting',
    behind: ['a'],
    summary: /not yet running on a\.$/,
  },
  {
    name: 'a node reports restarting',
    saved: 2,
    target: { version: 2, requestedAt: longAgo },
    nodes: [node('a', { state: 'restarting', runningVersion: 2 })],
    state: 'restarting',
    summary: /^Restarting/,
  },
  {
    name: 'a node that reports an error for the target has failed, the other node is done',
    saved: 2,
    target: { version: 2, requestedAt: justNow },
    nodes: [node('a', { runningVersion: 2 }), errored],
    signals: [signal(node('b'), 2)],
    state: 'failed',
    failed: ['b'],
    summary: /b could not load it \(bad bundle\) and runs version 1/,
  },
  {
    name: 'an error the node already had when signalled is not its answer yet',
    saved: 2,
    target: { version: 2, requestedAt: justNow },
    nodes: [errored],
    signals: [signal(errored, 2)],
    state: 'restarting',
    behind: ['b'],
    failed: [],
    summary: /not yet running on b\.$/,
  },
  {
    name: 'an online node went offline after the signal without running the target',
    saved: 2,
    target: { version: 2, requestedAt: justNow },
    nodes: [node('a', { runningVersion: 2 }), node('b', { online: false, state: 'offline' })],
    signals: [signal(node('b'), 2)],
    state: 'failed',
    failed: ['b'],
    summary: /b could not load it \(went offline before running version 2\)/,
  },
  {
    name: 'a node offline before the restart waits for it',
    saved: 2,
    target: { version: 2, requestedAt: justNow },
    nodes: [node('a', { runningVersion: 2 }), node('b', { online: false, state: 'offline' })],
    state: 'waiting',
    waitingFor: ['b'],
    summary: /runs on every online node; b \(offline\) loads it when it attaches/,
  },
  {
    name: 'a crashed node (offline, with the error it reported) has failed',
    saved: 2,
    target: { version: 2, requestedAt: longAgo },
    nodes: [node('a', { online: false, state: 'offline', lastError: 'exited with code 1' })],
    state: 'failed',
    failed: ['a'],
    summary: /exited with code 1/,
  },
  {
    name: 'no node at all: never "applied"',
    saved: 2,
    target: { version: 2, requestedAt: justNow },
    nodes: [],
    state: 'waiting',
    summary: /^No SMTP node is running: version 2 takes effect when/,
  },
  {
    name: 'a newer save after a failed restart is pending (Restart now is the next step)',
    saved: 3,
    target: { version: 2, requestedAt: longAgo },
    nodes: [errored],
    state: 'pending',
    failed: ['b'],
    summary: /Version 3 is saved/,
  },
  {
    name: 'a rolling restart under way is restarting, whatever the window, with its own sentence',
    saved: 2,
    target: { version: 2, requestedAt: longAgo },
    nodes: [node('a', { runningVersion: 2 }), node('b')],
    pins: [[node('b').id, 1]],
    rollout: {
      version: 2,
      strategy: 'rolling',
      state: 'running',
      order: ['a', 'b'],
      done: [],
    },
    state: 'restarting',
    behind: [],
    summary: /^Restarting a \(1 of 2\)…$/,
  },
  {
    name: 'a halted rolling restart has failed; the node it never reached is not behind (pinned at its version)',
    saved: 2,
    target: { version: 2, requestedAt: longAgo },
    nodes: [
      node('a', { runningVersion: 2 }),
      node('b', { state: 'error', lastError: 'EISDIR' }),
      node('c'),
    ],
    pins: [
      [node('b').id, 2],
      [node('c').id, 1],
    ],
    rollout: {
      version: 2,
      strategy: 'rolling',
      state: 'halted',
      order: ['a', 'b', 'c'],
      done: ['a'],
      haltedAt: 'b',
      error: 'EISDIR',
    },
    state: 'failed',
    failed: ['b'],
    behind: [],
    summary: /^Halted: b could not apply version 2: EISDIR\.$/,
  },
  {
    name: 'a rollout halted because a node was late is still the answer',
    saved: 2,
    target: { version: 2, requestedAt: longAgo },
    nodes: [node('a')],
    pins: [[node('a').id, 2]],
    rollout: {
      version: 2,
      strategy: 'rolling',
      state: 'halted',
      order: ['a'],
      done: [],
      haltedAt: 'a',
      error: 'did not run version 2 within 60 s',
    },
    state: 'failed',
    summary: /^Halted: a could not apply version 2: did not run version 2 within 60 s\.$/,
  },
];

describe('restartState: the one answer to "is it applied"', () => {
  it.each(cases)('$name', (c) => {
    const r = restartState({
      saved: c.saved,
      target: c.target,
      nodes: c.nodes,
      signals: new Map(c.signals ?? []),
      now: NOW,
      pins: new Map(c.pins ?? []),
      rollout: c.rollout ?? null,
    });
    expect(r.state).toBe(c.state);
    expect(r.summary).toMatch(c.summary);
    if (c.behind) expect(r.behind).toEqual(c.behind);
    if (c.failed) expect(r.failed.map((f) => f.name)).toEqual(c.failed);
    if (c.waitingFor) expect(r.waitingFor).toEqual(c.waitingFor);
    expect(r.targetVersion).toBe(c.target?.version ?? c.saved);
    expect(r.noNodeOnline).toBe(!c.nodes.some((n) => n.online));
  });
});
