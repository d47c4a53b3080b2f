/**
 * Storing accepted messages, and replaying the journal after a crash. A
 * message is durable in the journal (group commit) before the 250; its
 * copies (Maildir files, a queue job, a report) are written after the reply,
 * as Postfix's delivery agents do after its queue file, and the journal
 * keeps it until its checkpoint has synced them.
 */

import type { NextHop } from '@ims/routing-core';
import type { FailedRecipient } from './dsn';
import type { Journal } from './journal';
import type { Logger } from './log';
import { deliverToMaildirs, uniqueName } from './maildir';
import { type NdrWriter, NO_REROUTE_STATUS, ndrRecipient } from './ndr';
import type { SessionState } from './node-state';
import type { OutboundQueue } from './queue';
import { type Bytes, flatten, partsOf } from './write-all';

/**
 * What the journal keeps of an accepted message: enough to deliver it again
 * after a crash. Its payload is this as JSON, a newline, then the message.
 */
export interface StoredMessage {
  /** Unique; also the file name of its copies, so replaying does not duplicate them. */
  id: string;
  mailFrom: string;
  version: number;
  arrival: string;
  /** Local mailboxes, one copy each. */
  local: string[];
  relay: { address: string; hop: NextHop }[];
  /** Recipients accepted only to be reported undeliverable, and what the report carries. */
  ndr?: { recipients: FailedRecipient[]; content: 'full' | 'headers' };
}

export interface MessageStoreOptions {
  dataDir: string;
  journal: Journal;
  queue: OutboundQueue;
  ndr: NdrWriter;
  logger: Logger;
}

/** Where a transaction's accepted recipients go: the record the journal keeps. */
export function plan(state: SessionState): StoredMessage {
  const stored: StoredMessage = {
    id: uniqueName(),
    mailFrom: state.sender,
    version: state.generation.version,
    arrival: new Date().toISOString(),
    local: [],
    relay: [],
  };
  const ndr: FailedRecipient[] = [];
  for (const { rcpt, decision } of state.decisions) {
    if (decision.action === 'deliver' && decision.mailbox) {
      // One copy per mailbox, however many RCPTs named it.
      const box = decision.mailbox.toLowerCase();
      if (!stored.local.includes(box)) stored.local.push(box);
    } else if (decision.action === 'relay' && decision.nextHop) {
      const address = decision.recipient ?? rcpt;
      if (!stored.relay.some((r) => r.address === address))
        stored.relay.push({ address, hop: decision.nextHop });
    } else if (decision.action === 'accept-ndr') {
      ndr.push(ndrRecipient(rcpt, decision));
    }
  }
  if (ndr.length > 0) {
    // Q255695: "Do not reroute" accepted it, and the report carries the
    // whole message back to MAIL FROM, as the original service did. An
    // unknown local recipient's report carries only the headers, so it
    // cannot carry a stranger's text anywhere.
    const faithful = ndr.some((f) => f.status === NO_REROUTE_STATUS);
    stored.ndr = { recipients: ndr, content: faithful ? 'full' : 'headers' };
  }
  return stored;
}

export class MessageStore {
  /** Copies of accepted messages being written now. */
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly opts: MessageStoreOptions) {}

  /**
   * Makes a message durable (the journal), then starts writing its copies.
   * Resolves once the message is safe: the 250 may go out. Throws when the
   * journal could not take it.
   */
  async store(stored: StoredMessage, message: Bytes): Promise<void> {
    // Durable first (the journal's group commit), then the copies.
    const written = await this.opts.journal.append([
      Buffer.from(`${JSON.stringify(stored)}\n`),
      ...partsOf(message),
    ]);
    // A failure to write the copies is retried until they are written.
    const writing = this.writeCopies(stored, message, false).then(written, (err: unknown) =>
      this.retry(stored, message, written, err),
    );
    this.writing.add(writing);
    void writing.finally(() => this.writing.delete(writing));
  }

  /** Resolves once the copies of every message stored so far are written. */
  async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.all([...this.writing]);
  }

  /** Opens the journal and writes again the copies of messages acknowledged before a crash. */
  async replay(): Promise<void> {
    const leftovers = await this.opts.journal.open();
    for (const payload of leftovers) await this.replayRecord(payload);
    if (leftovers.length > 0)
      this.opts.logger.info({ event: 'journal-replayed', records: leftovers.length });
    await this.opts.journal.recovered();
  }

  /**
   * Writes the copies of an accepted message: Maildir files, a queue job, a
   * report. Not synced one by one: the journal holds the message until its
   * checkpoint has synced them all. Replaying (after a crash) skips copies
   * that are already there.
   */
  private async writeCopies(stored: StoredMessage, message: Bytes, replay: boolean): Promise<void> {
    const write = { name: stored.id, sync: false, skipPresent: replay };
    if (stored.local.length > 0) {
      // Final delivery records the envelope sender (RFC 5321 §4.4).
      const local = [Buffer.from(`Return-Path: <${stored.mailFrom}>\r\n`), ...partsOf(message)];
      await deliverToMaildirs(this.opts.dataDir, stored.local, local, write);
    }
    if (stored.relay.length > 0)
      await this.opts.queue.enqueue(stored.mailFrom, stored.relay, message, stored.version, write);
    if (stored.ndr) {
      await this.opts.ndr.send(
        stored.mailFrom,
        stored.ndr.recipients,
        flatten(message),
        new Date(stored.arrival),
        stored.ndr.content,
        { ...write, name: `${stored.id}.ndr` },
      );
    }
  }

  /** Retries writing a journaled message's copies (disk full, say) until it works. */
  private retry(
    stored: StoredMessage,
    message: Bytes,
    written: () => void,
    err: unknown,
    attempt = 1,
  ): void {
    this.opts.logger.error({ event: 'apply-failed', id: stored.id, error: String(err), attempt });
    const wait = Math.min(60_000, 500 * 2 ** Math.min(attempt, 7));
    setTimeout(() => {
      this.writeCopies(stored, message, true).then(written, (again: unknown) =>
        this.retry(stored, message, written, again, attempt + 1),
      );
    }, wait).unref();
  }

  /** Writes again the copies of a journal record left by a previous run. */
  private async replayRecord(payload: Buffer): Promise<void> {
    const nl = payload.indexOf(0x0a);
    let stored: StoredMessage;
    try {
      stored = JSON.parse(payload.subarray(0, nl).toString('utf8')) as StoredMessage;
    } catch (err) {
      this.opts.logger.error({ event: 'journal-record-unreadable', error: String(err) });
      return;
    }
    await this.writeCopies(stored, payload.subarray(nl + 1), true);
  }
}
