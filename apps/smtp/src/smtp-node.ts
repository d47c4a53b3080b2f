/**
 * An SMTP node: its generations, its listeners and its lifecycle. A
 * generation is one loaded configuration version (generation.ts); load()
 * makes a bundle the generation of new sessions while sessions in flight
 * keep theirs, so a restart refuses no connection.
 *
 * Where the rest is:
 * - listener.ts: smtp-server's settings and the hook table; hooks/ holds the
 *   hooks, and hooks/on-rcpt-to.ts is the recipient decision;
 * - auth.ts: SMTP AUTH, its throttling;
 * - storage.ts: accepted messages (journal, copies) and the replay after a crash;
 * - ndr.ts: non-delivery reports; queue.ts: outbound delivery.
 */

import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { REPLIES } from '@ims/routing-core';
import { AuthChecker } from './auth';
import { cleartextAuthWarning } from './auth-policy';
import { type DecisionRecorder, TrafficStore } from './decision-records';
import { type Generation, loadDirectory, loadGeneration } from './generation';
import type { HookContext } from './hooks/context';
import { DEFAULT_SESSION_LIMITS, type ImsSmtpServer, type SessionLimits } from './ims-smtp-server';
import { Journal } from './journal';
import { type Anvil, type AnvilLimits, DEFAULT_ANVIL_LIMITS, InProcessAnvil } from './limits/anvil';
import { createListener, type ListenerSettings } from './listener';
import { type Logger, silentLogger } from './log';
import { migrateLegacyMaildirs } from './maildir';
import { NdrWriter } from './ndr';
import { NodeState, type Totals } from './node-state';
import type { Target } from './outbound';
import { OutboundQueue, type OutboundQueueOptions, type QueueStats } from './queue';
import { isSelf } from './self-target';
import { MessageStore } from './storage';

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
  /** RCPT commands a session may send, accepted or not (default 100). */
  maxRecipients?: number;
  /** Greeting timeout and error limits per session (ims-smtp-server.ts; defaults as Postfix's). */
  sessionLimits?: Partial<Omit<SessionLimits, 'greetingDelayMs'>>;
  /** Per-client limits (limits/anvil.ts): sessions per address, connection rate, AUTH failures. */
  clientLimits?: Partial<AnvilLimits>;
  /** The Anvil to count with (another process's, say); default one in this process with clientLimits. */
  anvil?: Anvil;
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
  /** The node's log (log.ts: createLogger); one line per recipient decision among others. Silent if absent. */
  logger?: Logger;
  /** Days of decision records kept for the impact preview (IMS_TRAFFIC_WINDOW_DAYS, default 7). */
  trafficWindowDays?: number;
  /** Distinct decision-record keys kept at most (default 100,000). */
  trafficMaxKeys?: number;
  /**
   * Where RCPT decisions are counted instead of this node's own store: an SMTP
   * worker's forwards them to its primary, which keeps the node's one store.
   */
  trafficRecorder?: DecisionRecorder;
  /** The journal's directory (default dataDir/journal); each SMTP worker has its own (cluster/). */
  journalDir?: string;
  /** How often the journal checkpoints (default 1 s); tests lengthen it to hold records longer. */
  journalCheckpointMs?: number;
  /** An SMTP worker's: each queue job written goes to the node's one queue runner (queue.ts `handOff`). */
  queueHandOff?: (name: string, nextAttemptAt: number) => void;
  /** The addresses the node listens on when its workers do (loop detection); default its own listeners. */
  selfAddresses?: () => string[];
}

export interface Counters extends Totals, QueueStats {}

export class SmtpNode {
  private readonly state = new NodeState();
  private readonly servers: ImsSmtpServer[] = [];
  private readonly logger: Logger;
  private readonly store: MessageStore;
  private readonly hooks: HookContext;
  private readonly ndr: NdrWriter;
  readonly queue: OutboundQueue;
  readonly journal: Journal;
  /** The decision records (decision-records.ts), kept in `traffic.json` of the data directory. */
  readonly traffic: TrafficStore;
  /** Per-client counting (limits/anvil.ts); the primary of several workers serves its own to them. */
  readonly anvil: Anvil;
  readonly startedAt = new Date();
  private readonly hostname: string;

  constructor(private readonly opts: SmtpNodeOptions) {
    this.hostname = opts.hostname ?? 'ims.localhost';
    this.logger = opts.logger ?? silentLogger();
    this.journal = new Journal({
      dir: opts.journalDir ?? join(opts.dataDir, 'journal'),
      syncRoot: opts.dataDir,
      logger: this.logger,
      ...(opts.journalCheckpointMs === undefined ? {} : { checkpointMs: opts.journalCheckpointMs }),
    });
    this.queue = new OutboundQueue({
      dir: join(opts.dataDir, 'queue'),
      hostname: this.hostname,
      ...(opts.smartHost ? { smartHost: opts.smartHost } : {}),
      ...opts.queue,
      isSelf: (t) => isSelf(t, opts.selfAddresses?.() ?? this.listening),
      ...(opts.queueHandOff ? { handOff: opts.queueHandOff } : {}),
      onBounce: (job, failed, message) =>
        ndr.send(
          job.mailFrom,
          failed.map((r) => ({
            address: r.address,
            status: r.status ?? '5.0.0',
            reason: r.deleted
              ? 'An administrator deleted the message from the queue before it could be delivered.'
              : r.status === '4.4.7'
                ? 'Delivery time expired: the message could not be delivered for too long.'
                : 'The destination server refused it.',
            ...(r.reply && r.remoteMta ? { diagnostic: r.reply, remoteMta: r.remoteMta } : {}),
            ...(r.reply && !r.remoteMta ? { diagnostic: r.reply } : {}),
          })),
          message,
          new Date(job.arrivalDate),
        ),
      logger: this.logger,
    });
    const ndr = new NdrWriter({
      state: this.state,
      queue: this.queue,
      dataDir: opts.dataDir,
      hostname: this.hostname,
      logger: this.logger,
    });
    this.ndr = ndr;
    this.store = new MessageStore({
      dataDir: opts.dataDir,
      journal: this.journal,
      queue: this.queue,
      ndr,
      logger: this.logger,
    });
    this.traffic = new TrafficStore({
      // A worker's own store stays empty and in memory: its primary keeps the file.
      ...(opts.trafficRecorder ? {} : { file: join(opts.dataDir, 'traffic.json') }),
      ...(opts.trafficWindowDays === undefined ? {} : { windowDays: opts.trafficWindowDays }),
      ...(opts.trafficMaxKeys === undefined ? {} : { maxKeys: opts.trafficMaxKeys }),
      logger: this.logger,
    });
    const anvil = opts.anvil ?? new InProcessAnvil(opts.clientLimits);
    this.anvil = anvil;
    this.hooks = {
      traffic: opts.trafficRecorder ?? this.traffic,
      state: this.state,
      logger: this.logger,
      auth: new AuthChecker(this.state, anvil),
      anvil,
      countSessions: sessionsLimited({ ...DEFAULT_ANVIL_LIMITS, ...opts.clientLimits }),
      store: this.store,
      hostname: this.hostname,
      maxRecipients: opts.maxRecipients ?? 100,
      maxBytesInFlight: opts.maxBytesInFlight ?? 256 * 1024 * 1024,
      drainSession: (id) => this.drainSession(id),
    };
  }

  /** Session, recipient and queue counters (reported to the console). */
  get counters(): Counters {
    return { ...this.state.totals, ...this.queue.stats };
  }

  /** The version of the generation new sessions get. */
  get runningVersion(): number | undefined {
    return this.state.generation?.version;
  }

  /** The addresses actually listened on, `host:port`. */
  get listening(): string[] {
    return this.servers.map((s) => {
      const a = s.server.address() as AddressInfo;
      return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    });
  }

  /**
   * Starts a session on `socket` as if the first listener had accepted it:
   * a session without the network, for a socket that stands in for an
   * accepted one (testing/scripted-socket.ts). The policy judges its
   * remoteAddress; on a listener bound to one address the session's local
   * end is that address, whatever the socket says (ims-smtp-server.ts, 10).
   * bench/smtp's session-cost measures the node's own work per session
   * this way.
   */
  acceptConnection(
    socket: Duplex & Pick<Socket, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'>,
  ): void {
    const listener = this.servers[0];
    if (!listener) throw new Error('the node is not listening');
    listener.server.emit('connection', socket);
  }

  /**
   * Validates a bundle and loads it as the generation of new sessions;
   * sessions in flight keep theirs. Throws (keeping the running generation)
   * when the bundle cannot be run. Logs `restarted` when the version changed.
   */
  load(bundle: unknown): Generation {
    const generation = loadGeneration(bundle);
    const directory = loadDirectory(bundle);
    const previous = this.state.generation;
    this.state.generation = generation;
    this.state.directory = directory;
    if (previous && previous.version !== generation.version) {
      this.logger.info({
        event: 'restarted',
        version: generation.version,
        previous: previous.version,
      });
    }
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
        const s = this.state.sessions.get(connection.id);
        if (!s || s.generation === generation || s.generation.version >= generation.version)
          continue;
        // A message being stored gets its reply first, then the 421.
        if (s.storing) s.closeAfterReply = true;
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

  /** Directory changes take effect at once, without a restart. */
  setDirectory(entries: unknown): void {
    this.state.directory = loadDirectory({ directory: entries });
    void this.migrateMaildirs();
  }

  /** Renames Maildirs still under the legacy (colliding) name of a mailbox to its own (maildir.ts). */
  private async migrateMaildirs(): Promise<void> {
    try {
      const { renamed, ambiguous } = await migrateLegacyMaildirs(
        this.opts.dataDir,
        this.state.directory.keys(),
      );
      if (renamed.length > 0) this.logger.info({ event: 'maildirs-renamed', renamed });
      if (ambiguous.length > 0)
        this.logger.warn({
          event: 'maildirs-ambiguous',
          ambiguous,
          message:
            'These Maildirs have a legacy name two mailboxes share (or whose mailbox has a Maildir already): left as they are; sort their mail by hand.',
        });
    } catch (err) {
      this.logger.error({ event: 'maildirs-rename-failed', error: String(err) });
    }
  }

  /** Loads the first generation, replays the journal, then listens. */
  async start(bundle: unknown): Promise<void> {
    this.load(bundle);
    await this.migrateMaildirs();
    await this.queue.start();
    await this.traffic.start();
    // Messages acknowledged before a crash whose copies may not be on disk.
    await this.store.replay();
    const settings: ListenerSettings = {
      limits: {
        ...DEFAULT_SESSION_LIMITS,
        ...this.opts.sessionLimits,
        greetingDelayMs: this.opts.greetingDelayMs ?? 0,
      },
      maxMessageSize: this.opts.maxMessageSize ?? 25 * 1024 * 1024,
      tls: this.opts.tls,
      closeTimeoutMs: this.opts.drainTimeoutMs ?? 30_000,
      maxClients: this.opts.maxClients ?? 500,
      idleTimeoutMs: this.opts.idleTimeoutMs ?? 5 * 60_000,
    };
    for (const host of this.opts.listen) {
      const server = createListener(this.hooks, settings);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port, host, () => {
          server.off('error', reject);
          // A session's socket error (a client's reset mid-transaction) is
          // that session's end, logged: never the node's (an unheard 'error'
          // event would end the process).
          server.on('error', (err: Error) =>
            this.logger.warn({ event: 'session-error', error: err.message }),
          );
          resolve();
        });
      });
      this.servers.push(server);
    }
    // Without a certificate, AUTH is offered on loopback listeners only
    // (passwords never cross a network in the clear): say so at start.
    const warning = cleartextAuthWarning(this.opts.listen, this.opts.tls !== undefined);
    if (warning) this.logger.warn(warning);
  }

  /**
   * Replays the journal segments another process left in `dir` (an SMTP
   * worker that was killed), as start() replays the node's own.
   */
  async replayJournal(dir: string): Promise<void> {
    const journal = new Journal({ dir, syncRoot: this.opts.dataDir, logger: this.logger });
    const store = new MessageStore({
      dataDir: this.opts.dataDir,
      journal,
      queue: this.queue,
      ndr: this.ndr,
      logger: this.logger,
    });
    try {
      await store.replay();
      await store.settled();
    } finally {
      await journal.close();
    }
  }

  /** Resolves once the copies of every message accepted so far are written (tests, shutdown). */
  settled(): Promise<void> {
    return this.store.settled();
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
    await this.traffic.stop();
  }
}

/** Whether the limits count sessions per client address at all. */
function sessionsLimited(limits: AnvilLimits): boolean {
  return limits.maxConnectionsPerClient > 0 || limits.connectionRatePerMinute > 0;
}
