/**
 * SMTP nodes and the service state: which nodes are registered, what each
 * last reported, and which configuration version they were last told to run.
 */

import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RolloutRecord } from './rollout-state';

export const NODE_TOKEN_PREFIX = 'imsn_';
/** A node whose event stream is closed and that has not reported for this long is offline. */
export const OFFLINE_AFTER_MS = 15_000;

export type NodeState = 'registered' | 'running' | 'restarting' | 'error' | 'offline';

export interface NodeStatusReport {
  runningVersion: number | null;
  state: 'running' | 'restarting' | 'error';
  lastError?: string | undefined;
  listen: string[];
  startedAt: string;
  counters: Record<string, number>;
  /** The node's engine; absent = "ims". */
  engine?: NodeEngine | undefined;
}

export type NodeEngine = 'ims' | 'postfix';

export interface NodeView {
  id: number;
  name: string;
  engine: NodeEngine;
  state: NodeState;
  online: boolean;
  runningVersion: number | null;
  lastError: string | null;
  listen: string[];
  startedAt: string | null;
  lastSeen: string | null;
  counters: Record<string, number>;
}

interface Row {
  id: number;
  name: string;
  engine: string;
  state: string;
  running_version: number | null;
  last_error: string | null;
  listen: string;
  started_at: string | null;
  counters: string;
  last_seen: string | null;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function nodesRepository(db: FastifyInstance['db']) {
  const view = (r: Row, connected: boolean): NodeView => {
    const seen = r.last_seen ? Date.parse(r.last_seen) : 0;
    const online = connected || Date.now() - seen < OFFLINE_AFTER_MS;
    return {
      id: r.id,
      name: r.name,
      engine: r.engine === 'postfix' ? 'postfix' : 'ims',
      state: online || r.state === 'registered' ? (r.state as NodeState) : 'offline',
      online,
      runningVersion: r.running_version,
      lastError: r.last_error,
      listen: JSON.parse(r.listen) as string[],
      startedAt: r.started_at,
      lastSeen: r.last_seen,
      counters: JSON.parse(r.counters) as Record<string, number>,
    };
  };

  // The statements of every status read and every node request, compiled once.
  const allNodes = db.prepare('SELECT * FROM nodes ORDER BY id');
  const nodeById = db.prepare('SELECT * FROM nodes WHERE id = ?');
  const nodeByToken = db.prepare('SELECT id, name FROM nodes WHERE token_hash = ?');

  return {
    /** Registers a node; its token is in this answer only. */
    register(name: string): { id: number; name: string; token: string } {
      const token = `${NODE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const result = db
        .prepare('INSERT INTO nodes (name, token_hash, created_at) VALUES (?, ?, ?)')
        .run(name, sha256(token), new Date().toISOString());
      return { id: Number(result.lastInsertRowid), name, token };
    },

    byName(name: string): { id: number } | undefined {
      return db.prepare('SELECT id FROM nodes WHERE name = ?').get(name) as
        | { id: number }
        | undefined;
    },

    /** The node a token belongs to. */
    byToken(token: string): { id: number; name: string } | undefined {
      return nodeByToken.get(sha256(token)) as { id: number; name: string } | undefined;
    },

    list(isConnected: (id: number) => boolean): NodeView[] {
      const rows = allNodes.all() as Row[];
      return rows.map((r) => view(r, isConnected(r.id)));
    },

    get(id: number, connected: boolean): NodeView | undefined {
      const row = nodeById.get(id) as Row | undefined;
      return row ? view(row, connected) : undefined;
    },

    remove(id: number): boolean {
      return db.prepare('DELETE FROM nodes WHERE id = ?').run(id).changes > 0;
    },

    report(id: number, status: NodeStatusReport): void {
      db.prepare(
        `UPDATE nodes SET state = ?, running_version = ?, last_error = ?, listen = ?, started_at = ?,
         counters = ?, last_seen = ?, engine = ? WHERE id = ?`,
      ).run(
        status.state,
        status.runningVersion,
        status.lastError ?? null,
        JSON.stringify(status.listen),
        status.startedAt,
        JSON.stringify(status.counters),
        new Date().toISOString(),
        status.engine ?? 'ims',
        id,
      );
    },

    /**
     * Reported by whoever supervises the node's process (the embedded start):
     * the node is in error, e.g. a crash loop. Counts as fresh news of it.
     */
    markFailed(id: number, lastError: string): void {
      db.prepare(
        "UPDATE nodes SET state = 'error', last_error = ?, last_seen = ? WHERE id = ?",
      ).run(lastError, new Date().toISOString(), id);
    },

    seen(id: number): void {
      db.prepare('UPDATE nodes SET last_seen = ? WHERE id = ?').run(new Date().toISOString(), id);
    },

    /** The version nodes were last told to run; before any restart, the first saved one. */
    target(): { version: number; requestedAt: string; requestedBy: string } | undefined {
      const row = db.prepare('SELECT * FROM service_state WHERE id = 1').get() as
        | { target_version: number; requested_at: string; requested_by: string }
        | undefined;
      return row
        ? {
            version: row.target_version,
            requestedAt: row.requested_at,
            requestedBy: row.requested_by,
          }
        : undefined;
    },

    /**
     * The version each node is to run where it is not the fleet's target (a
     * rolling restart in progress or halted), by node id.
     */
    pins(): Map<number, number> {
      const rows = db
        .prepare('SELECT id, target_version FROM nodes WHERE target_version IS NOT NULL')
        .all() as { id: number; target_version: number }[];
      return new Map(rows.map((r) => [r.id, r.target_version]));
    },

    /** Sets (or, with null, clears) the version one node is to run. */
    pin(id: number, version: number | null): void {
      db.prepare('UPDATE nodes SET target_version = ? WHERE id = ?').run(version, id);
    },

    /** Clears the pins of every node (all of them, or those pinned at `version`). */
    unpin(version?: number): void {
      if (version === undefined) db.prepare('UPDATE nodes SET target_version = NULL').run();
      else
        db.prepare('UPDATE nodes SET target_version = NULL WHERE target_version = ?').run(version);
    },

    /** The latest rollout, as it was saved. */
    rollout(): RolloutRecord | undefined {
      const row = db.prepare('SELECT record FROM rollouts WHERE id = 1').get() as
        | { record: string }
        | undefined;
      return row ? (JSON.parse(row.record) as RolloutRecord) : undefined;
    },

    saveRollout(record: RolloutRecord): void {
      db.prepare(
        `INSERT INTO rollouts (id, record) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET record = excluded.record`,
      ).run(JSON.stringify(record));
    },

    setTarget(version: number, requestedBy: string): void {
      db.prepare(
        `INSERT INTO service_state (id, target_version, requested_at, requested_by) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET target_version = excluded.target_version,
         requested_at = excluded.requested_at, requested_by = excluded.requested_by`,
      ).run(version, new Date().toISOString(), requestedBy);
    },
  };
}
