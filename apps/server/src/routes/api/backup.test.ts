import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../plugins/external/db';
import { build, login, problem, token } from '../../testing/helper';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-backup-test-'));
  dirs.push(d);
  return d;
};

/** What a restore must bring back: every version, audit entry, mailbox and token. */
function contents(app: FastifyInstance) {
  const all = (sql: string) => app.db.prepare(sql).all();
  return {
    versions: all('SELECT * FROM config_versions ORDER BY version'),
    audit: all('SELECT * FROM audit_log ORDER BY id'),
    mailboxes: all('SELECT * FROM mailboxes ORDER BY id'),
    tokens: all(
      'SELECT id, name, scope, token_hash, created_by, expires_at FROM tokens ORDER BY id',
    ),
    users: all('SELECT username, password_hash FROM users'),
  };
}

describe('POST /api/v1/backup', () => {
  it('streams a consistent copy; restored into a fresh data directory, a console finds everything', async () => {
    const source = temp();
    const app = await build(source);
    const browser = await login(app);
    // Some history: two more versions, a mailbox, tokens.
    for (const [n, host] of [
      [1, 'a.example'],
      [2, 'b.example'],
    ] as const) {
      const config = defaultConfig('example.com');
      config.routes.push({ sentTo: host, routeTo: `mx.${host}` });
      const saved = await app.inject({
        method: 'PUT',
        url: '/api/v1/routing',
        headers: { ...browser.write, 'if-match': `"v${n}"` },
        payload: { config },
      });
      expect(saved.statusCode).toBe(200);
    }
    const mailbox = await app.inject({
      method: 'POST',
      url: '/api/v1/directory/mailboxes',
      headers: browser.write,
      payload: { address: 'alice@example.com', displayName: 'Alice', password: 'alice password' },
    });
    expect(mailbox.statusCode).toBe(201);
    const writeToken = await token(app, 'write', 'backup-script');
    const expected = contents(app);

    // Taken with a write token (a cron job's way), while the console runs.
    const res = await app.inject({ method: 'POST', url: '/api/v1/backup', headers: writeToken });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.sqlite3');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="ims-backup-.+\.sqlite3"$/,
    );
    expect(res.rawPayload.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
    expect(app.audit.list({ limit: 1 })[0]).toMatchObject({
      action: 'backup.taken',
      actor: 'token:backup-script',
    });

    // Restore: a fresh data directory, the file as IMS_DATA_DIR/ims.db, start.
    const restored = temp();
    mkdirSync(restored, { recursive: true });
    writeFileSync(join(restored, DB_FILE), res.rawPayload);
    const again = await build(restored);
    expect(contents(again)).toEqual(expected);
    expect(again.routingVersions.current().version).toBe(3);
    // The token restored with it still signs in a script; the admin password too.
    const used = await again.inject({ url: '/api/v1/directory/mailboxes', headers: writeToken });
    expect(used.json().mailboxes.map((m: { address: string }) => m.address)).toContain(
      'alice@example.com',
    );
    await login(again);
  }, 60_000);

  it('is refused without credentials (401), with a read token (403), without CSRF (403)', async () => {
    const app = await build();
    const browser = await login(app);
    problem(await app.inject({ method: 'POST', url: '/api/v1/backup' }), 401, 'unauthenticated');
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/backup',
        headers: await token(app, 'read'),
      }),
      403,
      'forbidden',
    );
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/backup', headers: browser.read }),
      403,
      'csrf-token-missing',
    );
    expect(app.audit.list({ limit: 5 }).map((e) => e.action)).not.toContain('backup.taken');
  });
});
