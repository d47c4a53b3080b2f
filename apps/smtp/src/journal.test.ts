// The incoming journal: framing, group commit, checkpoints, and replay of
// what a crash left behind.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Journal, readRecords } from './journal';
import { maildirOf } from './maildir';
import { SmtpNode } from './smtp-node';
import { bundle } from './testing/node-fixture';

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ims-journal-'));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A journal opened on a new directory, with a checkpoint that does not come by itself. */
async function openJournal() {
  const dir = temp();
  const journal = new Journal({ dir: join(dir, 'journal'), syncRoot: dir, checkpointMs: 60_000 });
  await journal.open();
  await journal.recovered();
  return { dir, journal };
}

/** The bytes of the journal's one segment. */
function onlySegment(dir: string): Buffer {
  const [name] = readdirSync(join(dir, 'journal'));
  return readFileSync(join(dir, 'journal', name ?? ''));
}

describe('journal framing', () => {
  it('reads whole records and stops at a torn or corrupt tail', () => {
    const a = frame(Buffer.from('first'));
    const b = frame(Buffer.from('second'));
    expect(readRecords(Buffer.concat([a, b])).map(String)).toEqual(['first', 'second']);
    // Torn: the last record is cut short (its 250 was never sent).
    expect(readRecords(Buffer.concat([a, b.subarray(0, b.length - 2)])).map(String)).toEqual([
      'first',
    ]);
    // Corrupt: a flipped byte fails the CRC.
    const bad = Buffer.from(b);
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
    expect(readRecords(Buffer.concat([a, bad])).map(String)).toEqual(['first']);
  });
});

describe('journal: a record in parts', () => {
  it('is framed as one payload (length and CRC over all the parts), and read back whole', async () => {
    const { dir, journal } = await openJournal();
    const parts = [Buffer.from('{"id":"m1"}\n'), Buffer.alloc(100 * 1024, 'x'), Buffer.from('')];
    const whole = Buffer.concat(parts);
    const applied = [await journal.append(parts), await journal.append(Buffer.from('next'))];
    const data = onlySegment(dir);
    expect(data.subarray(0, 8 + whole.length)).toEqual(frame(whole));
    expect(readRecords(data).map((r) => r.length)).toEqual([whole.length, 4]);
    for (const done of applied) done();
    await journal.close();
  });
});

describe('journal: a batch the disk does not take', () => {
  it('is refused and cut off again, so the records after it still replay', async () => {
    const { dir, journal } = await openJournal();
    const applied = [await journal.append(Buffer.from('before'))];
    // The disk fills half-way through the next record: writev writes part of
    // it and reports that count without an error; the next write fails.
    const segment = (journal as unknown as { current: { handle: FileHandle } }).current;
    const real = segment.handle;
    let calls = 0;
    segment.handle = new Proxy(real, {
      get(target, key) {
        if (key === 'writev') {
          return async (buffers: Buffer[]) => {
            calls++;
            if (calls > 1)
              throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
            return real.write(Buffer.concat(buffers).subarray(0, 12));
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(
      journal.append(Buffer.from('torn record, never acknowledged')),
    ).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    segment.handle = real;
    applied.push(await journal.append(Buffer.from('after')));
    const data = onlySegment(dir);
    expect(readRecords(data).map(String)).toEqual(['before', 'after']);
    for (const done of applied) done();
    await journal.close();
  });
});

describe('journal: group commit and checkpoints', () => {
  it('concurrent appends share flushes; a checkpoint deletes what it made redundant', async () => {
    const dir = temp();
    const journal = new Journal({ dir: join(dir, 'journal'), syncRoot: dir, checkpointMs: 60_000 });
    expect(await journal.open()).toEqual([]);
    await journal.recovered();
    const applied = await Promise.all(
      Array.from({ length: 50 }, (_, i) => journal.append(Buffer.from(`message ${i}`))),
    );
    expect(journal.stats.records).toBe(50);
    // Fifty records, far fewer disk flushes.
    expect(journal.stats.commits).toBeLessThan(50);
    const segments = readdirSync(join(dir, 'journal'));
    expect(segments).toHaveLength(1);
    // The checkpoint waits until every record is applied.
    const checkpoint = journal.checkpoint();
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(join(dir, 'journal'))).toContain(segments[0]);
    for (const done of applied) done();
    await checkpoint;
    expect(readdirSync(join(dir, 'journal'))).not.toContain(segments[0]);
    await journal.close();
  });
});

describe('journal: replay after a crash', () => {
  it('a message acknowledged but not yet copied is delivered at the next start, once', async () => {
    const dataDir = temp();
    // What a crash leaves: a segment with one record, and no Maildir copy.
    const stored = {
      id: '1700000000.P1Q1Rdeadbeef.test',
      mailFrom: 'someone@remote.example',
      version: 1,
      arrival: new Date().toISOString(),
      local: ['alice@example.com'],
      relay: [],
    };
    mkdirSync(join(dataDir, 'journal'), { recursive: true });
    const record = frame(
      Buffer.concat([
        Buffer.from(`${JSON.stringify(stored)}\n`),
        Buffer.from('Subject: kept\r\n\r\nkept\r\n'),
      ]),
    );
    writeFileSync(join(dataDir, 'journal', '000000000001.log'), record);

    const start = async () => {
      const node = new SmtpNode({ listen: ['127.0.0.1'], port: 0, dataDir });
      await node.start(bundle(1));
      await node.stop();
    };
    await start();
    const newDir = join(maildirOf(dataDir, 'alice@example.com'), 'new');
    expect(readdirSync(newDir)).toEqual([stored.id]);
    const text = readFileSync(join(newDir, stored.id), 'utf8');
    expect(text).toMatch(/^Return-Path: <someone@remote\.example>\r\nSubject: kept/);
    // The replayed segment is gone; a second crash-and-replay of the same record does not duplicate.
    expect(readdirSync(join(dataDir, 'journal')).filter((n) => n === '000000000001.log')).toEqual(
      [],
    );
    writeFileSync(join(dataDir, 'journal', '000000000001.log'), record);
    await start();
    expect(readdirSync(newDir)).toEqual([stored.id]);
  });
});
