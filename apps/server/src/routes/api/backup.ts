/**
 * POST /api/v1/backup: a consistent copy of the console database, taken
 * while the console runs with SQLite's online backup API (better-sqlite3's
 * `db.backup()`), streamed as the file itself. Writes keep going while it
 * copies; the copy is the database as of one moment. It holds password and
 * token hashes: a signed-in user or a write token may take it, and each one
 * taken is in the audit log. To restore: stop the console, put the file at
 * IMS_DATA_DIR under the name DB_FILE (with no -wal or -shm file beside it), start.
 */

import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { DB_FILE } from '../../plugins/external/db';
import { routeOptions } from '../route-options';

export default async function backupRoutes(app: FastifyInstance) {
  app.route({
    ...routeOptions(routes.backup),
    handler: async (request, reply) => {
      // A private directory (0700): the copy holds password hashes.
      const dir = await mkdtemp(join(tmpdir(), 'ims-backup-'));
      const file = join(dir, DB_FILE);
      try {
        await app.backupDb(file);
        const { size } = await stat(file);
        app.audited(request, 'backup.taken', { details: { bytes: size } });
        const body = createReadStream(file);
        body.on('close', () => {
          void rm(dir, { recursive: true, force: true });
        });
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        return reply
          .type('application/vnd.sqlite3')
          .header('content-disposition', `attachment; filename="ims-backup-${stamp}.sqlite3"`)
          .header('content-length', size)
          .header('cache-control', 'no-store')
          .send(body);
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    },
  });
}
