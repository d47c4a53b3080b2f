import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  deliverToMaildir,
  deliverToMaildirs,
  legacyMaildirName,
  mailboxOfMaildir,
  maildirName,
  maildirOf,
  migrateLegacyMaildirs,
} from './maildir';
import { hash, startNode } from './testing/node-fixture';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ims-maildir-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('Maildir names (#13 item 6)', () => {
  it('a=b@example.com and a_b@example.com get different Maildirs (they shared one)', async () => {
    expect(legacyMaildirName('a=b@example.com')).toBe(legacyMaildirName('a_b@example.com'));
    const dataDir = tempDir();
    expect(maildirOf(dataDir, 'a=b@example.com')).not.toBe(maildirOf(dataDir, 'a_b@example.com'));
    await deliverToMaildir(dataDir, 'a=b@example.com', Buffer.from('for a=b'));
    await deliverToMaildir(dataDir, 'a_b@example.com', Buffer.from('for a_b'));
    expect(readdirSync(join(maildirOf(dataDir, 'a=b@example.com'), 'new'))).toHaveLength(1);
    expect(readdirSync(join(maildirOf(dataDir, 'a_b@example.com'), 'new'))).toHaveLength(1);
  });

  it.each([
    ['alice@example.com', 'alice@example.com'],
    ['Alice.Smith+tag@Example.COM', 'alice.smith+tag@example.com'],
    ['a=b@example.com', 'a%3Db@example.com'],
    ['a_b@example.com', 'a%5Fb@example.com'],
    ['a%5Fb@example.com', 'a%255fb@example.com'],
    ['"john doe"@example.com', '%22john%20doe%22@example.com'],
    ['"../x"@example.com', '%22..%2Fx%22@example.com'],
    ['josé@example.com', 'jos%C3%A9@example.com'],
  ])('%s → %s, and back', (mailbox, name) => {
    expect(maildirName(mailbox)).toBe(name);
    expect(mailboxOfMaildir(name)).toBe(mailbox.toLowerCase());
    expect(name).toMatch(/^[a-z0-9@.+%-][a-z0-9@.+%A-F-]*$/);
  });

  it('a leading dot is encoded (no hidden or relative directory)', () => {
    expect(maildirName('.x@example.com')).toBe('%2Ex@example.com');
  });
});

describe('Maildirs under the legacy name', () => {
  it('are renamed to their mailbox’s own name; one two mailboxes share is left and reported', async () => {
    const dataDir = tempDir();
    const root = join(dataDir, 'maildirs');
    for (const name of ['x_y@example.com', 'a_b@example.com', 'alice@example.com']) {
      mkdirSync(join(root, name, 'new'), { recursive: true });
      writeFileSync(join(root, name, 'new', '1.msg'), name);
    }
    const result = await migrateLegacyMaildirs(dataDir, [
      'x=y@example.com',
      'a=b@example.com',
      'a_b@example.com',
      'alice@example.com',
    ]);
    expect(result).toEqual({ renamed: ['x_y@example.com'], ambiguous: ['a_b@example.com'] });
    expect(readdirSync(root).sort()).toEqual(
      ['a_b@example.com', 'alice@example.com', 'x%3Dy@example.com'].sort(),
    );
    expect(readdirSync(join(maildirOf(dataDir, 'x=y@example.com'), 'new'))).toEqual(['1.msg']);
    // Run again: nothing left to do.
    expect(await migrateLegacyMaildirs(dataDir, ['x=y@example.com'])).toEqual({
      renamed: [],
      ambiguous: [],
    });
  });
});

describe('the node renames legacy Maildirs', () => {
  it('when the directory changes (and at start): x=y@example.com finds its old mail under its own name', async () => {
    const { node, dataDir } = await startNode();
    const legacy = join(dataDir, 'maildirs', 'x_y@example.com', 'new');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(join(legacy, '1.msg'), 'old mail');
    node.setDirectory([
      { address: 'alice@example.com', passwordHash: hash('alice-password') },
      { address: 'x=y@example.com', passwordHash: hash('x-password') },
    ]);
    const mine = join(maildirOf(dataDir, 'x=y@example.com'), 'new');
    const deadline = Date.now() + 5000;
    while (!existsSync(mine) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(mine)).toEqual(['1.msg']);
    expect(existsSync(join(dataDir, 'maildirs', 'x_y@example.com'))).toBe(false);
  });
});

describe('copies of a journaled message (written without fsync, by synchronous calls)', () => {
  it.each([
    ['5 KB (synchronous calls)', 5000],
    ['2 MB (through the thread pool)', 2 * 1024 * 1024],
  ])(
    'a disk that is full is an error, and leaves neither a file in new/ nor one in tmp/: %s',
    async (_, size) => {
      const dataDir = tempDir();
      const dir = maildirOf(dataDir, 'alice@example.com');
      for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
      const name = '1.P1Q1Rfull.test';
      // Every write to /dev/full fails with ENOSPC: the Maildir's temporary file is one.
      symlinkSync('/dev/full', join(dir, 'tmp', name));
      const message = [
        Buffer.from('Return-Path: <bob@example.com>\r\n'),
        Buffer.from('x'.repeat(size)),
      ];
      const write = { name, sync: false };
      await expect(
        deliverToMaildirs(dataDir, ['alice@example.com', 'bob@example.com'], message, write),
      ).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(existsSync(join(dir, 'new', name))).toBe(false);
      expect(() => lstatSync(join(dir, 'tmp', name))).toThrow();
      expect(existsSync(join(maildirOf(dataDir, 'bob@example.com'), 'new', name))).toBe(false);
      // Once there is room, the retry writes it whole, once per mailbox.
      await deliverToMaildirs(dataDir, ['alice@example.com', 'bob@example.com'], message, write);
      for (const mailbox of ['alice@example.com', 'bob@example.com']) {
        const text = readFileSync(join(maildirOf(dataDir, mailbox), 'new', name), 'utf8');
        expect(text).toBe(`Return-Path: <bob@example.com>\r\n${'x'.repeat(size)}`);
      }
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    },
  );
});
