/**
 * Where a restart stands: the console's one answer to "is the saved version
 * running, on which nodes, and if not, why" (docs/design.md §3 "Restart
 * state"). Pure: the service-status plugin feeds it the saved version, the
 * target, the nodes and what each node was like when it was signalled.
 */

import type { RestartState, Rollout } from '@ims/api-contract';
import type { NodeView } from './nodes-repository';
import { rolloutSummary } from './rollout-state';

/** A restart counts as under way for this long after it was requested. */
export const RESTART_WINDOW_MS = 60_000;

/** A node as it was when the console signalled it to restart to `version`. */
export interface Signal {
  version: number;
  online: boolean;
  state: NodeView['state'];
  lastError: string | null;
}

export interface RestartInput {
  saved: number;
  target: { version: number; requestedAt: string } | undefined;
  nodes: readonly NodeView[];
  /** The last restart signal each node got, by node id. */
  signals: ReadonlyMap<number, Signal>;
  now: number;
  /**
   * The version a node is to run where it is not the target, by node id: a
   * rolling restart leaves the nodes it has not signalled (yet) where they were.
   */
  pins?: ReadonlyMap<number, number>;
  /** The latest rollout: while it runs, the restart is in progress; its sentence is the summary. */
  rollout?: Rollout | null;
}

const behindOf = (n: NodeView, version: number) => (n.runningVersion ?? 0) < version;

/** The error that keeps `n` from the target, or undefined when it has none (yet). */
export function failureOf(
  n: NodeView,
  version: number,
  signal: Signal | undefined,
): string | undefined {
  if (!behindOf(n, version)) return undefined;
  const signalled = signal !== undefined && signal.version >= version;
  if (n.online) {
    if (n.state !== 'error') return undefined;
    // An error it already had when it was signalled is not the answer to this
    // restart: it has not answered yet.
    if (signalled && signal.state === 'error' && signal.lastError === n.lastError) return undefined;
    return n.lastError ?? 'the node reported an error without text';
  }
  // Offline: it crashed while loading (it reported an error and went away), or
  // it went away after it was signalled without running the version.
  if (n.lastError) return n.lastError;
  if (signalled && signal.online) return `went offline before running version ${version}`;
  return undefined;
}

const names = (nodes: readonly NodeView[]) => nodes.map((n) => n.name);
const runs = (v: number | null) => (v === null ? 'nothing yet' : `version ${v}`);

export function restartState(input: RestartInput): RestartState & { inProgress: boolean } {
  const { saved, nodes, signals, now } = input;
  const targetVersion = input.target?.version ?? saved;
  const own = (n: NodeView) => input.pins?.get(n.id) ?? targetVersion;
  const online = nodes.filter((n) => n.online);
  const failed = nodes.flatMap((n) => {
    const error = failureOf(n, own(n), signals.get(n.id));
    return error === undefined ? [] : [{ name: n.name, runningVersion: n.runningVersion, error }];
  });
  const failedNames = new Set(failed.map((f) => f.name));
  const behind = online.filter((n) => behindOf(n, own(n)) && !failedNames.has(n.name));
  const waitingFor = nodes.filter(
    (n) => !n.online && behindOf(n, own(n)) && !failedNames.has(n.name),
  );
  const recent =
    input.target !== undefined && now - Date.parse(input.target.requestedAt) < RESTART_WINDOW_MS;
  // A rolling restart is the answer while it runs or when it halted; a restart
  // of every node at once is judged from the nodes, as it always was.
  const rollout = input.rollout?.strategy === 'rolling' ? input.rollout : undefined;
  const rolling = rollout?.state === 'running';
  const inProgress =
    rolling || (recent && behind.length > 0) || online.some((n) => n.state === 'restarting');
  const onlineBehindSaved = online.filter((n) => behindOf(n, saved));
  const noNodeOnline = online.length === 0;

  let state: RestartState['state'];
  let summary: string;
  if (rolling && rollout) {
    state = 'restarting';
    summary = rolloutSummary(rollout);
  } else if (inProgress) {
    state = 'restarting';
    summary = `Restarting: version ${targetVersion} is not yet running on ${names(behind).join(', ') || 'every node'}.`;
  } else if (saved > targetVersion) {
    state = 'pending';
    summary = `Version ${saved} is saved; the nodes were last told to run version ${targetVersion}. It takes effect when the Internet Mail Service restarts.`;
  } else if (rollout?.state === 'halted' && rollout.version === targetVersion) {
    // A halted rollout: what stopped it, and where (a late node is not "failed" by its report).
    state = 'failed';
    summary = rolloutSummary(rollout);
  } else if (failed.length > 0) {
    state = 'failed';
    summary = `Version ${targetVersion} is not running everywhere: ${failed
      .map((f) => `${f.name} could not load it (${f.error}) and runs ${runs(f.runningVersion)}`)
      .join('; ')}.`;
  } else if (onlineBehindSaved.length > 0) {
    state = 'pending';
    summary = `Version ${saved} is saved; ${onlineBehindSaved
      .map((n) => `${n.name} runs ${runs(n.runningVersion)}`)
      .join(', ')}. It takes effect when the Internet Mail Service restarts.`;
  } else if (noNodeOnline) {
    state = 'waiting';
    summary = `No SMTP node is running: version ${targetVersion} takes effect when the Internet Mail Service attaches.`;
  } else if (waitingFor.length > 0) {
    state = 'waiting';
    summary = `Version ${targetVersion} runs on every online node; ${names(waitingFor).join(', ')} (offline) loads it when it attaches.`;
  } else {
    state = 'idle';
    summary = `Every node runs version ${targetVersion}.`;
  }
  return {
    state,
    targetVersion,
    behind: names(behind),
    failed,
    waitingFor: names(waitingFor),
    noNodeOnline,
    summary,
    inProgress,
  };
}
