/** Test helpers: the real console and SMTP node as processes, and `ims` as a subprocess. */

import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tempDir as newTempDir } from '@ims/test-support';

// Free ports, child processes (without the caller's IMS_* settings) and polling.
export { type Child, freePort, start as startProcess, until } from '@ims/test-support';

export const ROOT = resolve(import.meta.dirname, '../../../..');
const CLI_DIR = resolve(import.meta.dirname, '../..');

export function tempDir(prefix = 'ims-cli-'): { path: string; remove: () => void } {
  return newTempDir(prefix);
}

export interface ImsResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ims` (its bin) as a subprocess. */
export function ims(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<ImsResult> {
  return new Promise((done) => {
    const proc = spawn(process.execPath, [join(CLI_DIR, 'bin/ims.mjs'), ...args], {
      cwd: CLI_DIR,
      env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? tmpdir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => {
      stdout += String(d);
    });
    proc.stderr.on('data', (d) => {
      stderr += String(d);
    });
    proc.stdin.end(input ?? '');
    proc.on('close', (code) => done({ code, stdout, stderr }));
  });
}
