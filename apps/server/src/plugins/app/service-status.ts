/**
 * The service status every page shows: saved version, the version nodes were
 * told to run, where the restart stands (restart-state.ts: the console is the
 * one owner of that answer), and every node. `push()` sends it to every
 * browser stream.
 */

import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { restartState, type Signal } from './restart-state';

export function serviceStatus(app: FastifyInstance) {
  const connected = (id: number) => app.nodeEvents.isConnected(id);
  // What each node was like when it was last signalled: an error it already
  // had then is not its answer to the restart. Kept in memory: after a console
  // restart, a node's error counts as its answer (the conservative reading).
  const signals = new Map<number, Signal>();
  const snapshot = () => {
    const current = app.routingVersions.current();
    const saved = current.version;
    const target = app.nodes.target();
    const nodes = app.nodes.list(connected);
    const rollout = app.rollout.current();
    const { inProgress, ...restart } = restartState({
      saved,
      target,
      nodes,
      signals,
      now: Date.now(),
      pins: app.nodes.pins(),
      rollout,
    });
    return {
      savedVersion: saved,
      savedBy: current.savedBy,
      targetVersion: restart.targetVersion,
      // docs/design.md §3: while any *attached* node runs an older version than the saved one.
      pendingRestart: nodes.some((n) => n.online && (n.runningVersion ?? 0) < saved),
      restartInProgress: inProgress,
      restart,
      rollout,
      nodes,
    };
  };
  return {
    snapshot,
    /** What each node was like when it was last signalled, by node id. */
    signals: signals as ReadonlyMap<number, Signal>,
    /** Records that these nodes were just told to run `version`. */
    signalled(nodeIds: readonly number[], version: number): void {
      for (const id of nodeIds) {
        const n = app.nodes.get(id, connected(id));
        if (n)
          signals.set(id, { version, online: n.online, state: n.state, lastError: n.lastError });
      }
    },
    push(): void {
      app.nodeEvents.publishToBrowsers('service', snapshot());
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    serviceStatus: ReturnType<typeof serviceStatus>;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    app.decorate('serviceStatus', serviceStatus(app));
  },
  {
    name: 'service-status',
    dependencies: ['node-events', 'repositories'],
  },
);
