/**
 * The service status every page shows: saved version, the version nodes were
 * told to run, whether a restart is pending or under way, and every node.
 * `push()` sends it to every browser stream.
 */

import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** A restart counts as under way for this long after it was requested. */
export const RESTART_WINDOW_MS = 60_000;

export function serviceStatus(app: FastifyInstance) {
  const connected = (id: number) => app.nodeEvents.isConnected(id);
  const behind = (v: number | null, than: number) => (v ?? 0) < than;
  const snapshot = () => {
    const saved = app.routingVersions.current().version;
    const target = app.nodes.target();
    const nodes = app.nodes.list(connected);
    const inProgress =
      !!target &&
      Date.now() - Date.parse(target.requestedAt) < RESTART_WINDOW_MS &&
      nodes.some(
        (n) => n.online && n.state !== 'error' && behind(n.runningVersion, target.version),
      );
    return {
      savedVersion: saved,
      targetVersion: target?.version ?? saved,
      // DESIGN.md §3: while any *attached* node runs an older version than the saved one.
      pendingRestart: nodes.some((n) => n.online && behind(n.runningVersion, saved)),
      restartInProgress: inProgress,
      nodes,
    };
  };
  return {
    snapshot,
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
    dependencies: ['node-events', 'nodes-repository', 'routing-repository'],
  },
);
