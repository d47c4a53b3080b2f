/**
 * The SMTP listener of a node: smtp-server hooks that ask routing-core what
 * to do with each recipient and answer from the one reply table. Each session
 * keeps the generation it started with; apply() swaps in the next one for
 * new sessions, so a restart refuses no connection.
 */

import { scrypt, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type Decision,
  evaluate,
  locateDomain,
  type NextHop,
  parsePath,
  REPLIES,
  replyFor,
} from '@ims/routing-core';
import type {
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerSession,
} from 'smtp-server';
import { buildDsn, type FailedRecipient, hopCount } from './dsn';
import { type Generation, loadDirectory, loadGeneration } from './generation';
import { ImsSmtpServer, replyError } from './ims-smtp-server';
import { Journal } from './journal';
import { deliverToMaildirs, uniqueName, type WriteOptions } from './maildir';
import type { Target } from './outbound';
import { OutboundQueue, type OutboundQueueOptions, type QueueStats } from './queue';

export interface SmtpNodeOptions {
  /** Addresses to listen on, e.g. ['127.0.0.1'] (IMS_SMTP_LISTEN). */
  listen: string[];
  /** Port (IMS_SMTP_PORT); 0 picks a free one per address (tests). */
  port: number;
  dataDir: string;
  /** Name in the greeting and in Received: headers. */
  hostname?: string;
  greetingDelayMs?: number;
  /** Largest message accepted, in bytes. */
  maxMessageSize?: number;
  /** Message bytes all sessions together may hold in memory; past it, 452 4.3.1 (default 256 MiB). */
  maxBytesInFlight?: number;
  maxRecipients?: number;
  /** How long in-flight sessions may finish under the old generation before 421 at stop(). */
  drainTimeoutMs?: number;
  /** Most simultaneous sessions per listening address; more get 421 (default 500). */
  maxClients?: number;
  /** Idle time before a session is closed with 421 (default 5 minutes, RFC 5321 §4.5.3.2). */
  idleTimeoutMs?: number;
  /** Outbound mail with no routing-table host goes here instead of the MX (IMS_SMART_HOST). */
  smartHost?: Target;
  /** Certificate and key (PEM) that turn on STARTTLS. */
  tls?: { cert: Buffer; key: Buffer };
  /** Queue tuning (retry schedule, expiry, timeouts, MX lookup), mostly for tests. */
  queue?: Partial<
    Pick<
      OutboundQueueOptions,
      | 'retryScheduleMs'
      | 'maxAgeMs'
      | 'concurrency'
      | 'connectionTimeoutMs'
      | 'socketTimeoutMs'
      | 'lookupMx'
    >
  >;
  /** One line per recipient decision (the relay-denial event log). */
  log?: (entry: Record<string, unknown>) => void;
}

interface SessionState {
  generation: Generation;
  /** The mailbox that authenticated with AUTH in this session. */
  user?: string;
  decisions: { rcpt: string; decision: Decision }[];
  /** RCPT commands in this transaction, accepted or not. */
  attempts: number;
  /** This transaction's MAIL FROM, parsed once: canonical, '' for the null sender. */
  sender: string;
  /** True while a message of this session is being stored. */
  storing?: boolean;
  /** A restart's drain timeout passed while storing: close once the reply is sent. */
  closeAfterReply?: boolean;
}

export interface Counters extends QueueStats {
  sessions: number;
  recipientsAccepted: number;
  recipientsRejected: number;
  relayDenied: number;
  messagesAccepted: number;
  authFailures: number;
  /** Non-delivery reports generated (to the sender, never to the null sender). */
  ndrsSent: number;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** Matches nothing; the console's scrypt cost (N = 2^15). */
const DUMMY_HASH = `scrypt$32768$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

/** MAIL FROM parameters of the extensions advertised (RFC 1870, 6152, 4954); RCPT TO has none. */
const MAIL_PARAMETERS = new Set(['SIZE', 'BODY', 'AUTH']);
/** Received: fields a message may carry (Postfix's hopcount_limit). */
const MAX_HOPS = 50;

/**
 * What the journal keeps of an accepted message: enough to deliver it again
 * after a crash. Its payload is this as JSON, a newline, then the message.
 */
interface StoredMessage {
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

/** Status of the report for a recipient refused because the service does not reroute (Q255695). */
const NO_REROUTE_STATUS = '5.4.4';

/** The report line for a recipient accepted only to be reported undeliverable. */
function ndrRecipient(rcpt: string, decision: Decision): FailedRecipient {
  if (decision.reason === 'unknown-recipient') {
    return {
      address: decision.recipient ?? rcpt,
      status: '5.1.1',
      reason: 'No such user here: the address is not in the directory.',
    };
  }
  return {
    address: decision.recipient ?? rcpt,
    status: NO_REROUTE_STATUS,
    reason:
      'This Internet Mail Service does not reroute mail, and the recipient is not local (Q255695).',
  };
}

function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !hash) return Promise.resolve(false);
  const expected = Buffer.from(hash, 'base64');
  return new Promise((resolve) => {
    const N = Number(n);
    const R = Number(r);
    scrypt(
      password.normalize('NFC'),
      Buffer.from(salt, 'base64'),
      expected.length,
      { N, r: R, p: Number(p), maxmem: 256 * N * R },
      (err, key) =>
        resolve(!err && key.length === expected.length && timingSafeEqual(key, expected)),
    );
  });
}

export class SmtpNode {
  private generation: Generation | undefined;
  private directory = new Map<string, string>();
  private readonly servers: ImsSmtpServer[] = [];
  private readonly sessions = new Map<string, SessionState>();
  private readonly authFailures = new Map<string, { failures: number; at: number }>();
  /** scrypt checks running now: at most two, so the thread pool stays free for disk writes. */
  private scryptRunning = 0;
  private readonly scryptWaiting: (() => void)[] = [];
  private bytesInFlight = 0;
  private readonly totals = {
    sessions: 0,
    recipientsAccepted: 0,
    recipientsRejected: 0,
    relayDenied: 0,
    messagesAccepted: 0,
    authFailures: 0,
    ndrsSent: 0,
  };
  readonly queue: OutboundQueue;
  readonly journal: Journal;
  /** Copies of accepted messages being written now. */
  private readonly writing = new Set<Promise<void>>();
  readonly startedAt = new Date();
  private readonly hostname: string;

  constructor(private readonly opts: SmtpNodeOptions) {
    this.hostname = opts.hostname ?? 'ims.localhost';
    this.journal = new Journal({
      dir: join(opts.dataDir, 'journal'),
      syncRoot: opts.dataDir,
      ...(opts.log ? { log: opts.log } : {}),
    });
    this.queue = new OutboundQueue({
      dir: join(opts.dataDir, 'queue'),
      hostname: this.hostname,
      ...(opts.smartHost ? { smartHost: opts.smartHost } : {}),
      ...opts.queue,
      isSelf: (t) => this.listening.includes(`${t.host}:${t.port}`),
      onBounce: (job, failed, message) =>
        this.sendNdr(
          job.mailFrom,
          failed.map((r) => ({
            address: r.address,
            status: r.status ?? '5.0.0',
            reason:
              r.status === '4.4.7'
                ? 'Delivery time expired: the message could not be delivered for too long.'
                : 'The destination server refused it.',
            ...(r.reply && r.remoteMta ? { diagnostic: r.reply, remoteMta: r.remoteMta } : {}),
            ...(r.reply && !r.remoteMta ? { diagnostic: r.reply } : {}),
          })),
          message,
          new Date(job.arrivalDate),
        ),
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  /** Session, recipient and queue counters (reported to the console). */
  get counters(): Counters {
    return { ...this.totals, ...this.queue.stats };
  }

  get runningVersion(): number | undefined {
    return this.generation?.version;
  }

  /** The addresses actually listened on, `host:port`. */
  get listening(): string[] {
    return this.servers.map((s) => {
      const a = s.server.address() as AddressInfo;
      return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    });
  }

  /**
   * Validates a bundle and makes it the generation of new sessions; sessions
   * in flight keep theirs. Throws (keeping the running generation) when the
   * bundle cannot be run.
   */
  apply(bundle: unknown): Generation {
    const generation = loadGeneration(bundle);
    const directory = loadDirectory(bundle);
    this.generation = generation;
    this.directory = directory;
    // Sessions of the older generation may finish for the drain timeout,
    // then get 421 4.3.2 so they reconnect under the new rules.
    const drain = setTimeout(
      () => this.closeOlderThan(generation),
      this.opts.drainTimeoutMs ?? 30_000,
    );
    drain.unref();
    return generation;
  }

  private closeOlderThan(generation: Generation): void {
    for (const server of this.servers) {
      for (const connection of server.connections) {
        const state = this.sessions.get(connection.id);
        if (
          !state ||
          state.generation === generation ||
          state.generation.version >= generation.version
        )
          continue;
        // A message being stored gets its reply first, then the 421.
        if (state.storing) state.closeAfterReply = true;
        else this.drainSession(connection.id);
      }
    }
  }

  /** Tells a session of an older generation to reconnect (421 4.3.2), and closes it. */
  private drainSession(id: string): void {
    for (const server of this.servers) {
      for (const connection of server.connections) {
        if (connection.id !== id) continue;
        connection.send(
          REPLIES.shuttingDown.code,
          `${REPLIES.shuttingDown.enhanced} ${REPLIES.shuttingDown.text}`,
        );
        connection.close();
      }
    }
  }

  /** Directory changes apply at once, without a restart. */
  setDirectory(entries: unknown): void {
    this.directory = loadDirectory({ directory: entries });
  }

  async start(bundle: unknown): Promise<void> {
    this.apply(bundle);
    await this.queue.start();
    // Messages acknowledged before a crash whose copies may not be on disk.
    const leftovers = await this.journal.open();
    for (const payload of leftovers) await this.applyStored(payload, true);
    if (leftovers.length > 0)
      this.opts.log?.({ event: 'journal-replayed', records: leftovers.length });
    await this.journal.recovered();
    for (const host of this.opts.listen) {
      const server = this.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
    }
  }

  /** Resolves once the copies of every message accepted so far are written (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.all([...this.writing]);
  }

  /** Stops listening; sessions in flight get the drain timeout, then 421. */
  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    this.servers.length = 0;
    await this.settled();
    await this.journal.close();
    await this.queue.stop();
  }

  private isKnown = (address: string): boolean => this.directory.has(address.toLowerCase());

  private createServer(): ImsSmtpServer {
    return new ImsSmtpServer({
      name: this.hostname,
      banner: 'Internet Mail Service ready',
      greetingDelayMs: this.opts.greetingDelayMs ?? 0,
      size: this.opts.maxMessageSize ?? 25 * 1024 * 1024,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: true,
      allowInsecureAuth: true,
      // STARTTLS only with a configured certificate: never the library's
      // built-in self-signed one.
      ...(this.opts.tls
        ? { key: this.opts.tls.key, cert: this.opts.tls.cert, hideSTARTTLS: false }
        : { hideSTARTTLS: true, disabledCommands: ['STARTTLS'] }),
      hideENHANCEDSTATUSCODES: false,
      hideSMTPUTF8: true,
      // routing-core's parser judges every path (onMailFrom, evaluate), so the
      // node answers what the console's what-if answers; the library's strict
      // check refused what routing-core accepts (a trailing dot). Issue #8.
      lenientAddressParsing: true,
      hideDSN: true,
      disableReverseLookup: true,
      logger: false,
      closeTimeout: this.opts.drainTimeoutMs ?? 30_000,
      maxClients: this.opts.maxClients ?? 500,
      socketTimeout: this.opts.idleTimeoutMs ?? 5 * 60_000,
      onConnect: (session, callback) => {
        if (!this.generation) return callback(replyError(REPLIES.policyNotLoaded));
        this.totals.sessions++;
        this.sessions.set(session.id, {
          generation: this.generation,
          decisions: [],
          attempts: 0,
          sender: '',
        });
        callback();
      },
      // After STARTTLS the session starts over (RFC 3207 §4.2): whatever was
      // learned before it, AUTH included, is forgotten.
      onSecure: (_socket, session, callback) => {
        const state = this.sessions.get(session.id);
        if (state) {
          state.user = undefined;
          state.decisions = [];
          state.attempts = 0;
        }
        callback();
      },
      onClose: (session) => {
        this.sessions.delete(session.id);
      },
      // The async hooks never reject: an unexpected error answers 4xx and the
      // server stays up (an unhandled rejection would end the process).
      onAuth: (auth, session, callback) => {
        this.onAuth(auth, session, callback).catch((err: unknown) => {
          this.opts.log?.({ event: 'auth-error', session: session.id, error: String(err) });
          callback(replyError(REPLIES.authTemporaryFailure));
        });
      },
      onMailFrom: (address, session, callback) => {
        const state = this.sessions.get(session.id);
        if (state) {
          state.decisions = [];
          state.attempts = 0;
        }
        if (Object.keys(address.args || {}).some((k) => !MAIL_PARAMETERS.has(k.toUpperCase())))
          return callback(replyError(REPLIES.parameterNotRecognised));
        const parsed = parsePath(address.address === '' ? '<>' : `<${address.address}>`, {
          allowNull: true,
        });
        // Kept canonical (A-label domain), '' for the null sender: as queued and reported.
        if (state && parsed.ok)
          state.sender = parsed.kind === 'mailbox' ? parsed.mailbox.address : '';
        callback(parsed.ok ? undefined : replyError(REPLIES.badSenderSyntax));
      },
      onRcptTo: (address, session, callback) => {
        const state = this.sessions.get(session.id);
        if (!state) return callback(replyError(REPLIES.policyNotLoaded));
        if (Object.keys(address.args || {}).length > 0)
          return callback(replyError(REPLIES.parameterNotRecognised));
        // Rejected RCPTs count too, so one transaction cannot probe without end.
        state.attempts++;
        if (state.attempts > (this.opts.maxRecipients ?? 100)) {
          return callback(replyError(REPLIES.tooManyRecipients));
        }
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const decision = evaluate(
          state.generation.policy,
          {
            clientIp: session.remoteAddress,
            serverIp: session.localAddress,
            // Only a user our onAuth accepted: smtp-server also sets `user`
            // (to false) after STARTTLS or XCLIENT, which is no authentication.
            authenticated: state.user !== undefined,
            mailFrom: `<${mailFrom}>`,
            rcptTo: `<${address.address}>`,
            isKnownRecipient: this.isKnown,
          },
          { trace: false },
        );
        const reply = replyFor(decision);
        this.opts.log?.({
          event: 'rcpt',
          session: session.id,
          version: state.generation.version,
          client: session.remoteAddress,
          server: session.localAddress,
          user: state.user ?? null,
          mailFrom,
          rcptTo: address.address,
          action: decision.action,
          reason: decision.reason,
          rule: decision.rule?.pointer ?? null,
          reply: `${reply.code} ${reply.enhanced}`,
        });
        if (reply.code >= 400) {
          this.totals.recipientsRejected++;
          if (reply === REPLIES.relayDenied) this.totals.relayDenied++;
          return callback(replyError(reply));
        }
        this.totals.recipientsAccepted++;
        state.decisions.push({ rcpt: address.address, decision });
        callback();
      },
      onData: (stream, session, callback) => {
        this.onData(stream, session, callback).catch((err: unknown) => {
          this.opts.log?.({ event: 'data-error', session: session.id, error: String(err) });
          callback(replyError(REPLIES.policyNotLoaded));
        });
      },
    });
  }

  private async onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: { user: string }) => void,
  ): Promise<void> {
    const client = session.remoteAddress;
    // An address that failed before waits first (up to 5 s), before any
    // hashing: a flood of guesses costs the guesser time, not us CPU.
    const previous = this.recentFailures(client);
    if (previous > 0) await sleep(Math.min(5000, 250 * 2 ** Math.min(previous - 1, 5)));
    const username = (auth.username ?? '').toLowerCase();
    const hash = this.directory.get(username);
    // Unknown users cost the same scrypt work, so timing does not tell who exists.
    const ok =
      (await this.limitScrypt(() => verifyScrypt(auth.password ?? '', hash ?? DUMMY_HASH))) &&
      hash !== undefined;
    if (ok) {
      this.authFailures.delete(client);
      const state = this.sessions.get(session.id);
      if (state) state.user = username;
      return callback(null, { user: username });
    }
    this.totals.authFailures++;
    // Most recently failed last; the oldest entries go first when full.
    this.authFailures.delete(client);
    this.authFailures.set(client, { failures: previous + 1, at: Date.now() });
    if (this.authFailures.size > 10_000) {
      const oldest = this.authFailures.keys().next().value;
      if (oldest !== undefined) this.authFailures.delete(oldest);
    }
    callback(replyError(REPLIES.authFailed));
  }

  /** Failed AUTH attempts from an address in the last 15 minutes. */
  private recentFailures(client: string): number {
    const entry = this.authFailures.get(client);
    if (!entry) return 0;
    if (Date.now() - entry.at > 15 * 60_000) {
      this.authFailures.delete(client);
      return 0;
    }
    return entry.failures;
  }

  /** Runs at most two scrypt checks at once: libuv's four threads also do every fsync. */
  private async limitScrypt<T>(run: () => Promise<T>): Promise<T> {
    while (this.scryptRunning >= 2) await new Promise<void>((r) => this.scryptWaiting.push(r));
    this.scryptRunning++;
    try {
      return await run();
    } finally {
      this.scryptRunning--;
      this.scryptWaiting.shift()?.();
    }
  }

  private async onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    let held = 0;
    let overBudget = false;
    const budget = this.opts.maxBytesInFlight ?? 256 * 1024 * 1024;
    try {
      // Past the size limit, or the memory all sessions may use, the rest is
      // read and dropped, never held.
      for await (const chunk of stream) {
        if (stream.sizeExceeded || overBudget) continue;
        const b = chunk as Buffer;
        if (this.bytesInFlight + b.length > budget) {
          overBudget = true;
          continue;
        }
        this.bytesInFlight += b.length;
        held += b.length;
        chunks.push(b);
      }
      if (stream.sizeExceeded) return callback(replyError(REPLIES.messageTooBig));
      if (overBudget) return callback(replyError(REPLIES.insufficientStorage));
      await this.store(chunks, session, callback);
    } finally {
      this.bytesInFlight -= held;
    }
  }

  private async store(
    chunks: Buffer[],
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): Promise<void> {
    const state = this.sessions.get(session.id);
    if (!state) return callback(replyError(REPLIES.policyNotLoaded));
    const received = Buffer.from(
      `Received: from ${session.hostNameAppearsAs || 'unknown'} ([${session.remoteAddress}])\r\n` +
        `\tby ${this.hostname} (IMS Routing Console) with ${session.transmissionType}\r\n` +
        `\tid ${session.id}; ${new Date().toUTCString()}\r\n`,
    );
    const message = Buffer.concat([received, ...chunks]);
    // A message that has passed this many hosts is looping (RFC 5321 §6.3).
    if (hopCount(message) > MAX_HOPS) return callback(replyError(REPLIES.tooManyHops));
    const mailFrom = state.sender;
    const stored: StoredMessage = {
      id: uniqueName(),
      mailFrom,
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
    state.storing = true;
    try {
      // Durable first (the journal's group commit), then the copies.
      const applied = await this.journal.append(
        Buffer.concat([Buffer.from(`${JSON.stringify(stored)}\n`), message]),
      );
      // The copies are written after the reply, as Postfix's delivery agents
      // do after its queue file: the message is safe in the journal, and the
      // checkpoint waits for them. A failure is retried until they are written.
      const writing = this.applyMessage(stored, message, false).then(applied, (err: unknown) =>
        this.retryApply(stored, message, applied, err),
      );
      this.writing.add(writing);
      void writing.finally(() => this.writing.delete(writing));
    } catch (err) {
      this.opts.log?.({ event: 'store-failed', session: session.id, error: String(err) });
      return callback(replyError(REPLIES.policyNotLoaded));
    } finally {
      state.storing = false;
    }
    this.totals.messagesAccepted++;
    callback(null, `${REPLIES.messageAccepted.enhanced} ${REPLIES.messageAccepted.text}`);
    if (state.closeAfterReply) setImmediate(() => this.drainSession(session.id));
  }

  /**
   * Writes the copies of an accepted message: Maildir files, a queue job, a
   * report. Not synced one by one: the journal holds the message until its
   * checkpoint has synced them all. Replaying (after a crash) skips copies
   * that are already there.
   */
  private async applyMessage(
    stored: StoredMessage,
    message: Buffer,
    replay: boolean,
  ): Promise<void> {
    const write = { name: stored.id, sync: false, skipPresent: replay };
    if (stored.local.length > 0) {
      // Final delivery records the envelope sender (RFC 5321 §4.4).
      const local = Buffer.concat([Buffer.from(`Return-Path: <${stored.mailFrom}>\r\n`), message]);
      await deliverToMaildirs(this.opts.dataDir, stored.local, local, write);
    }
    if (stored.relay.length > 0)
      await this.queue.enqueue(stored.mailFrom, stored.relay, message, stored.version, write);
    if (stored.ndr) {
      await this.sendNdr(
        stored.mailFrom,
        stored.ndr.recipients,
        message,
        new Date(stored.arrival),
        stored.ndr.content,
        { ...write, name: `${stored.id}.ndr` },
      );
    }
  }

  /** Retries writing a journaled message's copies (disk full, say) until it works. */
  private retryApply(
    stored: StoredMessage,
    message: Buffer,
    applied: () => void,
    err: unknown,
    attempt = 1,
  ): void {
    this.opts.log?.({ event: 'apply-failed', id: stored.id, error: String(err), attempt });
    const wait = Math.min(60_000, 500 * 2 ** Math.min(attempt, 7));
    setTimeout(() => {
      this.applyMessage(stored, message, true).then(applied, (again: unknown) =>
        this.retryApply(stored, message, applied, again, attempt + 1),
      );
    }, wait).unref();
  }

  /** Re-applies a journal record left by a previous run. */
  private async applyStored(payload: Buffer, replay: boolean): Promise<void> {
    const nl = payload.indexOf(0x0a);
    let stored: StoredMessage;
    try {
      stored = JSON.parse(payload.subarray(0, nl).toString('utf8')) as StoredMessage;
    } catch (err) {
      this.opts.log?.({ event: 'journal-record-unreadable', error: String(err) });
      return;
    }
    await this.applyMessage(stored, payload.subarray(nl + 1), replay);
  }

  /**
   * Sends a non-delivery report for `failed` to `to` (the original MAIL
   * FROM): into a local Maildir, or through the queue. None goes to the null
   * sender. Resolves once the report is durably stored.
   */
  async sendNdr(
    to: string,
    failed: FailedRecipient[],
    original: Buffer,
    arrivalDate: Date,
    content: 'full' | 'headers' = 'full',
    write: WriteOptions & { skipPresent?: boolean } = {},
  ): Promise<void> {
    const generation = this.generation;
    if (to === '' || !generation) {
      this.opts.log?.({ event: 'ndr-suppressed', failed: failed.map((f) => f.address) });
      return;
    }
    const site = generation.policy.siteDomain;
    const report = buildDsn({
      reportingMta: this.hostname,
      from: `postmaster@${site}`,
      to,
      arrivalDate,
      recipients: failed,
      original,
      content,
    });
    const where = this.whereTo(to);
    this.opts.log?.({ event: 'ndr', to, failed: failed.map((f) => f.address), via: where.kind });
    if (where.kind === 'local') {
      await deliverToMaildirs(this.opts.dataDir, [where.mailbox], report, {
        ...write,
        name: write.name ?? uniqueName(),
      });
    } else if (where.kind === 'remote') {
      await this.queue.enqueue(
        '',
        [{ address: to, hop: where.hop }],
        report,
        generation.version,
        write,
      );
    } else {
      this.opts.log?.({ event: 'ndr-undeliverable', to, reason: where.reason });
      return;
    }
    this.totals.ndrsSent++;
  }

  /** Where mail this node originates (an NDR) for `address` goes: no restriction applies to it. */
  private whereTo(
    address: string,
  ):
    | { kind: 'local'; mailbox: string }
    | { kind: 'remote'; hop: NextHop }
    | { kind: 'none'; reason: string } {
    const generation = this.generation;
    const parsed = parsePath(`<${address}>`);
    if (!generation || !parsed.ok || parsed.kind !== 'mailbox')
      return { kind: 'none', reason: 'not a mailbox address' };
    const { domain, domainKind, localPart } = parsed.mailbox;
    // A sender at an address literal could point reports at any host, internal
    // ones included: none is sent there.
    if (domainKind !== 'name') return { kind: 'none', reason: 'the sender is an address literal' };
    const where = locateDomain(generation.policy, domain);
    if (!where.local) {
      return {
        kind: 'remote',
        hop: (where.route?.nextHop as NextHop | undefined) ?? { kind: 'outbound', domain },
      };
    }
    const local = `${localPart}@${domain}`.toLowerCase();
    if (localPart.toLowerCase() === 'postmaster')
      return { kind: 'local', mailbox: generation.policy.postmaster };
    if (this.isKnown(local)) return { kind: 'local', mailbox: local };
    return { kind: 'none', reason: `${local} is not in the directory` };
  }
}
