/**
 * Writing every part of a file, or failing. `FileHandle.writev` is one libuv
 * call that goes on after a partial write, but when a later write fails (a
 * disk that fills half-way through a message: ENOSPC, EDQUOT, EFBIG) it
 * reports the bytes written until then, without an error. Written again from
 * where it stopped, the failure comes out as the error it is.
 */

import { writevSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** A file's (or a message's) content: one buffer, or parts one after the other. */
export type Bytes = Buffer | readonly Buffer[];

/** `bytes` as parts. */
export function partsOf(bytes: Bytes): readonly Buffer[] {
  return Buffer.isBuffer(bytes) ? [bytes] : bytes;
}

/** How many bytes `parts` hold together. */
export function byteLength(parts: readonly Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** `bytes` as one buffer (copied together when in parts). */
export function flatten(bytes: Bytes): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.concat(bytes);
}

/** Writes `parts` in order at the handle's position; rejects unless every byte was written. */
export async function writeAll(handle: Pick<FileHandle, 'writev'>, parts: readonly Buffer[]) {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    const total = byteLength(rest);
    const { bytesWritten } = await handle.writev(rest);
    if (bytesWritten >= total) return;
    if (bytesWritten <= 0) {
      throw Object.assign(new Error('a write to disk made no progress'), { code: 'EIO' });
    }
    rest = after(rest, bytesWritten);
  }
}

/** writeAll() on a file descriptor, synchronously (see writeCopySync in maildir.ts). */
export function writeAllSync(
  fd: number,
  parts: readonly Buffer[],
  writev: (fd: number, parts: readonly Buffer[]) => number = writevSync,
): void {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    const total = byteLength(rest);
    const bytesWritten = writev(fd, rest);
    if (bytesWritten >= total) return;
    if (bytesWritten <= 0) {
      throw Object.assign(new Error('a write to disk made no progress'), { code: 'EIO' });
    }
    rest = after(rest, bytesWritten);
  }
}

/** The parts that remain once `written` bytes of them are on disk. */
function after(parts: readonly Buffer[], written: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = written;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    out.push(skip > 0 ? part.subarray(skip) : part);
    skip = 0;
  }
  return out;
}
