/**
 * The durable outbound queue. A job is one message for one or more relayed
 * recipients: a file whose first line is the JSON job header and whose rest
 * is the message. Each state change rewrites the file atomically (tmp, fsync,
 * rename), so a crash loses nothing: on start the queue picks up every job
 * it finds.
 *
 * Delivery tries each recipient's next hop (routing-table host, smart host,
 * or MX) over SMTP. A 5xx fails a recipient for good; a 4xx or no answer
 * retries it with backoff until the job is too old. Failed recipients get a
 * non-delivery report to the sender (never to the null sender).
 */

import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueuedMessage } from '@ims/api-contract';
import type { NextHop } from '@ims/routing-core';
import type { Logger } from './log';
import { fsyncDir, uniqueName, type WriteOptions, writeDurably } from './maildir';
import {
  type MxLookup,
  PermanentFailure,
  type RecipientResult,
  resolveTargets,
  sendOnce,
  type Target,
} from './outbound';
import { type Bytes, partsOf, writeAll } from './write-all';

export interface QueuedRecipient {
  address: string;
  hop: NextHop;
  state: 'pending' | 'delivered' | 'failed';
  /** The last reply or error for this recipient. */
  reply?: string;
  /** RFC 3463 status of the last attempt. */
  status?: string;
  /** The host that gave the reply. */
  remoteMta?: string;
  /** Failed because an administrator deleted the message from the queue (with a report). */
  deleted?: boolean;
}

export interface QueueJob {
  kind: 'relay';
  /** '' for the null sender (a non-delivery report). */
  mailFrom: string;
  /** ISO time the message arrived. */
  arrivalDate: string;
  /** The configuration version the message was accepted under. */
  version?: number;
  attempts: number;
  /** Epoch ms of the next try. */
  nextAttemptAt: number;
  recipients: QueuedRecipient[];
}

export interface QueueStats {
  /** Messages in the queue now. */
  queueMessages: number;
  /** Of those, messages that have failed at least one attempt. */
  queueDeferred: number;
  /** Since start: recipients handed to the next hop. */
  outboundDelivered: number;
  /** Since start: recipients failed for good (a non-delivery report was due). */
  outboundFailed: number;
  /** Since start: delivery attempts (one per host tried). */
  outboundAttempts: number;
}

export interface OutboundQueueOptions {
  /** Queue directory (the node's dataDir/queue). */
  dir: string;
  /** EHLO name and Reporting-MTA. */
  hostname: string;
  smartHost?: Target;
  /** Waits between attempts; the last repeats (default 1, 5, 15, 30 min, then hourly). */
  retryScheduleMs?: number[];
  /** After this long a message still undelivered fails (default 5 days, as Postfix). */
  maxAgeMs?: number;
  /** Messages delivered at once (default 4). */
  concurrency?: number;
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
  lookupMx?: MxLookup;
  /** True for an address this node itself listens on (a mail loop). */
  isSelf?: (target: Target) => boolean | Promise<boolean>;
  /** Sends the non-delivery report for `failed` to `job.mailFrom` (never called for the null sender). */
  onBounce: (job: QueueJob, failed: QueuedRecipient[], message: Buffer) => Promise<void>;
  /** The node's log. */
  logger?: Logger;
  now?: () => number;
  /**
   * An SMTP worker's queue only writes jobs: each one written is handed to
   * the node's one queue runner (in the primary, `adopt()`), so no message
   * is delivered twice. start() then neither scans nor delivers.
   */
  handOff?: (name: string, nextAttemptAt: number) => void;
}

/** The most messages `list()` describes (the oldest first). */
export const LIST_LIMIT = 1000;

/** Thrown by `retry()` and `delete()` for a message that is not queued (or is being deleted). */
export class NotQueued extends Error {
  constructor(id: string) {
    super(`There is no message ${id} in the queue.`);
    this.name = 'NotQueued';
  }
}

const DEFAULT_SCHEDULE = [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000];
const FIVE_DAYS = 5 * 24 * 60 * 60_000;
/**
 * Finished jobs a runner remembers. A journal record outlives its job by at
 * most a checkpoint (a second, or until a failing disk lets one through):
 * more than a second of relayed mail at any rate this node reaches.
 */
const FINISHED_REMEMBERED = 100_000;
/**
 * How long the name of a finished job stays on disk (done/, an empty file):
 * longer than a journal record outlives its job, so that the journal
 * replayed after a crash of the whole node does not send it again.
 */
const DONE_KEPT_MS = 60_000;

function splitJob(data: Buffer): { job: QueueJob; message: Buffer } {
  const nl = data.indexOf(0x0a);
  if (nl < 0) throw new Error('no job header');
  const job = JSON.parse(data.subarray(0, nl).toString('utf8')) as QueueJob;
  if (job?.kind !== 'relay' || !Array.isArray(job.recipients) || typeof job.mailFrom !== 'string')
    throw new Error('not a relay job');
  return { job, message: data.subarray(nl + 1) };
}

/** A job file's header line (with its newline), read without the message when it can be. */
async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, 0);
    const nl = chunk.subarray(0, bytesRead).indexOf(0x0a);
    if (nl >= 0) return chunk.subarray(0, nl + 1);
  } finally {
    await handle.close();
  }
  return readFile(path);
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function hopKey(hop: NextHop): string {
  return hop.kind === 'host' ? `host:${hop.host}:${hop.port ?? 25}` : `mx:${hop.domain}`;
}

export class OutboundQueue {
  /** Next attempt time of each queued job, by file name. */
  private readonly due = new Map<string, number>();
  private readonly deferred = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  /**
   * Messages retried while an attempt was running: if that attempt leaves
   * them queued (it may already have failed and be writing the job back
   * with its next time), they are tried again at once.
   */
  private readonly retryAfterAttempt = new Set<string>();
  /** Attempts that failed here (not at the next hop), by job: for their backoff. */
  private readonly failures = new Map<string, number>();
  /** Jobs being deleted: not started, listed, retried or deleted again. */
  private readonly deleting = new Set<string>();
  /**
   * Jobs this runner has finished (delivered, returned or deleted), the
   * latest FINISHED_REMEMBERED: replaying the journal of a worker that died
   * must not queue one of them again (its record can outlive the job by up
   * to a checkpoint).
   */
  private readonly finished = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = true;
  private abort = new AbortController();
  private readonly totals = { outboundDelivered: 0, outboundFailed: 0, outboundAttempts: 0 };
  private readonly now: () => number;

  constructor(private readonly opts: OutboundQueueOptions) {
    this.now = opts.now ?? Date.now;
  }

  private get queueDir() {
    return join(this.opts.dir, 'queue');
  }

  /** Names of finished jobs, kept DONE_KEPT_MS (see retire()). */
  private get doneDir() {
    return join(this.opts.dir, 'done');
  }

  get stats(): QueueStats {
    return { queueMessages: this.due.size, queueDeferred: this.deferred.size, ...this.totals };
  }

  /** Picks up every job on disk and starts delivering. */
  async start(): Promise<void> {
    if (this.opts.handOff) return;
    this.stopped = false;
    this.abort = new AbortController();
    await mkdir(this.queueDir, { recursive: true, mode: 0o700 });
    await mkdir(this.doneDir, { recursive: true, mode: 0o700 });
    await this.sweepDone();
    this.sweeper = setInterval(() => void this.sweepDone(), DONE_KEPT_MS);
    this.sweeper.unref();
    for (const name of await readdir(this.queueDir)) {
      let data: Buffer;
      try {
        // The header line is all the scan needs, not the message.
        data = await readHead(join(this.queueDir, name));
      } catch {
        // Unreadable for now: the attempt will say why, and retry.
        this.due.set(name, this.now());
        continue;
      }
      try {
        const { job } = splitJob(data);
        this.due.set(name, job.nextAttemptAt);
        if (job.attempts > 0) this.deferred.add(name);
      } catch (err) {
        await this.quarantine(name, err);
      }
    }
    this.pump();
  }

  /**
   * Stops starting attempts, cuts the connections of those in progress (their
   * messages stay queued, as deferred) and waits for them to end.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Durably queues a message; returns once it is on disk. */
  async enqueue(
    mailFrom: string,
    recipients: { address: string; hop: NextHop }[],
    message: Bytes,
    version?: number,
    opts: WriteOptions & { skipPresent?: boolean } = {},
  ): Promise<string> {
    // Replaying a journal: a job already queued, or finished (since this
    // runner started, or in the last DONE_KEPT_MS), is not queued twice.
    if (opts.name && (this.due.has(opts.name) || this.finished.has(opts.name))) return opts.name;
    if (opts.name && opts.skipPresent && (await exists(join(this.doneDir, opts.name))))
      return opts.name;
    // A worker replaying its journal segment: the runner may hold the job already.
    if (opts.name && opts.skipPresent && this.opts.handOff) {
      if (await exists(join(this.queueDir, opts.name))) {
        this.opts.handOff(opts.name, this.now());
        return opts.name;
      }
    }
    const job: QueueJob = {
      kind: 'relay',
      mailFrom,
      arrivalDate: new Date(this.now()).toISOString(),
      ...(version === undefined ? {} : { version }),
      attempts: 0,
      nextAttemptAt: this.now(),
      recipients: recipients.map((r) => ({ ...r, state: 'pending' })),
    };
    const path = await writeDurably(this.opts.dir, 'queue', this.serialise(job, message), opts);
    const name = path.slice(this.queueDir.length + 1);
    if (this.opts.handOff) this.opts.handOff(name, job.nextAttemptAt);
    else this.adopt(name, job.nextAttemptAt);
    return name;
  }

  /** Takes a job another process wrote into the queue directory (an SMTP worker's). */
  adopt(name: string, nextAttemptAt: number): void {
    // Only a file name, never a path: a worker names a job it wrote.
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) return;
    if (this.finished.has(name)) {
      // Written again from the journal of a worker that died: this runner
      // finished it already (names are never reused), so it is not sent twice.
      this.opts.logger?.warn({ event: 'queue-replayed-finished-job', job: name });
      void unlink(join(this.queueDir, name)).catch(() => undefined);
      return;
    }
    if (!this.due.has(name)) this.due.set(name, nextAttemptAt);
    this.pump();
  }

  /** Tries every queued message now (like `postqueue -f`). */
  flush(): void {
    for (const name of this.due.keys()) this.due.set(name, this.now());
    this.pump();
  }

  /**
   * The queued messages, oldest first (at most LIST_LIMIT): who sent them,
   * the recipients still pending, and how their delivery stands.
   */
  async list(): Promise<QueuedMessage[]> {
    const out: QueuedMessage[] = [];
    for (const name of [...this.due.keys()].sort()) {
      const m = await this.describe(name);
      if (m) out.push(m);
      if (out.length >= LIST_LIMIT) break;
    }
    return out;
  }

  /** One queued message as `list()` describes it; undefined when it is not queued. */
  async describe(id: string): Promise<QueuedMessage | undefined> {
    if (!this.due.has(id) || this.deleting.has(id)) return undefined;
    // Only a name the queue itself holds reaches here, never a path.
    const path = join(this.queueDir, id);
    let job: QueueJob;
    let size: number;
    try {
      const head = await readHead(path);
      ({ job } = splitJob(head));
      size = (await stat(path)).size - head.length;
    } catch {
      // Delivered (or unreadable) since the scan.
      return undefined;
    }
    const pending = job.recipients.filter((r) => r.state === 'pending');
    return {
      id,
      from: job.mailFrom,
      recipients: pending.map((r) => r.address),
      size: Math.max(0, size),
      queuedAt: job.arrivalDate,
      attempts: job.attempts,
      // During an attempt the file is the truth: the attempt writes its
      // count and next time there before the in-memory schedule catches up.
      nextAttemptAt: new Date(
        this.running.has(id) ? job.nextAttemptAt : (this.due.get(id) ?? job.nextAttemptAt),
      ).toISOString(),
      lastError: pending.find((r) => r.reply !== undefined)?.reply ?? null,
    };
  }

  /** Tries one message now (`postqueue -i`); throws NotQueued when there is no such message. */
  retry(id: string): void {
    if (!this.due.has(id) || this.deleting.has(id)) throw new NotQueued(id);
    // Never twice at once: a retry during an attempt runs when it ends, if
    // the message is still queued then.
    if (this.running.has(id)) this.retryAfterAttempt.add(id);
    else this.due.set(id, this.now());
    this.failures.delete(id);
    this.pump();
  }

  /**
   * Deletes one message from the queue (`postsuper -d`). With `ndr`, the
   * recipients still pending are reported undeliverable to the sender
   * (RFC 3464), as when the queue gives up on them; never to the null
   * sender. An attempt in progress ends first. Resolves with whether a
   * report was sent; throws NotQueued when there is no such message.
   */
  async delete(id: string, opts: { ndr?: boolean } = {}): Promise<{ ndrSent: boolean }> {
    if (!this.due.has(id) || this.deleting.has(id)) throw new NotQueued(id);
    this.deleting.add(id);
    try {
      await this.running.get(id)?.catch(() => undefined);
      // Only a name the queue itself holds reaches here, never a path.
      const path = join(this.queueDir, id);
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOENT') throw err;
        // Delivered (or given up on) while the attempt ended.
        this.forget(id);
        throw new NotQueued(id);
      }
      let ndrSent = false;
      if (opts.ndr) {
        const { job, message } = splitJob(data);
        const failed = job.recipients.filter((r) => r.state === 'pending');
        for (const r of failed) {
          r.state = 'failed';
          r.deleted = true;
          r.status = '5.0.0';
          this.totals.outboundFailed++;
        }
        if (failed.length > 0 && job.mailFrom !== '') {
          // The final state first, as for any report: a crash repeats it at most.
          await this.rewrite(id, job, message);
          await this.opts.onBounce(job, failed, message);
          ndrSent = true;
        }
      }
      this.remember(id);
      await this.retire(id);
      await fsyncDir(this.queueDir);
      this.forget(id);
      this.opts.logger?.info({ event: 'queue-deleted', job: id, ndr: ndrSent });
      return { ndrSent };
    } finally {
      this.deleting.delete(id);
    }
  }

  /** Resolves once no message is queued or being delivered (tests, shutdown). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.due.size > 0 || this.running.size > 0) {
      if (Date.now() > until) throw new Error('the queue did not empty in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A job file's content: its JSON line, then the message (in parts, written with one writev). */
  private serialise(job: QueueJob, message: Bytes): Buffer[] {
    return [Buffer.from(`${JSON.stringify(job)}\n`), ...partsOf(message)];
  }

  /** Starts due jobs up to the concurrency limit, and sets the timer for the next one. */
  private pump(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [name, at] of this.due) {
      if (this.running.has(name) || this.deleting.has(name)) continue;
      if (at > now) {
        next = Math.min(next, at);
        continue;
      }
      if (this.running.size >= (this.opts.concurrency ?? 4)) break;
      const attempt = this.attempt(name)
        .catch((err: unknown) => this.afterError(name, err))
        .finally(() => {
          this.running.delete(name);
          if (this.retryAfterAttempt.delete(name) && this.due.has(name)) {
            this.due.set(name, this.now());
          }
          this.pump();
        });
      this.running.set(name, attempt);
    }
    if (Number.isFinite(next)) {
      // setTimeout fires at once for delays past 2^31 - 1 ms.
      this.timer = setTimeout(() => this.pump(), Math.min(2 ** 31 - 1, Math.max(0, next - now)));
      this.timer.unref();
    }
  }

  /**
   * An attempt that failed here (disk full, I/O error): the job waits, with
   * backoff, rather than running again at once. What was already delivered
   * was saved before the step that failed.
   */
  private afterError(name: string, err: unknown): void {
    const failures = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, failures);
    const schedule = this.opts.retryScheduleMs ?? DEFAULT_SCHEDULE;
    const wait = schedule[Math.min(failures - 1, schedule.length - 1)] ?? 60_000;
    if (this.due.has(name)) this.due.set(name, this.now() + wait);
    this.opts.logger?.warn({
      event: 'queue-error',
      job: name,
      error: String(err),
      retryInMs: wait,
    });
  }

  private async quarantine(name: string, err: unknown): Promise<void> {
    this.opts.logger?.error({ event: 'queue-corrupt', job: name, error: String(err) });
    const dir = join(this.opts.dir, 'corrupt');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rename(join(this.queueDir, name), join(dir, name)).catch(() => undefined);
    this.forget(name);
  }

  private async attempt(name: string): Promise<void> {
    const path = join(this.queueDir, name);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      this.forget(name);
      return;
    }
    let job: QueueJob;
    let message: Buffer;
    try {
      ({ job, message } = splitJob(data));
    } catch (err) {
      // Only a file that does not parse is set aside; a read error is retried.
      return this.quarantine(name, err);
    }
    const pending = job.recipients.filter((r) => r.state === 'pending');
    const groups = new Map<string, QueuedRecipient[]>();
    for (const r of pending) {
      const key = hopKey(r.hop);
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    let done = 0;
    for (const group of groups.values()) {
      await this.deliverGroup(job, group, message);
      // Progress is saved after each next hop, so that a crash or a failure
      // further on re-sends to as few recipients as possible.
      if (++done < groups.size && group.some((r) => r.state !== 'pending'))
        await this.rewrite(name, job, message);
    }

    const now = this.now();
    const left = job.recipients.filter((r) => r.state === 'pending');
    const expired = now - Date.parse(job.arrivalDate) >= (this.opts.maxAgeMs ?? FIVE_DAYS);
    if (left.length > 0 && expired) {
      for (const r of left) {
        r.state = 'failed';
        r.status = '4.4.7';
        r.reply = `Delivery time expired; last error: ${r.reply ?? 'none'}`;
        this.totals.outboundFailed++;
      }
    }
    if (job.recipients.some((r) => r.state === 'pending')) {
      job.attempts++;
      const schedule = this.opts.retryScheduleMs ?? DEFAULT_SCHEDULE;
      const wait = schedule[Math.min(job.attempts - 1, schedule.length - 1)] ?? 60_000;
      job.nextAttemptAt = now + wait;
      await this.rewrite(name, job, message);
      this.due.set(name, job.nextAttemptAt);
      this.deferred.add(name);
      this.failures.delete(name);
      this.opts.logger?.info({
        event: 'deferred',
        job: name,
        attempts: job.attempts,
        retryInMs: wait,
        recipients: left.map((r) => ({ rcpt: r.address, reply: r.reply })),
      });
      return;
    }
    const failed = job.recipients.filter((r) => r.state === 'failed');
    if (failed.length > 0) {
      // The final state first: a crash from here on repeats the report at
      // most, never the delivery.
      await this.rewrite(name, job, message);
      if (job.mailFrom === '') {
        this.opts.logger?.info({
          event: 'bounce-suppressed',
          job: name,
          reason: 'the message came from the null sender: no report is sent',
        });
      } else {
        await this.opts.onBounce(job, failed, message);
      }
    }
    // Finished from here: a journal replayed meanwhile must not queue it again.
    this.remember(name);
    await this.retire(name);
    await fsyncDir(this.queueDir);
    this.forget(name);
  }

  private forget(name: string): void {
    this.due.delete(name);
    this.deferred.delete(name);
    this.failures.delete(name);
  }

  /**
   * A finished job's file leaves the queue for done/, emptied: its name is
   * what a journal replayed after a crash is checked against (this runner's
   * memory is gone then), until sweepDone() removes it.
   */
  private async retire(name: string): Promise<void> {
    const done = join(this.doneDir, name);
    const from = join(this.queueDir, name);
    try {
      await rename(from, done);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      // Removed already (a copy a worker wrote again, on hand-over)?
      if (!(await exists(from))) return;
      // Or done/ itself is gone: made again.
      await mkdir(this.doneDir, { recursive: true, mode: 0o700 });
      await rename(from, done);
    }
    // The message's bytes are not kept; truncating also dates the name now.
    await truncate(done, 0).catch(() => undefined);
  }

  /** Removes the names of jobs finished more than DONE_KEPT_MS ago. */
  async sweepDone(): Promise<void> {
    const cutoff = this.now() - DONE_KEPT_MS;
    let names: string[];
    try {
      names = await readdir(this.doneDir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.doneDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await unlink(path).catch(() => undefined);
    }
  }

  /** A job is finished (delivered, returned or deleted): a replay of its journal record is not queued. */
  private remember(name: string): void {
    this.finished.add(name);
    if (this.finished.size > FINISHED_REMEMBERED) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  private async deliverGroup(
    job: QueueJob,
    group: QueuedRecipient[],
    message: Buffer,
  ): Promise<void> {
    const hop = group[0]?.hop;
    if (!hop) return;
    let targets: Target[];
    try {
      targets = await resolveTargets(hop, this.opts.smartHost, this.opts.lookupMx);
    } catch (err) {
      const permanent = err instanceof PermanentFailure;
      for (const r of group) {
        r.reply = (err as Error).message;
        r.status = permanent ? err.status : '4.4.3';
        if (permanent) {
          r.state = 'failed';
          this.totals.outboundFailed++;
        }
      }
      return;
    }
    let remaining = group;
    for (const target of targets) {
      if (remaining.length === 0) break;
      const where = `${target.host}:${target.port}`;
      if (await this.opts.isSelf?.(target)) {
        for (const r of remaining) {
          r.state = 'failed';
          r.status = '5.4.6';
          r.reply = `Mail for ${r.address} loops back to myself (${where})`;
          this.totals.outboundFailed++;
        }
        return;
      }
      this.totals.outboundAttempts++;
      const results = await sendOnce(target, {
        name: this.opts.hostname,
        mailFrom: job.mailFrom,
        recipients: remaining.map((r) => r.address),
        message,
        signal: this.abort.signal,
        ...(this.opts.connectionTimeoutMs
          ? { connectionTimeoutMs: this.opts.connectionTimeoutMs }
          : {}),
        ...(this.opts.socketTimeoutMs ? { socketTimeoutMs: this.opts.socketTimeoutMs } : {}),
      });
      const byAddress = new Map<string, RecipientResult>(results.map((r) => [r.address, r]));
      for (const r of remaining) {
        const result = byAddress.get(r.address);
        if (!result) continue;
        r.reply = result.reply;
        r.status = result.status;
        r.remoteMta = target.host;
        if (result.outcome === 'delivered') {
          r.state = 'delivered';
          this.totals.outboundDelivered++;
        } else if (result.outcome === 'failed') {
          r.state = 'failed';
          this.totals.outboundFailed++;
        }
        this.opts.logger?.info({
          event: 'outbound',
          rcpt: r.address,
          mailFrom: job.mailFrom,
          host: where,
          outcome: result.outcome,
          reply: result.reply,
        });
      }
      // The next host (a lower-priority MX) gets only those still deferred.
      remaining = remaining.filter((r) => r.state === 'pending');
    }
  }

  private async rewrite(name: string, job: QueueJob, message: Buffer): Promise<void> {
    const tmp = join(this.opts.dir, 'tmp', `${uniqueName()}.rewrite`);
    await mkdir(join(this.opts.dir, 'tmp'), { recursive: true, mode: 0o700 });
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await writeAll(handle, this.serialise(job, message));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(this.queueDir, name));
    await fsyncDir(this.queueDir);
  }
}
