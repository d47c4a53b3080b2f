/**
 * Durable storage of accepted messages: a Maildir per local mailbox
 * (tmp → fsync → rename into new → fsync the directory). The outbound
 * queue (queue.ts) writes its jobs the same way. A 250 after DATA is sent
 * only once every copy is on disk.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

let counter = 0;

/** A Maildir-style unique name: time, process, counter, random, host. */
export function uniqueName(): string {
  counter = (counter + 1) % 1_000_000;
  const host = hostname().replace(/[/:]/g, '_');
  return `${Date.now()}.P${process.pid}Q${counter}R${randomBytes(4).toString('hex')}.${host}`;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to dir/tmp/name, fsyncs it, and renames it into dir/<into>/name. */
export async function writeDurably(
  dir: string,
  into: 'new' | 'queue',
  data: Buffer,
): Promise<string> {
  const tmp = join(dir, 'tmp');
  const final = join(dir, into);
  await mkdir(tmp, { recursive: true });
  await mkdir(final, { recursive: true });
  const name = uniqueName();
  const handle = await open(join(tmp, name), 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(join(tmp, name), join(final, name));
  await fsyncDir(final);
  return join(final, name);
}

/** The Maildir of a mailbox under the node's data directory. */
export function maildirOf(dataDir: string, mailbox: string): string {
  return join(dataDir, 'maildirs', mailbox.toLowerCase().replace(/[^a-z0-9@._+-]/g, '_'));
}

export async function deliverToMaildir(
  dataDir: string,
  mailbox: string,
  message: Buffer,
): Promise<string> {
  const dir = maildirOf(dataDir, mailbox);
  await mkdir(join(dir, 'cur'), { recursive: true });
  return writeDurably(dir, 'new', message);
}
