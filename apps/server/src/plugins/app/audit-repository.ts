/** The append-only audit log: who changed what, from where, when. */

import { SIGN_IN_ACTIONS } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { auditBy, summarizeAudit } from './audit-summary';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  person?: string;
  by: string;
  source: string;
  action: string;
  target?: string;
  summary: string;
  details?: unknown;
}

export interface AuditRecord {
  actor: string;
  /** For a token actor: the user who created the token. */
  person?: string;
  source: string;
  action: string;
  target?: string;
  details?: unknown;
}

interface Row {
  id: number;
  at: string;
  actor: string;
  person: string | null;
  source: string;
  action: string;
  target: string | null;
  details: string | null;
}

export interface AuditFilter {
  limit: number;
  before?: number;
  /** An action, or a family ending with a dot (`routing.`) that matches every action starting with it. */
  action?: string;
  actor?: string;
  /** false leaves out sign-ins and sign-outs. */
  signIns?: boolean;
}

export function auditRepository(db: FastifyInstance['db']) {
  const insert = db.prepare(
    'INSERT INTO audit_log (at, actor, person, source, action, target, details) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return {
    /** Appends an entry; call it inside the transaction of the change it records. */
    record(entry: AuditRecord): void {
      insert.run(
        new Date().toISOString(),
        entry.actor,
        entry.person ?? null,
        entry.source,
        entry.action,
        entry.target ?? null,
        entry.details === undefined ? null : JSON.stringify(entry.details),
      );
    },

    /** Newest first; `before` is the id to page from. */
    list(q: AuditFilter): AuditEntry[] {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.before !== undefined) {
        where.push('id < ?');
        args.push(q.before);
      }
      if (q.action?.endsWith('.')) {
        // A family: compared as a prefix, so LIKE's wildcards in it mean nothing.
        where.push('substr(action, 1, ?) = ?');
        args.push(q.action.length, q.action);
      } else if (q.action !== undefined) {
        where.push('action = ?');
        args.push(q.action);
      }
      if (q.signIns === false) {
        where.push(`action NOT IN (${SIGN_IN_ACTIONS.map(() => '?').join(', ')})`);
        args.push(...SIGN_IN_ACTIONS);
      }
      if (q.actor !== undefined) {
        where.push('actor = ?');
        args.push(q.actor);
      }
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...args, q.limit) as Row[];
      return rows.map((r) => {
        const details = r.details === null ? undefined : (JSON.parse(r.details) as unknown);
        const target = r.target ?? undefined;
        return {
          id: r.id,
          at: r.at,
          actor: r.actor,
          ...(r.person === null ? {} : { person: r.person }),
          by: auditBy(r.actor, r.person ?? undefined),
          source: r.source,
          action: r.action,
          ...(target === undefined ? {} : { target }),
          summary: summarizeAudit({
            action: r.action,
            ...(target === undefined ? {} : { target }),
            ...(details === undefined ? {} : { details }),
          }),
          ...(details === undefined ? {} : { details }),
        };
      });
    },
  };
}
