// The journal's syncfs helper, as a real shell running coreutils' sync -f.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesystemSync } from './sync-fs';

const dirs: string[] = [];
const syncs: FilesystemSync[] = [];
function helperFor(path?: string): FilesystemSync {
  const dir = mkdtempSync(join(tmpdir(), 'ims-sync-fs-'));
  dirs.push(dir);
  const sync = new FilesystemSync(path ?? dir);
  syncs.push(sync);
  return sync;
}

/** The pids of `sh` processes started by this test process. */
function helpers(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]).toString();
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'sh')
    .map(([pid]) => Number(pid));
}

afterEach(() => {
  for (const s of syncs.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('FilesystemSync', () => {
  it('answers requests in order, with one helper process for all of them', async () => {
    const sync = helperFor();
    const before = helpers().length;
    await Promise.all([sync.sync(), sync.sync(), sync.sync()]);
    await sync.sync();
    expect(helpers().length).toBe(before + 1);
  });

  it('a sync that fails is an error (a directory that is not there)', async () => {
    const sync = helperFor('/nonexistent/ims-sync-fs');
    await expect(sync.sync()).rejects.toThrow(/sync -f .* failed/);
    // The helper is still there for the next request.
    await expect(sync.sync()).rejects.toThrow(/failed/);
  });

  it('a helper that dies fails what it had pending, and the next request starts a new one', async () => {
    const sync = helperFor();
    await sync.sync();
    const [pid] = helpers().slice(-1);
    process.kill(pid as number, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    await expect(sync.sync()).resolves.toBeUndefined();
  });

  it("the helper does not get the node's environment (its secrets)", async () => {
    process.env.IMS_SYNC_FS_TEST_SECRET = 'hunter2';
    try {
      const sync = helperFor();
      await sync.sync();
      const [pid] = helpers().slice(-1);
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(environ.some((e) => e.startsWith('PATH='))).toBe(true);
      expect(environ.join('\n')).not.toContain('hunter2');
    } finally {
      delete process.env.IMS_SYNC_FS_TEST_SECRET;
    }
  });

  it('close ends the helper', async () => {
    const sync = helperFor();
    const before = helpers().length;
    await sync.sync();
    sync.close();
    const deadline = Date.now() + 5000;
    while (helpers().length > before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(helpers().length).toBe(before);
  });
});
