/**
 * Decision records (issue 14 §1): per client address, server address,
 * authenticated or not and recipient (routing-core's trafficKeyOf: the
 * address of a local recipient, only the domain of any other), the count
 * of RCPT decisions by action over a rolling window of days
 * (IMS_TRAFFIC_WINDOW_DAYS). No message content, no external address.
 * The console reads them (`traffic.records`, requests.ts) for the impact
 * preview.
 *
 * - Bounded: at most `maxKeys` keys; the key used least recently goes first.
 * - Daily buckets (UTC); a bucket older than the window is dropped.
 * - Persisted in the node's data directory (`traffic.json`), written whole
 *   (temporary file, then rename) every `flushIntervalMs` when it changed
 *   and at stop, read at start: a node restart keeps the records. A file
 *   that cannot be read is logged and set aside; entries that make no sense
 *   are skipped, one by one.
 *
 * The RCPT hook sees only the `DecisionRecorder` interface: `record()` is
 * synchronous and fire-and-forget, so an SMTP worker process can implement
 * it by forwarding batches to the process that owns the store.
 */

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TrafficPage } from '@ims/api-contract';
import {
  ACTIONS,
  type Action,
  type Decision,
  type Envelope,
  type TrafficKey,
  type TrafficRecord,
  trafficKeyOf,
} from '@ims/routing-core';
import type { Logger } from './log';

/** Where the RCPT hook sends each decision. */
export interface DecisionRecorder {
  /** Counts one decision; never throws, never waits. */
  record(key: TrafficKey, action: Action): void;
}

/** The records the store holds now, and since when. */
export interface TrafficSnapshot {
  since: string;
  windowDays: number;
  records: TrafficRecord[];
}

/** Records one RCPT decision (the one call the RCPT hook makes). */
export function recordDecision(
  recorder: DecisionRecorder,
  envelope: Envelope,
  decision: Decision,
): void {
  const key = trafficKeyOf(envelope, decision);
  if (key) recorder.record(key, decision.action);
}

const DAY_MS = 86_400_000;
const ACTION_INDEX: Record<Action, 1 | 2 | 3 | 4> = {
  deliver: 1,
  relay: 2,
  reject: 3,
  'accept-ndr': 4,
};
const FILE_FORMAT = 1;

/** [day number since the epoch (UTC), deliver, relay, reject, accept-ndr]. */
type Bucket = [number, number, number, number, number];

interface Entry {
  key: TrafficKey;
  buckets: Bucket[];
}

export interface TrafficStoreOptions {
  /** The file the records are kept in; none keeps them in memory only (tests). */
  file?: string;
  /** Days of records kept (default 7). */
  windowDays?: number;
  /** Distinct keys kept at most (default 100,000). */
  maxKeys?: number;
  /** How often the file is rewritten when the records changed (default 60 s). */
  flushIntervalMs?: number;
  now?: () => number;
  logger?: Logger;
}

const idOf = (k: TrafficKey) =>
  `${k.clientIp}|${k.serverIp}|${k.authenticated ? 1 : 0}|${k.local ? 1 : 0}|${k.recipient}`;

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isText = (s: unknown, max: number): s is string =>
  typeof s === 'string' && s.length > 0 && s.length <= max;

/** One entry of the file, or undefined when it makes no sense. */
function entryFrom(raw: unknown): Entry | undefined {
  if (!Array.isArray(raw) || raw.length !== 6) return undefined;
  const [clientIp, serverIp, authenticated, recipient, local, buckets] = raw as unknown[];
  if (!isText(clientIp, 64) || !isText(serverIp, 64) || !isText(recipient, 512)) return undefined;
  if (typeof authenticated !== 'boolean' || typeof local !== 'boolean') return undefined;
  if (!Array.isArray(buckets)) return undefined;
  const kept: Bucket[] = [];
  for (const b of buckets as unknown[]) {
    if (!Array.isArray(b) || b.length !== 5 || !b.every(isCount)) return undefined;
    const bucket = b as Bucket;
    const last = kept[kept.length - 1];
    if (last && last[0] >= bucket[0]) return undefined;
    kept.push(bucket);
  }
  if (kept.length === 0) return undefined;
  return { key: { clientIp, serverIp, authenticated, recipient, local }, buckets: kept };
}

export class TrafficStore implements DecisionRecorder {
  private readonly entries = new Map<string, Entry>();
  private readonly windowDays: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private firstRecordedAt: number | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: TrafficStoreOptions = {}) {
    this.windowDays = opts.windowDays ?? 7;
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** Distinct keys held now. */
  get size(): number {
    return this.entries.size;
  }

  record(key: TrafficKey, action: Action): void {
    const day = Math.floor(this.now() / DAY_MS);
    const id = idOf(key);
    let entry = this.entries.get(id);
    if (entry) this.entries.delete(id);
    else entry = { key: { ...key }, buckets: [] };
    // Re-inserted: the Map's order is least recently used first.
    this.entries.set(id, entry);
    let bucket = entry.buckets[entry.buckets.length - 1];
    if (!bucket || bucket[0] !== day) {
      bucket = [day, 0, 0, 0, 0];
      entry.buckets.push(bucket);
      if (entry.buckets.length > this.windowDays + 1) entry.buckets.shift();
    }
    bucket[ACTION_INDEX[action]]++;
    this.firstRecordedAt ??= this.now();
    this.dirty = true;
    if (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /** The first day a bucket may have and still be in the window. */
  private firstDay(): number {
    return Math.floor((this.now() - this.windowDays * DAY_MS) / DAY_MS);
  }

  /** Drops buckets older than the window, and keys left with none. */
  prune(): void {
    const first = this.firstDay();
    for (const [id, entry] of this.entries) {
      const head = entry.buckets[0];
      if (head === undefined || head[0] >= first) continue;
      entry.buckets = entry.buckets.filter((b) => b[0] >= first);
      if (entry.buckets.length === 0) this.entries.delete(id);
      this.dirty = true;
    }
  }

  private since(): string {
    const start = this.firstDay() * DAY_MS;
    return new Date(Math.max(start, this.firstRecordedAt ?? this.now())).toISOString();
  }

  private toRecord(entry: Entry): TrafficRecord {
    const counts: Record<Action, number> = { deliver: 0, relay: 0, reject: 0, 'accept-ndr': 0 };
    for (const b of entry.buckets) {
      for (const action of ACTIONS) counts[action] += b[ACTION_INDEX[action]];
    }
    return { ...entry.key, counts };
  }

  /** Every record in the window. */
  snapshot(): TrafficSnapshot {
    this.prune();
    return {
      since: this.since(),
      windowDays: this.windowDays,
      records: [...this.entries.values()].map((e) => this.toRecord(e)),
    };
  }

  /**
   * One page of records in key order, from the key after `after`; `next` is
   * the cursor of the next page (the records may change between pages: a
   * key recorded meanwhile may be missed, none is sent twice).
   */
  page(after: string | undefined, limit: number): TrafficPage {
    this.prune();
    const ids = [...this.entries.keys()].sort();
    let start = 0;
    if (after !== undefined) {
      let lo = 0;
      let hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((ids[mid] as string) <= after) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const slice = ids.slice(start, start + limit);
    const records = slice.map((id) => this.toRecord(this.entries.get(id) as Entry));
    const last = slice[slice.length - 1];
    return {
      since: this.since(),
      windowDays: this.windowDays,
      records,
      ...(start + limit < ids.length && last !== undefined ? { next: last } : {}),
    };
  }

  /** Reads the file, if there is one, and starts the periodic write. */
  async start(): Promise<void> {
    await this.load();
    if (this.opts.file && this.timer === undefined) {
      this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 60_000);
      this.timer.unref();
    }
  }

  private async load(): Promise<void> {
    const file = this.opts.file;
    if (!file) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return; // no records yet
    }
    let doc: { format?: unknown; firstRecordedAt?: unknown; entries?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
      if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.entries))
        throw new Error('not a record file');
    } catch (err) {
      this.opts.logger?.warn({ event: 'traffic-records-unreadable', file, error: String(err) });
      await rename(file, `${file}.bad`).catch(() => undefined);
      return;
    }
    let skipped = 0;
    for (const raw of doc.entries as unknown[]) {
      const entry = entryFrom(raw);
      if (!entry) {
        skipped++;
        continue;
      }
      const id = idOf(entry.key);
      this.entries.delete(id);
      this.entries.set(id, entry);
      if (this.entries.size > this.maxKeys) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    if (isCount(doc.firstRecordedAt)) this.firstRecordedAt = doc.firstRecordedAt;
    else if (this.entries.size > 0) this.firstRecordedAt = this.firstDay() * DAY_MS;
    if (skipped > 0) this.opts.logger?.warn({ event: 'traffic-records-skipped', file, skipped });
    this.prune();
  }

  /** Writes the file when the records changed since the last write. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const file = this.opts.file;
    if (!file || !this.dirty) return;
    this.prune();
    this.dirty = false;
    const entries = [...this.entries.values()].map((e) => [
      e.key.clientIp,
      e.key.serverIp,
      e.key.authenticated,
      e.key.recipient,
      e.key.local,
      e.buckets,
    ]);
    const doc = { format: FILE_FORMAT, firstRecordedAt: this.firstRecordedAt, entries };
    try {
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      await writeFile(tmp, JSON.stringify(doc));
      await rename(tmp, file);
    } catch (err) {
      this.dirty = true;
      this.opts.logger?.error({ event: 'traffic-records-write-failed', file, error: String(err) });
    }
  }

  /** Stops the periodic write and writes what changed. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
