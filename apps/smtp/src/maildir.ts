/**
 * Durable storage of accepted messages: a Maildir per local mailbox
 * (tmp → fsync → rename into new → fsync the directory). The outbound
 * queue (queue.ts) writes its jobs the same way. A 250 after DATA is sent
 * only once every copy is on disk.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { access, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Bytes, byteLength, partsOf, writeAll, writeAllSync } from './write-all';

let counter = 0;
const host = hostname().replace(/[/:]/g, '_');
/** Random per process, so names stay unique across restarts within one millisecond. */
const boot = randomBytes(4).toString('hex');

/** A Maildir-style unique name: time, process, counter, random, host. */
export function uniqueName(): string {
  counter = (counter + 1) % 1_000_000_000;
  return `${Date.now()}.P${process.pid}Q${counter}R${boot}.${host}`;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WriteOptions {
  /** The file name (default a new unique name). */
  name?: string;
  /**
   * fsync the file and the directory before returning (default true). The
   * journal's records write without it: their checkpoint syncs the
   * filesystem once for all of them.
   */
  sync?: boolean;
}

/** Directories known to exist, so a delivery does not ask again each time. Mail is private: new directories are 0700, files 0600. */
const madeDirs = new Set<string>();

async function ensureDir(dir: string): Promise<void> {
  if (madeDirs.has(dir)) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  madeDirs.add(dir);
}

/** Writes `data` to dir/tmp/name, fsyncs it, and renames it into dir/<into>/name. */
export async function writeDurably(
  dir: string,
  into: 'new' | 'queue',
  data: Bytes,
  opts: WriteOptions = {},
): Promise<string> {
  const tmp = join(dir, 'tmp');
  const final = join(dir, into);
  await ensureDir(tmp);
  await ensureDir(final);
  const name = opts.name ?? uniqueName();
  const sync = opts.sync ?? true;
  const parts = partsOf(data);
  if (!sync && byteLength(parts) <= SYNC_COPY_LIMIT) return writeCopySync(tmp, final, name, parts);
  const temporary = join(tmp, name);
  const handle = await open(temporary, 'w', 0o600);
  try {
    // Parts (a Return-Path line, then the message) go out in one writev, not copied together first.
    await writeAll(handle, parts);
    if (sync) await handle.sync();
  } catch (err) {
    // A partial file (a full disk) is not left in tmp/.
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(join(tmp, name), join(final, name));
  if (sync) await fsyncDir(final);
  return join(final, name);
}

/**
 * The largest copy written with synchronous calls: copying a larger message
 * into the page cache would hold the event loop (every session of the
 * process) for milliseconds, and longer if the kernel throttles the writer.
 */
const SYNC_COPY_LIMIT = 1024 * 1024;

/**
 * writeDurably() without its fsyncs, for the copies of a journaled message
 * (the journal's checkpoint syncs them all at once), made with synchronous
 * calls. Through the thread pool each of the four calls cost a wake of a
 * pool thread and of the event loop again: 0.3–0.5 ms of CPU a message on
 * this kind of machine (bench/smtp, 100 KB messages: open, write, close and
 * rename were 13% of a worker). The data goes to
 * the page cache; nothing waits on the disk, unless the kernel throttles a
 * writer that has dirtied more than its share, as it would a pool thread.
 */
function writeCopySync(tmp: string, final: string, name: string, parts: readonly Buffer[]): string {
  const temporary = join(tmp, name);
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeAllSync(fd, parts);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {}
    throw err;
  }
  closeSync(fd);
  const path = join(final, name);
  renameSync(temporary, path);
  return path;
}

/**
 * A mailbox's Maildir name: the address in lower case, every byte outside
 * [a-z0-9@.+-] percent-encoded (UTF-8, `%5F` for `_`), and a leading dot
 * too. Reversible, so two mailboxes never share one (`a=b@example.com` is
 * `a%3Db@example.com`, `a_b@example.com` is `a%5Fb@example.com`).
 */
export function maildirName(mailbox: string): string {
  let name = '';
  for (const byte of Buffer.from(mailbox.toLowerCase(), 'utf8')) {
    const c = String.fromCharCode(byte);
    name +=
      /[a-z0-9@.+-]/.test(c) && !(name === '' && c === '.')
        ? c
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return name;
}

/** The mailbox a Maildir name stands for (maildirName reversed). */
export function mailboxOfMaildir(name: string): string {
  return decodeURIComponent(name);
}

/** The name the node used before maildirName: lossy (every other character `_`), so names collided. */
export function legacyMaildirName(mailbox: string): string {
  return mailbox.toLowerCase().replace(/[^a-z0-9@._+-]/g, '_');
}

/** The Maildir of a mailbox under the node's data directory. */
export function maildirOf(dataDir: string, mailbox: string): string {
  return join(dataDir, 'maildirs', maildirName(mailbox));
}

/**
 * Renames the Maildirs of `mailboxes` still under their legacy name to
 * their own (at start, and when the directory changes). A legacy name two
 * mailboxes share is left where it is (whose mail it holds cannot be told)
 * and reported, as is a mailbox that has both.
 */
export async function migrateLegacyMaildirs(
  dataDir: string,
  mailboxes: Iterable<string>,
): Promise<{ renamed: string[]; ambiguous: string[] }> {
  const root = join(dataDir, 'maildirs');
  const present = new Set(await readdir(root).catch(() => [] as string[]));
  const renamed: string[] = [];
  const ambiguous: string[] = [];
  if (present.size === 0) return { renamed, ambiguous };
  const byLegacy = new Map<string, string[]>();
  for (const mailbox of mailboxes) {
    const legacy = legacyMaildirName(mailbox);
    if (legacy === maildirName(mailbox) || !present.has(legacy)) continue;
    byLegacy.set(legacy, [...(byLegacy.get(legacy) ?? []), mailbox.toLowerCase()]);
  }
  for (const [legacy, owners] of byLegacy) {
    const unique = [...new Set(owners)];
    const owner = unique[0];
    if (unique.length !== 1 || owner === undefined || present.has(maildirName(owner))) {
      ambiguous.push(legacy);
      continue;
    }
    await rename(join(root, legacy), join(root, maildirName(owner)));
    renamed.push(legacy);
  }
  if (renamed.length > 0) await fsyncDir(root);
  return { renamed, ambiguous };
}

export async function deliverToMaildir(
  dataDir: string,
  mailbox: string,
  message: Bytes,
  opts: WriteOptions = {},
): Promise<string> {
  const dir = maildirOf(dataDir, mailbox);
  await ensureDir(join(dir, 'cur'));
  return writeDurably(dir, 'new', message, opts);
}

/** Whether a mailbox already holds the message `name` (in new/, or read into cur/). */
export async function inMaildir(dataDir: string, mailbox: string, name: string): Promise<boolean> {
  const dir = maildirOf(dataDir, mailbox);
  if (await exists(join(dir, 'new', name))) return true;
  const cur = await readdir(join(dir, 'cur')).catch(() => [] as string[]);
  return cur.some((f) => f === name || f.startsWith(`${name}:`));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Delivers one message to several mailboxes: written once, then hard-linked
 * into the others (one copy on disk, however many recipients). With
 * `skipPresent` (replaying the journal), mailboxes that already have it are
 * left alone.
 */
export async function deliverToMaildirs(
  dataDir: string,
  mailboxes: string[],
  message: Bytes,
  opts: WriteOptions & { name: string; skipPresent?: boolean },
): Promise<void> {
  let source: string | undefined;
  for (const mailbox of mailboxes) {
    if (opts.skipPresent && (await inMaildir(dataDir, mailbox, opts.name))) continue;
    if (source === undefined) {
      source = await deliverToMaildir(dataDir, mailbox, message, opts);
      continue;
    }
    const dir = maildirOf(dataDir, mailbox);
    await ensureDir(join(dir, 'cur'));
    await ensureDir(join(dir, 'new'));
    await ensureDir(join(dir, 'tmp'));
    // Synchronously: a hard link is one metadata call of about 10 µs, and
    // through the thread pool it cost 35–45 µs of CPU (bench/smtp, 20
    // recipients: 19 links a message, 14% of a worker). No data is written,
    // so it does not wait on dirty-page write-back as a file write can; it
    // can wait behind a commit of the filesystem's own journal, which on a
    // local disk is short. (On NFS each link would be a round trip with the
    // event loop held: keep the data directory on a local disk.)
    try {
      linkSync(source, join(dir, 'new', opts.name));
    } catch (err) {
      // Already there (a replay), or another filesystem or a link limit: a copy will do.
      if ((err as { code?: string }).code !== 'EEXIST')
        await deliverToMaildir(dataDir, mailbox, message, opts);
    }
    if (opts.sync ?? true) await fsyncDir(join(dir, 'new'));
  }
}
