/**
 * A node's link to the console (docs/design.md §4), the same for every engine
 * (apps/smtp, apps/postfix-node): fetch the bundle and cache it on the node's
 * own disk, follow the event stream (restart, directory, request, heartbeat)
 * with backoff, report status. Restart signals only set a flag; one apply runs
 * at a time and a burst of signals coalesces into one (Postfix's master does
 * the same). When the console is unreachable the node keeps serving its last
 * applied configuration and re-attaches with backoff.
 *
 * What differs between engines is the engine's (Engine): how a bundle is
 * checked and applied, its directory, the requests it answers, what its
 * status carries; and a few choices of the link's own (LinkOptions).
 */

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ApiClient,
  createApiClient,
  type NodeBundle,
  type NodeStatusBody,
} from '@ims/api-client';
import type { NodeAnswerBody, NodeEngine } from '@ims/api-contract';

/** A bundle as the console serves it (and as the node caches it). */
export type Bundle = NodeBundle;

/** What the link drives: one node, whatever its engine. */
export interface Engine {
  readonly runningVersion: number | undefined;
  readonly listening: string[];
  readonly startedAt: Date;
  /** What the status report carries besides the link's own fields. */
  status(): { counters: NodeStatusBody['counters']; engine: NodeEngine };
  /**
   * Checks, without applying it, that `bundle` can run; throws why not. An
   * engine with a check has a bundle cached once checked, before it is
   * applied (and the first bundle too, in initialBundle()); one without has
   * it cached once applied.
   */
  check?(bundle: Bundle): void;
  /** Makes `bundle` the running version; throws (keeping the running one) when it cannot. */
  apply(bundle: Bundle): Promise<void> | void;
  /** A restart onto the version already running (its directory may be newer). */
  reapply?(bundle: Bundle): void;
  /** A directory change (`directory` event): `bundle` is the running version's, fetched again. */
  setDirectory(bundle: Bundle): Promise<void> | void;
  /** Answers one request the console sent on the event stream; never throws. */
  request(method: unknown, params: unknown): Promise<NodeAnswerBody>;
}

export interface LinkOptions {
  consoleUrl: string;
  token: string;
  /** The fetch to reach the console with (a CA of its own); default the global one. */
  fetch?: typeof fetch | undefined;
  /** The node's own directory: the cached bundle is `bundle.json` there. */
  dataDir: string;
  log?: (entry: Record<string, unknown>) => void;
  /** Longest wait between re-attach attempts (default 15 s). */
  maxBackoffMs?: number;
  /** How often to report status while attached (default 10 s). */
  statusIntervalMs?: number;
  /** An event stream silent this long (no heartbeat) is dropped and re-opened (default 20 s). */
  silenceMs?: number;
  /**
   * A restart onto a new version reports `restarting` first and logs
   * `restarted` once applied (an engine whose apply takes a while, and whose
   * apply does not log it itself).
   */
  announceRestarts?: boolean;
  /** After a failed restart, a restart onto the running version applies it again. */
  reapplyAfterError?: boolean;
}

/** Requests to the console give up after this long (the event stream has no limit). */
const REQUEST_TIMEOUT_MS = 15_000;
/** The longest `lastError` a status report may carry (api-contract's NodeStatusBody). */
const MAX_ERROR_LENGTH = 2000;

export class ConsoleLink {
  private stopped = false;
  private reloading: Promise<void> | undefined;
  private pending: number | undefined;
  private lastError: string | undefined;
  private readonly abort = new AbortController();
  private readonly api: ApiClient;

  constructor(
    private readonly engine: Engine,
    private readonly opts: LinkOptions,
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

  fetchBundle(version?: number): Promise<Bundle> {
    return this.api.node.bundle(version);
  }

  /** The bundle to start with: the one the nodes were told to run, else the cached one. */
  async initialBundle(): Promise<Bundle> {
    try {
      let bundle = await this.fetchBundle();
      if (bundle.targetVersion !== undefined && bundle.targetVersion !== bundle.version) {
        bundle = await this.fetchBundle(bundle.targetVersion);
      }
      if (this.engine.check) {
        // Only a bundle that can run replaces the cached one.
        this.engine.check(bundle);
        await this.cache(bundle);
      }
      return bundle;
    } catch (err) {
      const cached = await readFile(this.cacheFile, 'utf8').catch(() => undefined);
      if (!cached)
        throw new Error(`The console is unreachable and no bundle is cached: ${String(err)}`);
      this.opts.log?.({ event: 'console-unreachable', using: 'cached bundle', error: String(err) });
      return JSON.parse(cached) as Bundle;
    }
  }

  /** Applies the first bundle; a failure is reported, not fatal (the node attaches in error). */
  async startWith(bundle: Bundle): Promise<void> {
    try {
      await this.engine.apply(bundle);
      await this.cache(bundle);
      this.lastError = undefined;
    } catch (err) {
      this.fail(err);
    }
  }

  private async cache(bundle: Bundle): Promise<void> {
    await mkdir(this.opts.dataDir, { recursive: true, mode: 0o700 });
    const tmp = `${this.cacheFile}.tmp`;
    await writeFile(tmp, JSON.stringify(bundle), { mode: 0o600 });
    await rename(tmp, this.cacheFile);
  }

  private fail(err: unknown): void {
    this.lastError = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_LENGTH);
    this.opts.log?.({ event: 'restart-failed', error: this.lastError });
  }

  async report(state: 'running' | 'restarting' | 'error'): Promise<void> {
    const { counters, engine } = this.engine.status();
    await this.api.node.status({
      runningVersion: this.engine.runningVersion ?? null,
      state,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      listen: this.engine.listening,
      startedAt: this.engine.startedAt.toISOString(),
      counters,
      engine,
    });
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
        if (
          bundle.version !== this.engine.runningVersion ||
          (this.opts.reapplyAfterError === true && this.lastError !== undefined)
        ) {
          await this.restart(bundle);
        } else {
          this.engine.reapply?.(bundle);
          this.opts.log?.({
            event: 'reloaded',
            version: this.engine.runningVersion,
            changed: false,
          });
        }
        this.lastError = undefined;
        await this.report('running').catch(() => undefined);
      } catch (err) {
        // Keep the running generation; say why.
        this.fail(err);
        await this.report('error').catch(() => undefined);
      }
    }
  }

  /**
   * A new version, applied only once it can run, and on the node's own disk
   * (what a restart without the console comes back on) once known to run: a
   * node that cannot keep it keeps the version it runs and reports why.
   */
  private async restart(bundle: Bundle): Promise<void> {
    if (this.opts.announceRestarts) await this.report('restarting').catch(() => undefined);
    if (this.engine.check) {
      this.engine.check(bundle);
      await this.cache(bundle);
      // Awaited: a node of several workers resolves once every one runs it.
      await this.engine.apply(bundle);
    } else {
      await this.engine.apply(bundle);
      await this.cache(bundle);
    }
    if (this.opts.announceRestarts)
      this.opts.log?.({ event: 'restarted', version: bundle.version });
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
      await this.api.events.node(
        {
          onActivity: () => {
            heardAt = Date.now();
          },
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
        { signal: local.signal },
      );
    } finally {
      clearInterval(tick);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }

  /** Runs a request the console sent on the event stream and sends the answer back. */
  private async answer(data: unknown): Promise<void> {
    const request = (data ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
    if (typeof request.id !== 'string') return;
    const body = await this.engine.request(request.method, request.params);
    try {
      await this.api.node.answer(request.id, body);
    } catch (err) {
      // The console gave up on it (timed out) or is gone: it answered the caller already.
      this.opts.log?.({ event: 'request-answer-failed', id: request.id, error: String(err) });
    }
  }

  private async refreshDirectory(): Promise<void> {
    try {
      const bundle = await this.fetchBundle(this.engine.runningVersion);
      await this.engine.setDirectory(bundle);
    } catch (err) {
      this.opts.log?.({ event: 'directory-refresh-failed', error: String(err) });
    }
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }
}
