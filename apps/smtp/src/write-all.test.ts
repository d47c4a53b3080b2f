// writeAll against the one behaviour of writev it exists for: a short count
// without an error, after which the next write fails.

import { describe, expect, it } from 'vitest';
import { writeAll, writeAllSync } from './write-all';

/** A handle that takes at most `per` bytes a call, and fails once `capacity` bytes are in. */
function disk(per: number, capacity = Number.POSITIVE_INFINITY) {
  const written: Buffer[] = [];
  let size = 0;
  const handle = {
    writev: async (buffers: readonly NodeJS.ArrayBufferView[]) => {
      const room = capacity - size;
      if (room <= 0)
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      const all = Buffer.concat(
        buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
      );
      const n = Math.min(per, room, all.length);
      written.push(all.subarray(0, n));
      size += n;
      return { bytesWritten: n, buffers: buffers as NodeJS.ArrayBufferView[] };
    },
  };
  return { handle, content: () => Buffer.concat(written).toString() };
}

describe('writeAll', () => {
  it('writes every part in order, however short each write is', async () => {
    const d = disk(3);
    await writeAll(d.handle as never, [
      Buffer.from('Return-Path: <a@b>\r\n'),
      Buffer.from(''),
      Buffer.from('Subject: x\r\n\r\nbody'),
    ]);
    expect(d.content()).toBe('Return-Path: <a@b>\r\nSubject: x\r\n\r\nbody');
  });

  it('a disk that fills half-way is an error, not a short file taken for whole', async () => {
    const d = disk(1000, 10);
    await expect(
      writeAll(d.handle as never, [Buffer.from('0123456789abcdef')]),
    ).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    expect(d.content()).toBe('0123456789');
  });
});

describe('writeAllSync', () => {
  it('writes the rest after a short write, and a disk that fills is an error', () => {
    const written: Buffer[] = [];
    let size = 0;
    const syncDisk = (_fd: number, parts: readonly Buffer[]) => {
      const all = Buffer.concat(parts);
      if (size >= 10) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      const n = Math.min(4, 10 - size, all.length);
      written.push(all.subarray(0, n));
      size += n;
      return n;
    };
    writeAllSync(0, [Buffer.from('abc'), Buffer.from('defg')], syncDisk);
    expect(Buffer.concat(written).toString()).toBe('abcdefg');
    expect(() => writeAllSync(0, [Buffer.from('0123456789')], syncDisk)).toThrow(
      expect.objectContaining({ code: 'ENOSPC' }),
    );
    expect(Buffer.concat(written).toString()).toBe('abcdefg012');
  });
});
