/** validateRendering() with the real Postfix tools: a good rendering passes, broken ones fail with Postfix's words. */

import { appendFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig } from '@ims/routing-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PostfixCommandError,
  prepareDirectories,
  validateRendering,
  writeRendering,
} from './instance';
import { postfixOwner, renderPostfix } from './render';
import { targetUnder, tempDir } from './testing/postfix-fixture';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function staged(): Promise<string> {
  const dir = tempDir('ims-postfix-validate-');
  dirs.push(dir);
  const target = targetUnder(dir, {
    listen: [{ host: '127.0.0.1', port: 2525 }],
    myhostname: 'validate.test.invalid',
  });
  const c = defaultConfig('example.com');
  c.routes.push({ sentTo: 'sub.example.com', routeTo: '192.0.2.9:2525' });
  c.restrictions.neverRoute = [{ ip: '2001:db8::', mask: '32' }];
  await prepareDirectories(target, postfixOwner());
  await writeRendering(target.configDirectory, renderPostfix(c, [], target));
  return target.configDirectory;
}

async function failure(stage: string): Promise<string> {
  try {
    await validateRendering(stage);
  } catch (err) {
    expect(err).toBeInstanceOf(PostfixCommandError);
    return (err as Error).message;
  }
  throw new Error('validateRendering accepted a broken rendering');
}

describe('validateRendering', () => {
  it('accepts a rendering', async () => {
    await expect(validateRendering(await staged())).resolves.toBeUndefined();
  });

  it("fails an unknown parameter in main.cf with postconf's warning", async () => {
    const stage = await staged();
    await appendFile(join(stage, 'main.cf'), 'smtpd_relay_restrictons = permit\n');
    expect(await failure(stage)).toMatch(/smtpd_relay_restrictons/);
  });

  it('fails a table Postfix cannot read (an indented line between if and endif)', async () => {
    const stage = await staged();
    await writeFile(
      join(stage, 'inbound_domains.regexp'),
      'if !/(^|[.@])sub\\.example\\.com$/\n /(^|[.@])example\\.com$/ OK\nendif\n',
    );
    expect(await failure(stage)).toMatch(/inbound_domains\.regexp/);
  });

  it('fails what postfix check finds, with the words it logged (a directory that is not there)', async () => {
    const stage = await staged();
    await appendFile(join(stage, 'main.cf'), `queue_directory = ${stage}/no-such-queue\n`);
    expect(await failure(stage)).toMatch(/no-such-queue/);
  });

  it('fails a master.cf line Postfix cannot parse', async () => {
    const stage = await staged();
    await appendFile(join(stage, 'master.cf'), 'broken unix - -\n');
    expect(await failure(stage)).toMatch(/master\.cf|broken/);
  });
});
