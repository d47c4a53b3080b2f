/**
 * Attaching the Postfix agent to the console, exactly as an SMTP node
 * attaches (apps/smtp/src/attach.ts, docs/design.md §4): fetch the bundle and
 * cache it on the node's own disk, follow the event stream (restart,
 * directory, request, heartbeat), report status with `engine: "postfix"`.
 * Restart signals only set a flag; one apply runs at a time and a burst of
 * signals coalesces into one. runningVersion is reported only once Postfix
 * took the version; a failure keeps the previous one live and reports why.
 */

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ApiClient, createApiClient } from '@ims/api-client';
import type { NodeAnswerBody } from '@ims/api-contract';
import type { RoutingConfig } from '@ims/routing-core';
import type { Mailboxes } from './instance';

export interface Bundle {
  version: number;
  config: RoutingConfig;
  directory: Mailboxes;
  targetVersion?: number;
}

/** What the link drives: the agent (instance + AUTH directory). */
export interface Engine {
  readonly runningVersion: number | undefined;
  readonly listening: string[];
  readonly startedAt: Date;
  /** Makes `bundle` the running version (throws, keeping the previous one, when Postfix does not take it). */
  apply(bundle: Bundle): Promise<void>;
  /** A directory change for the running version. */
  setDirectory(bundle: Bundle): Promise<void>;
  /** The queue operations Postfix can answer. */
  request(method: unknown, params: unknown): Promise<NodeAnswerBody>;
}

export interface LinkOptions {
  consoleUrl: string;
  token: string;
  dataDir: string;
  log?: (entry: Record<string, unknown>) => void;
  maxBackoffMs?: number;
  statusIntervalMs?: number;
  silenceMs?: number;
}

const REQUEST_TIMEOUT_MS = 15_000;

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
    });
  }

  private get cacheFile() {
    return join(this.opts.dataDir, 'bundle.json');
  }

  private fetchBundle(version?: number): Promise<Bundle & { targetVersion?: number }> {
    return this.api.node.bundle(version);
  }

  /** The bundle to start with: the one the nodes were told to run, else the cached one. */
  async initialBundle(): Promise<Bundle> {
    try {
      let bundle = await this.fetchBundle();
      if (bundle.targetVersion !== undefined && bundle.targetVersion !== bundle.version) {
        bundle = await this.fetchBundle(bundle.targetVersion);
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
    this.lastError = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
    this.opts.log?.({ event: 'restart-failed', error: this.lastError });
  }

  async report(state: 'running' | 'restarting' | 'error'): Promise<void> {
    await this.api.node.status({
      runningVersion: this.engine.runningVersion ?? null,
      state,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      listen: this.engine.listening,
      startedAt: this.engine.startedAt.toISOString(),
      counters: {},
      engine: 'postfix',
    });
  }

  /** Asks for a restart onto `version`; coalesces with one already running. */
  requestRestart(version?: number): Promise<void> {
    this.pending = version ?? this.pending ?? 0;
    if (!this.reloading) {
      this.reloading = this.reloadLoop().finally(() => {
        this.reloading = undefined;
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
        if (
          wanted === undefined &&
          bundle.targetVersion !== undefined &&
          bundle.targetVersion !== bundle.version
        ) {
          bundle = await this.fetchBundle(bundle.targetVersion);
        }
        if (bundle.version !== this.engine.runningVersion || this.lastError) {
          await this.report('restarting').catch(() => undefined);
          await this.engine.apply(bundle);
          await this.cache(bundle);
          this.opts.log?.({ event: 'restarted', version: bundle.version });
        } else {
          this.opts.log?.({ event: 'reloaded', version: bundle.version, changed: false });
        }
        this.lastError = undefined;
        await this.report('running').catch(() => undefined);
      } catch (err) {
        this.fail(err);
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

  private async answer(data: unknown): Promise<void> {
    const request = (data ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
    if (typeof request.id !== 'string') return;
    const body = await this.engine.request(request.method, request.params);
    try {
      await this.api.node.answer(request.id, body);
    } catch (err) {
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
