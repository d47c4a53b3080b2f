import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from './data-dir-lock';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-lock-'));
  dirs.push(d);
  return d;
};

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(String(child.stdout));
}

describe('the data directory lock', () => {
  it('writes the pid; a second taker on the same directory is refused with the holder named', () => {
    const dir = temp();
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    // Another launcher (another pid) while this process runs.
    let refused: unknown;
    try {
      lockDataDir(dir, process.pid + 100_000);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as Error).message).toContain(
      `Another console (pid ${process.pid}) is running on the data directory ${dir}: stop it first.`,
    );
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    // Free again: the next one takes it.
    lockDataDir(dir, 4242).release();
  });

  it('takes over a stale lock whose process is gone, and an unreadable one', () => {
    const dir = temp();
    const file = join(dir, LOCK_FILE);
    writeFileSync(file, `${deadPid()}\n`);
    const lock = lockDataDir(dir);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    writeFileSync(file, 'garbage');
    lockDataDir(dir).release();
    expect(existsSync(file)).toBe(false);
  });

  it('release leaves a lock that another process has taken since', () => {
    const dir = temp();
    const lock = lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), '1\n');
    lock.release();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('1\n');
  });
});
