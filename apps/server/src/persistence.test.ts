import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@ims/routing-core';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from './app';
import { DB_FILE } from './plugins/external/db';
import { ADMIN_PASSWORD, login, TEST_PASSWORD_COST } from './testing/helper';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ims-console-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const start = (dataDir: string, adminPassword = ADMIN_PASSWORD) =>
  buildApp({
    dataDir,
    siteDomain: 'Corp.Example.',
    adminPassword,
    passwordCost: TEST_PASSWORD_COST,
  });

describe('a real database file', () => {
  it('keeps every acknowledged version across a restart, and seeds only once', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const browser = await login(first);
    const saved: number[] = [];
    for (let i = 0; i < 5; i++) {
      const config = defaultConfig('corp.example');
      config.routes.push({ sentTo: `branch${i}.example`, routeTo: `mail${i}.example.net` });
      const res = await first.inject({
        method: 'PUT',
        url: '/api/v1/routing',
        headers: { ...browser.write, 'if-match': `"v${i + 1}"` },
        payload: { config },
      });
      expect(res.statusCode).toBe(200);
      saved.push(res.json<{ version: number }>().version);
    }
    await first.close();

    // Restarted with another admin password: the first start's account stays.
    const second = await start(dir, 'a different password');
    try {
      const again = await login(second);
      const list = await second.inject({
        method: 'GET',
        url: '/api/v1/routing/versions',
        headers: again.read,
      });
      expect(
        list.json<{ versions: { version: number }[] }>().versions.map((v) => v.version),
      ).toEqual([...saved.reverse(), 1]);
      const v1 = await second.inject({
        method: 'GET',
        url: '/api/v1/routing/versions/1',
        headers: again.read,
      });
      expect(v1.json().config.siteDomain).toBe('corp.example');
      const v6 = await second.inject({
        method: 'GET',
        url: '/api/v1/routing/versions/6',
        headers: again.read,
      });
      expect(v6.json().config.routes[1]).toEqual({
        sentTo: 'branch4.example',
        routeTo: 'mail4.example.net',
      });
    } finally {
      await second.close();
    }

    const db = new Database(join(dir, DB_FILE), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('the audit log cannot be rewritten, even through SQL', async () => {
    const dir = tempDir();
    const app = await start(dir);
    await app.close();
    const db = new Database(join(dir, DB_FILE));
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE config_versions SET saved_by = 'x'").run()).toThrow(
      /never changed/,
    );
    db.close();
  });

  it('refuses to start with an invalid site domain', async () => {
    await expect(buildApp({ dataDir: ':memory:', siteDomain: 'not a domain' })).rejects.toThrow(
      /IMS_SITE_DOMAIN/,
    );
  });
});
