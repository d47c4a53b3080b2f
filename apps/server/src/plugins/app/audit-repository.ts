/** The append-only audit log: who changed what, from where, when. */

import type { FastifyInstance } from 'fastify';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  source: string;
  action: string;
  target?: string;
  details?: unknown;
}

export interface AuditRecord {
  actor: string;
  source: string;
  action: string;
  target?: string;
  details?: unknown;
}

interface Row {
  id: number;
  at: string;
  actor: string;
  source: string;
  action: string;
  target: string | null;
  details: string | null;
}

export function auditRepository(db: FastifyInstance['db']) {
  const insert = db.prepare(
    'INSERT INTO audit_log (at, actor, source, action, target, details) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return {
    /** Appends an entry; call it inside the transaction of the change it records. */
    record(entry: AuditRecord): void {
      insert.run(
        new Date().toISOString(),
        entry.actor,
        entry.source,
        entry.action,
        entry.target ?? null,
        entry.details === undefined ? null : JSON.stringify(entry.details),
      );
    },

    /** Newest first; `before` is the id to page from. */
    list(q: { limit: number; before?: number; action?: string; actor?: string }): AuditEntry[] {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.before !== undefined) {
        where.push('id < ?');
        args.push(q.before);
      }
      if (q.action !== undefined) {
        where.push('action = ?');
        args.push(q.action);
      }
      if (q.actor !== undefined) {
        where.push('actor = ?');
        args.push(q.actor);
      }
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...args, q.limit) as Row[];
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        source: r.source,
        action: r.action,
        ...(r.target === null ? {} : { target: r.target }),
        ...(r.details === null ? {} : { details: JSON.parse(r.details) as unknown }),
      }));
    },
  };
}
