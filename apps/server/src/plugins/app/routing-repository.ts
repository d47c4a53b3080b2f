/**
 * Routing configuration versions: every save is a new row, never changed.
 * The saved configuration is the newest version.
 */

import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';

export interface Version {
  version: number;
  savedAt: string;
  savedBy: string;
  comment?: string;
  restoredFrom?: number;
  config: RoutingConfig;
}

export type VersionSummary = Omit<Version, 'config'>;

interface Row {
  version: number;
  config: string;
  saved_at: string;
  saved_by: string;
  comment: string | null;
  restored_from: number | null;
}

function summaryOf(r: Omit<Row, 'config'>): VersionSummary {
  return {
    version: r.version,
    savedAt: r.saved_at,
    savedBy: r.saved_by,
    ...(r.comment === null ? {} : { comment: r.comment }),
    ...(r.restored_from === null ? {} : { restoredFrom: r.restored_from }),
  };
}

/** Thrown by save() when the saved version is not the one the caller based its change on. */
export class StaleVersionError extends Error {
  constructor(readonly current: VersionSummary) {
    super(`version ${current.version} is the saved one`);
  }
}

export function routingRepository(db: FastifyInstance['db']) {
  const latest = db.prepare('SELECT * FROM config_versions ORDER BY version DESC LIMIT 1');
  const byVersion = db.prepare('SELECT * FROM config_versions WHERE version = ?');
  const insert = db.prepare(
    `INSERT INTO config_versions (version, config, saved_at, saved_by, comment, restored_from)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const fromRow = (r: Row): Version => ({
    ...summaryOf(r),
    config: JSON.parse(r.config) as RoutingConfig,
  });

  return {
    /** The saved (newest) version; there always is one once seeded. */
    current(): Version {
      const row = latest.get() as Row | undefined;
      if (!row) throw new Error('no routing configuration: the database was not seeded');
      return fromRow(row);
    },

    get(version: number): Version | undefined {
      const row = byVersion.get(version) as Row | undefined;
      return row ? fromRow(row) : undefined;
    },

    /** Newest first. */
    list(limit: number, before?: number): VersionSummary[] {
      const rows = db
        .prepare(
          `SELECT version, saved_at, saved_by, comment, restored_from FROM config_versions
           ${before === undefined ? '' : 'WHERE version < ?'} ORDER BY version DESC LIMIT ?`,
        )
        .all(...(before === undefined ? [] : [before]), limit) as Omit<Row, 'config'>[];
      return rows.map(summaryOf);
    },

    /**
     * Writes version current+1, if `basedOn` is still the saved version;
     * throws StaleVersionError otherwise. Call inside a transaction that also
     * writes the audit entry.
     */
    save(
      config: RoutingConfig,
      basedOn: number,
      savedBy: string,
      extra: { comment?: string; restoredFrom?: number } = {},
    ): Version {
      const current = latest.get() as Row | undefined;
      if (current && current.version !== basedOn) throw new StaleVersionError(summaryOf(current));
      const version = (current?.version ?? 0) + 1;
      const savedAt = new Date().toISOString();
      insert.run(
        version,
        JSON.stringify(config),
        savedAt,
        savedBy,
        extra.comment ?? null,
        extra.restoredFrom ?? null,
      );
      return {
        version,
        savedAt,
        savedBy,
        ...(extra.comment === undefined ? {} : { comment: extra.comment }),
        ...(extra.restoredFrom === undefined ? {} : { restoredFrom: extra.restoredFrom }),
        config,
      };
    },

    /** On first start: version 1 is the defaults of a new install (docs/design.md §2 rule 11). */
    seed(siteDomain: string): boolean {
      if (latest.get()) return false;
      this.save(defaultConfig(siteDomain), 0, 'system', { comment: 'Defaults of a new install' });
      return true;
    },
  };
}
