/**
 * A private Postfix for a test: a temp directory with its own config, queue,
 * data and mail directories, started from a rendering and stopped (its
 * master killed by pid if `postfix stop` left it) when the test ends.
 */

import { chmodSync, mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutingConfig } from '@ims/routing-core';
import {
  PostfixInstance,
  prepareDirectories,
  validateRendering,
  writeRendering,
} from '../instance';
import { type MailboxList, type PostfixTarget, postfixOwner, renderPostfix } from '../render';

export interface PostfixFixture {
  dir: string;
  target: PostfixTarget;
  instance: PostfixInstance;
  /** Renders, validates and writes another version (no reload). */
  write(config: RoutingConfig, directory: MailboxList): Promise<void>;
  /** The instance's log so far. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** A target whose directories live under `dir`. */
export function targetUnder(
  dir: string,
  rest: Omit<
    PostfixTarget,
    'configDirectory' | 'queueDirectory' | 'dataDirectory' | 'mailDirectory'
  >,
): PostfixTarget {
  return {
    configDirectory: join(dir, 'etc'),
    queueDirectory: join(dir, 'queue'),
    dataDirectory: join(dir, 'data'),
    mailDirectory: join(dir, 'mail'),
    logFile: join(dir, 'postfix.log'),
    ...rest,
  };
}

/** A temp directory Postfix's unprivileged daemons can enter (mkdtemp makes it 0700). */
export function tempDir(prefix = 'ims-postfix-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export async function startPostfix(
  dir: string,
  target: PostfixTarget,
  config: RoutingConfig,
  directory: MailboxList,
): Promise<PostfixFixture> {
  await prepareDirectories(target, postfixOwner());
  const instance = new PostfixInstance(target.configDirectory);
  const write = async (c: RoutingConfig, d: MailboxList) => {
    await writeRendering(target.configDirectory, renderPostfix(c, d, target));
    await validateRendering(target.configDirectory);
  };
  await write(config, directory);
  await instance.start();
  return {
    dir,
    target,
    instance,
    write,
    log: () => readFile(target.logFile ?? '', 'utf8').catch(() => ''),
    async stop() {
      await instance.stop();
      const pid = await readFile(join(target.queueDirectory, 'pid', 'master.pid'), 'utf8').catch(
        () => '',
      );
      const n = Number(pid.trim());
      // Only this instance's master: its environment names this config directory.
      const environ = await readFile(`/proc/${n}/environ`, 'utf8').catch(() => '');
      if (n > 1 && environ.split('\0').includes(`MAIL_CONFIG=${target.configDirectory}`)) {
        try {
          process.kill(n, 'SIGKILL');
        } catch {
          // stopped already
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
