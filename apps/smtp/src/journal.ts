/**
 * The incoming journal: group commit for accepted messages.
 *
 * A message is durable once its record is appended to the journal and the
 * journal is fdatasync'ed; only then does the client get its 250. Sessions
 * that finish DATA while a sync is running share the next one, so many
 * concurrent messages cost one disk flush (the group commit of database
 * write-ahead logs). The node then writes the Maildir files and queue jobs
 * without syncing each: every `checkpointMs` the journal moves to a new
 * segment, the filesystem is synced once (`syncfs`), and the old segment,
 * now redundant, is deleted. After a crash, the segments still on disk are
 * replayed; applying a record is idempotent, so at worst a message is
 * delivered twice (at-least-once), never lost.
 *
 * Record framing: length (u32 LE), CRC-32 of the payload (u32 LE), payload.
 * A torn or corrupt tail (a record whose 250 was never sent) is ignored.
 */

import { type FileHandle, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from './log';
import { FilesystemSync } from './sync-fs';
import { writeAll } from './write-all';

interface Waiter {
  frame: Buffer[];
  /** The payload's length. */
  bytes: number;
  /** Called with the segment the record was written to. */
  resolve: (segment: Segment) => void;
  reject: (err: unknown) => void;
}

interface Segment {
  name: string;
  handle: FileHandle;
  bytes: number;
  /** The file's length: where the next batch starts. */
  size: number;
  /** Records appended and not yet applied. */
  unapplied: number;
  /** Resolves when unapplied reaches 0. */
  drained?: () => void;
}

export interface JournalOptions {
  /** The journal directory (the node's dataDir/journal). */
  dir: string;
  /** The directory tree whose filesystem a checkpoint syncs (the node's dataDir). */
  syncRoot: string;
  /** How often a checkpoint runs (default 1 s). */
  checkpointMs?: number;
  /** A segment this large is checkpointed at once (default 64 MiB). */
  maxSegmentBytes?: number;
  /** The node's log. */
  logger?: Logger;
}

/** Splits a segment into its payloads; stops at the first torn or corrupt record. */
export function readRecords(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 8 <= data.length) {
    const length = data.readUInt32LE(at);
    const sum = data.readUInt32LE(at + 4);
    if (at + 8 + length > data.length) break;
    const payload = data.subarray(at + 8, at + 8 + length);
    if (crc32(payload) !== sum) break;
    out.push(payload);
    at += 8 + length;
  }
  return out;
}

export class Journal {
  private current: Segment | undefined;
  private readonly waiting: Waiter[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;
  private sequence = 0;
  /** Flushes done, and records they carried (for the benchmarks' curiosity). */
  readonly stats = { commits: 0, records: 0, checkpoints: 0 };

  /** Flushes every dirty page of the filesystem holding the data directory. */
  private readonly filesystem: FilesystemSync;

  constructor(private readonly opts: JournalOptions) {
    this.filesystem = new FilesystemSync(opts.syncRoot);
  }

  /**
   * Opens the journal and returns the payloads left by a previous run, for
   * the caller to re-apply. Call `recovered()` once they are applied.
   */
  async open(): Promise<Buffer[]> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    const names = (await readdir(this.opts.dir)).filter((n) => n.endsWith('.log')).sort();
    const leftovers: Buffer[] = [];
    for (const name of names) {
      leftovers.push(...readRecords(await readFile(join(this.opts.dir, name))));
      this.sequence = Math.max(this.sequence, Number.parseInt(name, 10) || 0);
    }
    this.leftoverSegments = names;
    return leftovers;
  }

  private leftoverSegments: string[] = [];

  /** The leftovers are applied: makes that durable, drops their segments, starts appending. */
  async recovered(): Promise<void> {
    if (this.leftoverSegments.length > 0) {
      await this.filesystem.sync();
      for (const name of this.leftoverSegments) await unlink(join(this.opts.dir, name));
      this.leftoverSegments = [];
    }
    this.current = await this.newSegment();
    this.timer = setInterval(() => void this.checkpoint(), this.opts.checkpointMs ?? 1000);
    this.timer.unref();
  }

  private async newSegment(): Promise<Segment> {
    this.sequence++;
    const name = `${String(this.sequence).padStart(12, '0')}.log`;
    const handle = await open(join(this.opts.dir, name), 'a', 0o600);
    // The new file's name must survive a crash too.
    const dir = await open(this.opts.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return { name, handle, bytes: 0, size: 0, unapplied: 0 };
  }

  /**
   * Appends a record and resolves once it is on disk. The returned `applied`
   * must be called once the record's effects (Maildir files, queue jobs) are
   * written, durable or not: the checkpoint waits for it.
   */
  async append(payload: Buffer | readonly Buffer[]): Promise<() => void> {
    if (!this.current) throw new Error('the journal is not open');
    // A record may come in parts (its header line, then the message), written
    // with one writev: a 100 KB message is not copied to be framed.
    const parts = Buffer.isBuffer(payload) ? [payload] : payload;
    let length = 0;
    let sum = 0;
    for (const part of parts) {
      length += part.length;
      sum = crc32(part, sum);
    }
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(length, 0);
    head.writeUInt32LE(sum, 4);
    const segment = await new Promise<Segment>((resolve, reject) => {
      this.waiting.push({ frame: [head, ...parts], bytes: length, resolve, reject });
      if (!this.flushing) void this.flush();
    });
    let done = false;
    const applied = () => {
      if (done) return;
      done = true;
      segment.unapplied--;
      if (segment.unapplied === 0) segment.drained?.();
    };
    if (segment.bytes > (this.opts.maxSegmentBytes ?? 64 * 1024 * 1024)) void this.checkpoint();
    return applied;
  }

  /** Writes and syncs everything waiting, in as few flushes as the disk allows. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const target = this.current;
        const batch = this.waiting.splice(0);
        if (!target) {
          for (const w of batch) w.reject(new Error('the journal is closed'));
          continue;
        }
        // Counted before the write: a checkpoint must wait for these to be applied.
        target.unapplied += batch.length;
        // Where this batch starts: a batch that fails is cut off again, so a
        // torn record never stands between the records before and after it
        // (a replay reads a segment up to its first bad record).
        const start = target.size;
        try {
          await writeAll(
            target.handle,
            batch.flatMap((w) => w.frame),
          );
          const payloads = batch.reduce((n, w) => n + w.bytes, 0);
          target.size += 8 * batch.length + payloads;
          await target.handle.datasync();
          target.bytes += payloads;
          this.stats.commits++;
          this.stats.records += batch.length;
          for (const w of batch) w.resolve(target);
        } catch (err) {
          target.size = start;
          await target.handle
            .truncate(start)
            .catch((again: unknown) =>
              this.opts.logger?.error({ event: 'journal-truncate-failed', error: String(again) }),
            );
          target.unapplied -= batch.length;
          if (target.unapplied === 0) target.drained?.();
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Moves appends to a new segment, waits until every record of the old one
   * is applied, syncs the filesystem once, and deletes the old segment.
   */
  checkpoint(): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    const old = this.current;
    if (!old || old.bytes === 0) return Promise.resolve();
    this.checkpointing = (async () => {
      try {
        // Appends waiting for a flush go to the old segment's handle or the
        // new one; both are synced before the old one is deleted.
        this.current = await this.newSegment();
        while (this.flushing) await new Promise((r) => setImmediate(r));
        if (old.unapplied > 0)
          await new Promise<void>((resolve) => {
            old.drained = resolve;
          });
        await this.filesystem.sync();
        await old.handle.close();
        await unlink(join(this.opts.dir, old.name));
        this.stats.checkpoints++;
      } catch (err) {
        this.opts.logger?.error({ event: 'checkpoint-failed', error: String(err) });
      } finally {
        this.checkpointing = undefined;
      }
    })();
    return this.checkpointing;
  }

  /** A last checkpoint, then closes. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.flushing) await new Promise((r) => setImmediate(r));
    await this.checkpoint();
    const last = this.current;
    this.current = undefined;
    try {
      if (last) {
        await last.handle.close();
        if (last.bytes === 0) await unlink(join(this.opts.dir, last.name)).catch(() => undefined);
      }
    } finally {
      this.filesystem.close();
    }
  }
}
