/**
 * The primary process of a node with several SMTP workers (IMS_SMTP_WORKERS).
 * From outside it is one node: one attachment to the console, one running
 * version (reported only once every worker runs it), one status, one data
 * directory. It owns what must exist once per node:
 *
 * - the queue runner (workers write jobs and hand them over: no message is
 *   delivered twice);
 * - the journal replay at start (its own segment directory and every
 *   worker's), before any worker listens;
 * - the bundle workers start with, and each restart (every worker loads it;
 *   sessions keep their generation);
 * - objects shared per node, served to workers through the channel
 *   (channel.ts `served` / `proxy`): today the queue runner.
 *
 * The workers share each listening socket through Node's cluster module (no
 * port per worker, no proxy in the data path). A worker that dies is
 * replaced at once in the same slot, once the primary has replayed that
 * slot's journal segments (the queue runner skips the relayed messages it
 * delivered already); the sessions of the other workers are untouched.
 */

import cluster, { type Worker } from 'node:cluster';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AttachedNode } from '../attach';
import type { LogLevel } from '../config/env';
import type { TrafficStore } from '../decision-records';
import { type Logger, silentLogger } from '../log';
import type { Totals } from '../node-state';
import type { OutboundQueue } from '../queue';
import { type Counters, SmtpNode, type SmtpNodeOptions } from '../smtp-node';
import { Channel, type Port, served } from './channel';
import type { PrimaryToWorker, QueueRunner, TrafficSink, WorkerToPrimary } from './protocol';
import { forWorker } from './shared-anvil';

export interface ClusterNodeOptions extends Omit<SmtpNodeOptions, 'journalDir' | 'queueHandOff'> {
  /** Worker processes (IMS_SMTP_WORKERS), at least 1. */
  workers: number;
  /** The workers' log level (each writes its own lines, tagged with its slot). */
  logLevel: LogLevel;
}

interface Slot {
  slot: number;
  worker: Worker;
  channel: Channel<PrimaryToWorker, WorkerToPrimary>;
  forkedAt: number;
  /** The version it runs, once it listens. */
  version?: number;
  listening: string[];
  totals?: Totals;
  /**
   * Resolves once it listens (or has exited): requests and notes go to a
   * worker only then, when its handlers are installed.
   */
  ready: Promise<void>;
}

const ZERO: Totals = {
  sessions: 0,
  recipientsAccepted: 0,
  recipientsRejected: 0,
  relayDenied: 0,
  messagesAccepted: 0,
  authFailures: 0,
  ndrsSent: 0,
  connectionsRefused: 0,
};

function add(a: Totals, b: Totals): Totals {
  const out = { ...a };
  for (const k of Object.keys(ZERO) as (keyof Totals)[]) out[k] = a[k] + (b[k] ?? 0);
  return out;
}

/** True in the JavaScript `npm start` builds (scripts/build.mjs): worker.js sits beside main.js. */
declare const IMS_BUILT: boolean | undefined;

/** The worker's entry point: built JavaScript, or worker.ts beside this file under tsx (and tests). */
function workerEntry(): { exec: string; execArgv: string[] } {
  if (typeof IMS_BUILT !== 'undefined' && IMS_BUILT)
    return { exec: fileURLToPath(new URL('./worker.js', import.meta.url)), execArgv: [] };
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return {
    exec: fileURLToPath(new URL('./worker.ts', import.meta.url)),
    execArgv: ['--import', pathToFileURL(tsx).href],
  };
}

export class ClusterNode implements AttachedNode {
  /** Runs the queue, the journal replay and the NDRs of the queue; listens on nothing. */
  private readonly local: SmtpNode;
  private readonly slots = new Map<number, Slot>();
  private readonly logger: Logger;
  private readonly shared = new Map<string, object>();
  /** Counters of workers that have exited. */
  private retired: Totals = { ...ZERO };
  private bundle: unknown;
  private stopping = false;
  private lastListening: string[] = [];
  /** The port the workers listen on, when the options said 0 (chosen at start). */
  private port: number | undefined;
  /** Waits between replacing workers that die at once (a crash loop), per slot. */
  /** Replacements under way: a dead worker's journal replayed, then its successor forked. */
  private readonly replacing = new Set<Promise<void>>();
  private readonly backoff = new Map<number, number>();
  readonly startedAt = new Date();

  constructor(private readonly opts: ClusterNodeOptions) {
    this.logger = opts.logger ?? silentLogger();
    this.local = new SmtpNode({
      ...opts,
      listen: [],
      selfAddresses: () => this.listening,
    });
    const queue = this.local.queue;
    const runner: QueueRunner = {
      adopt: async (name, at) => queue.adopt(name, at),
    };
    this.shared.set('queue', runner);
    // One store of decision records per node: the workers send theirs in batches.
    const traffic: TrafficSink = {
      recordBatch: async (batch) => {
        for (const [key, action] of batch) this.local.traffic.record(key, action);
      },
    };
    this.shared.set('traffic', traffic);
  }

  /** The node's decision records (the impact preview): the workers' counted in one store. */
  get traffic(): TrafficStore {
    return this.local.traffic;
  }

  get queue(): OutboundQueue {
    return this.local.queue;
  }

  /**
   * Sessions each worker has started, by slot, as of its last report
   * (settled() refreshes them): which worker the kernel handed connections to.
   */
  get sessionsBySlot(): Map<number, number> {
    return new Map([...this.slots.values()].map((s) => [s.slot, s.totals?.sessions ?? 0] as const));
  }

  /** Worker pids by slot (tests, logs). */
  get workerPids(): Map<number, number> {
    return new Map(
      [...this.slots.values()].map((s) => [s.slot, s.worker.process.pid ?? 0] as const),
    );
  }

  /** The pids of the workers that listen (started, journal replayed), by slot (tests). */
  get readyWorkerPids(): Map<number, number> {
    return new Map(
      [...this.slots.values()]
        .filter((s) => s.version !== undefined)
        .map((s) => [s.slot, s.worker.process.pid ?? 0] as const),
    );
  }

  /** The version every worker runs (the oldest while a restart is under way). */
  get runningVersion(): number | undefined {
    let v: number | undefined;
    for (const s of this.slots.values()) {
      if (s.version === undefined) continue;
      v = v === undefined ? s.version : Math.min(v, s.version);
    }
    return v ?? this.local.runningVersion;
  }

  get listening(): string[] {
    for (const s of this.slots.values()) if (s.listening.length > 0) return s.listening;
    return this.lastListening;
  }

  get counters(): Counters {
    let totals = add(this.retired, this.local.counters);
    for (const s of this.slots.values()) if (s.totals) totals = add(totals, s.totals);
    return { ...this.local.counters, ...totals };
  }

  /** Replays every journal, then starts the workers; resolves once all of them listen. */
  async start(bundle: unknown): Promise<void> {
    this.bundle = bundle;
    // The queue and the node's own journal (a single-process start's), then each worker's.
    await this.local.start(bundle);
    const journal = join(this.opts.dataDir, 'journal');
    for (const name of (await readdir(journal)).filter((n) => /^w\d+$/.test(n)).sort()) {
      await this.local.replayJournal(join(journal, name));
    }
    // Port 0 (tests) is chosen once, here: cluster shares a socket per
    // (address, port) asked for, and a replacement started after every worker
    // died (the shared socket closed) must come back on the same port.
    if (this.opts.port === 0) this.port = await freePort(this.opts.listen[0] ?? '127.0.0.1');
    const { exec, execArgv } = workerEntry();
    // The workers accept from the shared socket themselves (as Postfix's
    // smtpd processes do), instead of Node's default round robin, where the
    // primary accepts every connection and passes it to a worker over IPC: a
    // message and a file descriptor per session, which cost more than a whole
    // relay-denied transaction (bench/smtp: about 1.5× the sessions a second
    // at 10 and 50 at once). NODE_CLUSTER_SCHED_POLICY=rr brings that back.
    if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined)
      cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec, execArgv, args: [], serialization: 'advanced' });
    await Promise.all(
      Array.from({ length: Math.max(1, this.opts.workers) }, (_, i) => this.fork(i + 1)),
    );
    this.lastListening = this.listening;
  }

  /** Starts a worker in `slot`; resolves once it listens, rejects if it fails to. */
  private fork(slot: number): Promise<void> {
    const worker = cluster.fork();
    const port: Port = {
      send: (m) => worker.send(m as never),
      on: (e, fn) => worker.on(e, fn),
      off: (e, fn) => worker.off(e, fn),
    };
    const channel = new Channel<PrimaryToWorker, WorkerToPrimary>(port);
    const s: Slot = {
      slot,
      worker,
      channel,
      forkedAt: Date.now(),
      listening: [],
      ready: Promise.resolve(),
    };
    this.slots.set(slot, s);
    // The node's one Anvil, seen through this worker (released when it dies).
    const anvil = forWorker(this.local.anvil);
    const call = served(new Map([...this.shared, ['anvil', anvil]]));
    channel.handle('init', () => ({
      slot,
      settings: this.workerSettings(),
      bundle: this.bundle,
    }));
    channel.handle('call', call);
    channel.on('totals', (t) => {
      s.totals = t;
    });
    const started = new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      channel.on('failed', ({ error }) => {
        failure = error;
      });
      channel.on('ready', ({ version, listening }) => {
        s.version = version;
        s.listening = listening;
        this.lastListening = listening;
        this.backoff.delete(slot);
        this.logger.info({ event: 'worker-ready', worker: slot, pid: worker.process.pid, version });
        resolve();
      });
      worker.once('exit', (code, signal) => {
        channel.close();
        void anvil.release();
        if (this.slots.get(slot) === s) this.slots.delete(slot);
        if (s.totals) this.retired = add(this.retired, s.totals);
        reject(new Error(failure ?? `worker ${slot} exited (${signal ?? code}) before listening`));
        if (this.stopping) return;
        this.logger.warn({ event: 'worker-exited', worker: slot, code, signal: signal ?? null });
        this.replace(slot, s);
      });
    });
    s.ready = started.catch(() => undefined);
    return started;
  }

  /** The workers that listen (waiting for those still starting); a worker that exits meanwhile is left out. */
  private async readySlots(): Promise<Slot[]> {
    const all = [...this.slots.values()];
    await Promise.all(all.map((s) => s.ready));
    return all.filter((s) => s.version !== undefined && !s.worker.isDead());
  }

  /** A worker died: another takes its slot at once (later, if they keep dying at start). */
  private replace(slot: number, dead: Slot): void {
    const quick = Date.now() - dead.forkedAt < 2000;
    const wait = quick ? Math.min(5000, (this.backoff.get(slot) ?? 50) * 2) : 0;
    this.backoff.set(slot, quick ? wait : 50);
    setTimeout(() => {
      if (this.stopping) return;
      // The dead worker's journal segment first, here, where the queue runner
      // knows which of its relayed messages are delivered already: the
      // replacement would queue those again (their records outlive them by
      // up to a checkpoint). Should this fail, the replacement replays it.
      const replacing: Promise<void> = this.local
        .replayJournal(join(this.opts.dataDir, 'journal', `w${slot}`))
        .catch((err: unknown) =>
          this.logger.error({ event: 'journal-replay-failed', worker: slot, error: String(err) }),
        )
        .then(() => {
          if (this.stopping) return;
          return this.fork(slot);
        })
        .catch((err: unknown) =>
          this.logger.error({ event: 'worker-start-failed', worker: slot, error: String(err) }),
        )
        .finally(() => this.replacing.delete(replacing));
      this.replacing.add(replacing);
    }, wait).unref();
  }

  private workerSettings() {
    const {
      logger: _l,
      queue: _q,
      workers,
      selfAddresses: _s,
      maxClients,
      maxBytesInFlight,
      ...rest
    } = this.opts;
    const n = Math.max(1, workers);
    // Node-wide limits are shared out between the workers.
    return {
      ...rest,
      ...(this.port === undefined ? {} : { port: this.port }),
      maxClients: Math.max(1, Math.ceil((maxClients ?? 500) / n)),
      maxBytesInFlight: Math.max(1, Math.ceil((maxBytesInFlight ?? 256 * 1024 * 1024) / n)),
    };
  }

  /**
   * Validates the bundle (throws, keeping the running version, when it
   * cannot run), then has every worker load it; resolves once all have.
   */
  async load(bundle: unknown): Promise<void> {
    this.local.load(bundle);
    this.bundle = bundle;
    const results = await Promise.allSettled(
      (await this.readySlots()).map(async (s) => {
        s.version = await s.channel.request('load', bundle);
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw new Error(`a worker did not load the bundle: ${String(failed.reason)}`);
  }

  setDirectory(entries: unknown): void {
    this.local.setDirectory(entries);
    if (this.bundle && typeof this.bundle === 'object')
      this.bundle = { ...(this.bundle as object), directory: entries };
    for (const s of this.slots.values())
      void s.ready.then(() => s.channel.notify('directory', entries));
  }

  /** Has every worker send the decision records it counted so far (before the console reads them). */
  async flushTraffic(): Promise<void> {
    await Promise.all(
      (await this.readySlots()).map((s) =>
        s.channel.request('flushTraffic', null).catch(() => undefined),
      ),
    );
  }

  /**
   * Resolves once every worker has written the copies of the messages it
   * accepted so far (tests, benchmarks); the counters are then current.
   */
  async settled(): Promise<void> {
    await Promise.all(
      (await this.readySlots()).map(async (s) => {
        try {
          s.totals = await s.channel.request('settled', null);
        } catch (err) {
          throw new Error(`worker ${s.slot} (pid ${s.worker.process.pid}): ${String(err)}`);
        }
      }),
    );
    await this.local.settled();
  }

  /** Stops the workers (each drains its sessions), then the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    // A replay of a dead worker's journal under way ends first (no worker is forked after it).
    await Promise.allSettled([...this.replacing]);
    await Promise.all(
      [...this.slots.values()].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.worker.isDead()) return resolve();
            s.worker.once('exit', () => resolve());
            s.worker.process.kill('SIGTERM');
          }),
      ),
    );
    await this.local.stop();
  }
}

/** A port free on `host` now (the kernel's choice for port 0). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
