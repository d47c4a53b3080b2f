/**
 * Attaching to the console (docs/design.md §4): fetch the bundle, cache it on the
 * node's own disk, follow the event stream (restart, directory, heartbeat),
 * report status. Restart signals only set a flag; one reload runs at a time
 * and a burst of signals coalesces into one (Postfix's master does the same).
 * When the console is unreachable the node keeps serving its last applied
 * configuration and re-attaches with backoff.
 */

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ApiClient, createApiClient } from '@ims/api-client';
import type { TrafficStore } from './decision-records';
import { type Bundle, loadDirectory, loadGeneration } from './generation';
import type { OutboundQueue } from './queue';
import { answerRequest } from './requests';
import type { Counters } from './smtp-node';

/** What the console link drives: an SmtpNode, or the primary of a node's SMTP workers (cluster/). */
export interface AttachedNode {
  readonly runningVersion: number | undefined;
  readonly listening: string[];
  readonly startedAt: Date;
  readonly counters: Counters;
  readonly queue: OutboundQueue;
  /** The node's decision records (one store per node, whatever its workers). */
  readonly traffic: TrafficStore;
  /** Brings the store up to date first (a node whose workers forward their records in batches). */
  flushTraffic?(): Promise<void>;
  /** Validates and loads a bundle for new sessions; throws (keeping the running one) when it cannot run. */
  load(bundle: unknown): unknown;
  setDirectory(entries: unknown): void;
}

export interface AttachOptions {
  consoleUrl: string;
  token: string;
  /** The fetch to reach the console with (console-transport.ts: a CA of its own); default the global one. */
  fetch?: typeof fetch | undefined;
  dataDir: string;
  log?: (entry: Record<string, unknown>) => void;
  /** Longest wait between re-attach attempts. */
  maxBackoffMs?: number;
  /** How often to report status (counters) while attached (default 10 s). */
  statusIntervalMs?: number;
  /** An event stream silent this long (no heartbeat) is dropped and re-opened (default 20 s). */
  silenceMs?: number;
}

/** Requests to the console give up after this long (the event stream has no limit). */
const REQUEST_TIMEOUT_MS = 15_000;

export class ConsoleLink {
  private stopped = false;
  private reloading: Promise<void> | undefined;
  private pending: number | undefined;
  private lastError: string | undefined;
  private abort = new AbortController();
  private readonly api: ApiClient;

  constructor(
    private readonly node: AttachedNode,
    private readonly opts: AttachOptions,
  ) {
    this.api = createApiClient({
      baseUrl: opts.consoleUrl,
      token: opts.token,
      timeoutMs: REQUEST_TIMEOUT_MS,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  private get cacheFile() {
    return join(this.opts.dataDir, 'bundle.json');
  }

  async fetchBundle(version?: number): Promise<Bundle & { targetVersion?: number }> {
    return this.api.node.bundle(version);
  }

  /** The bundle to start with: the one the nodes were told to run, else the cached one. */
  async initialBundle(): Promise<Bundle> {
    try {
      let bundle = await this.fetchBundle();
      if (bundle.targetVersion !== undefined && bundle.targetVersion !== bundle.version) {
        bundle = await this.fetchBundle(bundle.targetVersion);
      }
      // Only a bundle that can run replaces the cached one.
      loadGeneration(bundle);
      await this.cache(bundle);
      return bundle;
    } catch (err) {
      const cached = await readFile(this.cacheFile, 'utf8').catch(() => undefined);
      if (!cached)
        throw new Error(`The console is unreachable and no bundle is cached: ${String(err)}`);
      this.opts.log?.({ event: 'console-unreachable', using: 'cached bundle', error: String(err) });
      return JSON.parse(cached) as Bundle;
    }
  }

  private async cache(bundle: Bundle): Promise<void> {
    await mkdir(this.opts.dataDir, { recursive: true, mode: 0o700 });
    const tmp = `${this.cacheFile}.tmp`;
    await writeFile(tmp, JSON.stringify(bundle), { mode: 0o600 });
    await rename(tmp, this.cacheFile);
  }

  async report(state: 'running' | 'restarting' | 'error'): Promise<void> {
    const body = {
      runningVersion: this.node.runningVersion ?? null,
      state,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      listen: this.node.listening,
      startedAt: this.node.startedAt.toISOString(),
      counters: { ...this.node.counters },
      engine: 'ims' as const,
    };
    await this.api.node.status(body);
  }

  /** Asks for a restart onto `version`; coalesces with one already running. */
  requestRestart(version?: number): Promise<void> {
    this.pending = version ?? this.pending ?? 0;
    if (!this.reloading) {
      this.reloading = this.reloadLoop().finally(() => {
        this.reloading = undefined;
        // A signal that came in as the loop ended is not lost.
        if (this.pending !== undefined) void this.requestRestart();
      });
    }
    return this.reloading;
  }

  private async reloadLoop(): Promise<void> {
    while (this.pending !== undefined) {
      const wanted = this.pending === 0 ? undefined : this.pending;
      this.pending = undefined;
      try {
        let bundle = await this.fetchBundle(wanted);
        // A plain reload (SIGHUP) runs the version the nodes were told to run.
        if (
          wanted === undefined &&
          bundle.targetVersion !== undefined &&
          bundle.targetVersion !== bundle.version
        ) {
          bundle = await this.fetchBundle(bundle.targetVersion);
        }
        if (bundle.version !== this.node.runningVersion) {
          // A new generation, applied only once it can run and is on the
          // node's own disk (what a restart without the console comes back
          // on): a node that cannot keep it keeps the generation it runs and
          // reports why. The node logs `restarted`.
          loadGeneration(bundle);
          loadDirectory(bundle);
          await this.cache(bundle);
          // Awaited: the primary of several workers resolves once every one runs it.
          await this.node.load(bundle);
        } else {
          this.node.setDirectory(bundle.directory);
          this.opts.log?.({ event: 'reloaded', version: this.node.runningVersion, changed: false });
        }
        this.lastError = undefined;
        await this.report('running').catch(() => undefined);
      } catch (err) {
        // Keep the running generation; say why.
        this.lastError = err instanceof Error ? err.message : String(err);
        this.opts.log?.({ event: 'restart-failed', error: this.lastError });
        await this.report('error').catch(() => undefined);
      }
    }
  }

  /** Follows the console's event stream until stop(), re-attaching with backoff. */
  async run(): Promise<void> {
    let backoff = 500;
    while (!this.stopped) {
      try {
        await this.report(this.lastError ? 'error' : 'running');
        await this.follow();
        backoff = 500;
      } catch (err) {
        if (this.stopped) break;
        this.opts.log?.({ event: 'console-unreachable', error: String(err), retryInMs: backoff });
      }
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 15_000);
    }
  }

  private async follow(): Promise<void> {
    // This stream's own abort: stop() ends it, and so does a silent console
    // (a half-open connection would otherwise hang here for ever).
    const local = new AbortController();
    const onStop = () => local.abort();
    this.abort.signal.addEventListener('abort', onStop);
    let heardAt = Date.now();
    const silenceMs = this.opts.silenceMs ?? 20_000;
    const tick = setInterval(
      () => {
        if (Date.now() - heardAt > silenceMs) local.abort(new Error('no heartbeat'));
        else void this.report(this.lastError ? 'error' : 'running').catch(() => undefined);
      },
      Math.min(this.opts.statusIntervalMs ?? 10_000, silenceMs),
    );
    tick.unref();
    try {
      await this.read(local.signal, () => {
        heardAt = Date.now();
      });
    } finally {
      clearInterval(tick);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }

  private async read(signal: AbortSignal, heard: () => void): Promise<void> {
    await this.api.events.node(
      {
        onActivity: heard,
        onEvent: ({ type, data }) => {
          if (type === 'restart') {
            const version = (data as { version?: number } | undefined)?.version;
            void this.requestRestart(version);
          } else if (type === 'directory') {
            void this.refreshDirectory();
          } else if (type === 'request') {
            void this.answer(data);
          }
        },
      },
      { signal },
    );
  }

  /** Runs a request the console sent on the event stream and sends the answer back. */
  private async answer(data: unknown): Promise<void> {
    const request = (data ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
    if (typeof request.id !== 'string') return;
    if (request.method === 'traffic.records') await this.node.flushTraffic?.();
    const body = await answerRequest(
      this.node.queue,
      request.method,
      request.params,
      this.node.traffic,
    );
    try {
      await this.api.node.answer(request.id, body);
    } catch (err) {
      // The console gave up on it (timed out) or is gone: it answered the caller already.
      this.opts.log?.({ event: 'request-answer-failed', id: request.id, error: String(err) });
    }
  }

  private async refreshDirectory(): Promise<void> {
    try {
      const running = this.node.runningVersion;
      const bundle = await this.fetchBundle(running);
      this.node.setDirectory(bundle.directory);
    } catch (err) {
      this.opts.log?.({ event: 'directory-refresh-failed', error: String(err) });
    }
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }
}
