// The journal's syncfs helper, as a real shell running coreutils' sync -f
// (and, where a test needs a slow or failing sync, a shell command instead).

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@ims/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesystemSync } from './sync-fs';

const dirs: string[] = [];
const syncs: FilesystemSync[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ims-sync-fs-'));
  dirs.push(dir);
  return dir;
}
function helperFor(path: string, command?: string[]): FilesystemSync {
  const sync = new FilesystemSync(path, command);
  syncs.push(sync);
  return sync;
}

/**
 * Whether a child process is still there, a zombie included: it is gone
 * once this process has reaped it, and by then its exit has been seen.
 */
function running(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

afterEach(() => {
  for (const s of syncs.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('FilesystemSync', () => {
  it('syncs through one helper process for every request', async () => {
    const sync = helperFor(tempDir());
    await sync.sync();
    const pid = sync.helperPid;
    expect(pid).toBeDefined();
    await Promise.all([sync.sync(), sync.sync(), sync.sync()]);
    expect(sync.helperPid).toBe(pid);
    expect(running(pid as number)).toBe(true);
  });

  it('gives each request its own answer, in order', async () => {
    // The command fails every second time: the answers alternate.
    const counter = join(tempDir(), 'count');
    writeFileSync(counter, '0');
    const odd = 'n=$(cat "$1"); echo $((n + 1)) > "$1"; [ $((n % 2)) -eq 0 ]';
    const sync = helperFor(counter, ['sh', '-c', odd, 'odd']);
    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map(() => sync.sync()));
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
  });

  it('a sync that fails is an error (a directory that is not there), and the helper stays', async () => {
    const sync = helperFor('/nonexistent/ims-sync-fs');
    await expect(sync.sync()).rejects.toThrow(/sync -f .* failed/);
    const pid = sync.helperPid;
    await expect(sync.sync()).rejects.toThrow(/failed/);
    expect(sync.helperPid).toBe(pid);
  });

  it('a helper that dies fails what it had pending, and only that: the next request goes to a new one', async () => {
    // While `slow` exists, a sync takes 3 s; its `sleep` keeps the dead helper's stdout open.
    const dir = tempDir();
    const slow = join(dir, 'slow');
    const sync = helperFor(dir, ['sh', '-c', 'if [ -e "$1/slow" ]; then sleep 3; fi', 'slow']);
    writeFileSync(slow, '');
    const pending = sync.sync();
    const settled = pending.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await until(async () => (sync.helperPid !== undefined ? true : undefined), 5000);
    const first = sync.helperPid as number;
    await new Promise((r) => setTimeout(r, 200));
    process.kill(first, 'SIGKILL');
    await until(async () => (running(first) ? undefined : true), 5000, 'the helper to die');
    rmSync(slow);
    // The dead helper has not closed its pipes yet (its sleep holds stdout):
    // this request must not go to it, nor be failed with it.
    await expect(sync.sync()).resolves.toBeUndefined();
    expect(sync.helperPid).not.toBe(first);
    expect(existsSync(slow)).toBe(false);
    expect(await settled).toMatch(/the sync helper ended/);
  });

  it("the helper does not get the node's environment (its secrets)", async () => {
    process.env.IMS_SYNC_FS_TEST_SECRET = 'hunter2';
    try {
      const sync = helperFor(tempDir());
      await sync.sync();
      const environ = readFileSync(`/proc/${sync.helperPid}/environ`, 'utf8').split('\0');
      expect(environ.some((e) => e.startsWith('PATH='))).toBe(true);
      expect(environ.join('\n')).not.toContain('hunter2');
    } finally {
      delete process.env.IMS_SYNC_FS_TEST_SECRET;
    }
  });

  it('close ends the helper', async () => {
    const sync = helperFor(tempDir());
    await sync.sync();
    const pid = sync.helperPid as number;
    sync.close();
    expect(sync.helperPid).toBeUndefined();
    await until(async () => (running(pid) ? undefined : true), 5000, 'the helper to end');
  });
});
