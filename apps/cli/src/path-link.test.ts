/** scripts/setup.sh puts `ims` on the PATH (scripts/link-ims.sh), so the README's examples work as typed. */

import { execFile } from 'node:child_process';
import { mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { childEnv } from '@ims/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './testing/processes';

const LINK_SCRIPT = join(ROOT, 'scripts/link-ims.sh');
const TARGET = join(ROOT, 'apps/cli/bin/ims.mjs');

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { env }, (err, stdout, stderr) =>
      done({ code: typeof err?.code === 'number' ? err.code : err ? 1 : 0, stdout, stderr }),
    );
  });
}

/** A bin directory on a PATH that has node and the system's tools, and nothing else of ours. */
function binOnPath() {
  const home = tempDir();
  dirs.push(home);
  const bin = join(home.path, 'bin');
  mkdirSync(bin);
  const path = [bin, dirname(process.execPath), '/usr/bin', '/bin'].join(':');
  const env = childEnv({ PATH: path, HOME: home.path, IMS_BIN_DIR: bin });
  return { bin, env };
}

describe('ims on the PATH after set-up', () => {
  it('links ims into the bin directory, says so once, and ims --help then runs as typed', async () => {
    const { bin, env } = binOnPath();
    const first = await run('bash', [LINK_SCRIPT], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(`setup: ims is now on the PATH: ${join(bin, 'ims')} -> ${TARGET}\n`);
    expect(readlinkSync(join(bin, 'ims'))).toBe(TARGET);
    // Idempotent: a second set-up changes nothing and says nothing.
    expect(await run('bash', [LINK_SCRIPT], env)).toEqual({ code: 0, stdout: '', stderr: '' });

    const help = await run('ims', ['--help'], env);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('ims login');
  });

  it('moves a link to another clone here, and never replaces a file that is not a link', async () => {
    const moved = binOnPath();
    symlinkSync('/elsewhere/apps/cli/bin/ims.mjs', join(moved.bin, 'ims'));
    const r = await run('bash', [LINK_SCRIPT], moved.env);
    expect(r.stderr).toContain('(it was /elsewhere/apps/cli/bin/ims.mjs)');
    expect(readlinkSync(join(moved.bin, 'ims'))).toBe(TARGET);

    const kept = binOnPath();
    writeFileSync(join(kept.bin, 'ims'), '#!/bin/sh\necho another ims\n');
    const refused = await run('bash', [LINK_SCRIPT], kept.env);
    expect(refused.code).toBe(0);
    expect(refused.stderr).toContain('setup: could not link ims into');
  });
});
