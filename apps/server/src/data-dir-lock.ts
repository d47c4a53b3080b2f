/**
 * One console per data directory: the embedded start takes
 * `<IMS_DATA_DIR>/console.lock` (its pid) before it opens the database, and
 * a second start on the same directory refuses with a clear message. A lock
 * left by a process that no longer runs (killed outright, a crash) is taken
 * over. Postfix's master does the same with its pid file (`master -t`).
 */

import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'console.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `Another console (pid ${pid}) is running on the data directory ${dataDir}: stop it first. (If no such process is an IMS console, remove ${join(dataDir, LOCK_FILE)}.)`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function running(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  file: string;
  /** Removes the lock, if it is still this process's. */
  release: () => void;
}

/**
 * Takes the data directory's lock for `pid` (default this process), or
 * throws DataDirLockedError when a running process holds it.
 */
export function lockDataDir(dataDir: string, pid = process.pid): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPid(file);
      if (holder !== undefined && holder !== pid && running(holder)) {
        throw new DataDirLockedError(dataDir, holder);
      }
      // Stale (its process is gone) or unreadable: take it over.
      rmSync(file, { force: true });
      continue;
    }
    writeSync(fd, `${pid}\n`);
    closeSync(fd);
    return {
      file,
      release: () => {
        if (readPid(file) === pid) rmSync(file, { force: true });
      },
    };
  }
  throw new Error(`Could not take the lock ${file}.`);
}
