/**
 * The embedded start's own SMTP node: registered by the console itself on
 * first start (its token kept in the data directory, 0600), and its crashes
 * reported in the node registry so the console shows them.
 */

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

export const LOCAL_NODE_NAME = 'local';

export interface LocalNodeCredentials {
  id: number;
  name: string;
  token: string;
}

export const credentialsPath = (dataDir: string) => join(dataDir, 'local-node.json');
export const pidPath = (dataDir: string) => join(dataDir, 'local-node.pid');

/** The local node's id and token: the stored ones while they still work, else a new registration. */
export function ensureLocalNode(app: FastifyInstance, dataDir: string): LocalNodeCredentials {
  const file = credentialsPath(dataDir);
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as LocalNodeCredentials;
      const node = typeof stored.token === 'string' ? app.nodes.byToken(stored.token) : undefined;
      if (node) return { id: node.id, name: node.name, token: stored.token };
    } catch {
      // Unreadable: register again below.
    }
  }
  const created = app.db.transaction(() => {
    // A node of that name whose token is lost (the file was deleted) is replaced.
    const old = app.nodes.byName(LOCAL_NODE_NAME);
    if (old) app.nodes.remove(old.id);
    const node = app.nodes.register(LOCAL_NODE_NAME);
    app.audit.record({
      actor: 'system',
      source: 'local',
      action: 'node.registered',
      target: `node:${node.name}`,
      details: { embedded: true, ...(old ? { replaced: old.id } : {}) },
    });
    return node;
  })();
  writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return created;
}

/** Records that the local node's process exited unasked (and whether it is crash-looping). */
export function reportLocalNodeExit(
  app: FastifyInstance,
  node: LocalNodeCredentials,
  exit: {
    reason: string;
    crashLoop: boolean;
    recentExits: number;
    windowSeconds: number;
    restartInMs: number;
  },
): void {
  const next = `restarting in ${Math.round(exit.restartInMs / 100) / 10} s`;
  const message = exit.crashLoop
    ? `crash loop: exited ${exit.recentExits} times in ${exit.windowSeconds} s (last: ${exit.reason}); ${next}`
    : `the local SMTP node ${exit.reason}; ${next}`;
  app.db.transaction(() => {
    app.nodes.markFailed(node.id, message);
    app.audit.record({
      actor: 'system',
      source: 'local',
      action: exit.crashLoop ? 'node.crash-loop' : 'node.exited',
      target: `node:${node.name}`,
      details: {
        reason: exit.reason,
        recentExits: exit.recentExits,
        restartInMs: exit.restartInMs,
      },
    });
  })();
  app.serviceStatus.push();
  app.log.warn({ node: node.name, ...exit }, message);
}
