/**
 * The SQLite database: one file under the data directory (or `:memory:` in
 * tests), WAL mode, migrations applied at start, closed with the app.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { migrate } from '../../db/migrate';

declare module 'fastify' {
  interface FastifyInstance {
    db: Database.Database;
    /** Throws unless the database answers a query (the health check). */
    checkDb: () => void;
    /** Writes a consistent copy of the live database to `file` (SQLite's online backup API). */
    backupDb: (file: string) => Promise<void>;
  }
}

export interface DbOptions {
  /** The data directory, or `:memory:`. */
  dataDir: string;
}

export const DB_FILE = 'ims.db';

export function openDatabase(dataDir: string): Database.Database {
  let db: Database.Database;
  if (dataDir === ':memory:') {
    db = new Database(':memory:');
  } else {
    // Only this user: the database holds password hashes and tokens' hashes.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    db = new Database(join(dataDir, DB_FILE));
    db.pragma('journal_mode = WAL');
  }
  // FULL: a save that got its 2xx survives a power cut, not just a crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export default fp(
  async (app: FastifyInstance, opts: DbOptions) => {
    const db = openDatabase(opts.dataDir);
    app.decorate('db', db);
    app.decorate('checkDb', () => {
      db.prepare('SELECT 1').get();
    });
    app.decorate('backupDb', async (file: string) => {
      await db.backup(file);
    });
    app.addHook('onClose', async () => {
      db.close();
    });
  },
  { name: 'db' },
);
