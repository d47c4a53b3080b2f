/**
 * Keeps one child process running, as Postfix's master keeps its daemons:
 * restarts it with exponential backoff when it exits on its own, reports a
 * crash loop, and stops it (SIGTERM, then SIGKILL) on request. Knows nothing
 * about SMTP: the launcher gives it the command.
 */

import { type ChildProcess, spawn } from 'node:child_process';

export interface SupervisorOptions {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** First restart delay; doubles on each quick exit (default 500 ms). */
  initialDelayMs?: number;
  /** Longest restart delay (default 30 s). */
  maxDelayMs?: number;
  /** A run this long counts as stable: the backoff starts over (default 30 s). */
  stableAfterMs?: number;
  /** This many exits within `crashLoopWindowMs` is a crash loop (default 5 in 60 s). */
  crashLoopExits?: number;
  crashLoopWindowMs?: number;
  /** How long a stop waits after SIGTERM before SIGKILL (default 10 s). */
  stopTimeoutMs?: number;
  /** Each start, with the child's pid. */
  onStart?: (pid: number) => void;
  /** Each exit that was not asked for, with what happens next. */
  onExit?: (exit: ChildExit) => void;
  /** Output of the child (default: passed through to this process). */
  stdio?: 'inherit' | 'pipe';
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Exits within the crash-loop window, this one included. */
  recentExits: number;
  /** The window those exits fell in, in seconds. */
  windowSeconds: number;
  crashLoop: boolean;
  /** When the next start is. */
  restartInMs: number;
  /** "exited with code 3" / "killed by SIGKILL". */
  reason: string;
}

export class Supervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private exits: number[] = [];
  private startedAt = 0;
  private readonly opts: Required<Omit<SupervisorOptions, 'onStart' | 'onExit' | 'stdio'>> &
    SupervisorOptions;

  constructor(opts: SupervisorOptions) {
    this.opts = {
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      stableAfterMs: 30_000,
      crashLoopExits: 5,
      crashLoopWindowMs: 60_000,
      stopTimeoutMs: 10_000,
      ...opts,
    };
    this.delayMs = this.opts.initialDelayMs;
  }

  /** The running child's pid. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The running child (for its output streams when stdio is 'pipe'). */
  get process(): ChildProcess | undefined {
    return this.child;
  }

  start(): void {
    if (this.stopping) return;
    this.timer = undefined;
    const child = spawn(this.opts.command, this.opts.args, {
      cwd: this.opts.cwd,
      env: this.opts.env,
      // An IPC channel only so the child learns when this process is gone
      // (even by SIGKILL): the node stops rather than run on unsupervised.
      stdio: ['ignore', this.opts.stdio ?? 'inherit', this.opts.stdio ?? 'inherit', 'ipc'],
    });
    this.child = child;
    this.startedAt = Date.now();
    child.once('error', () => {
      // A spawn failure (no such command) also ends in 'exit'/'close' handling below.
    });
    child.once('close', (code, signal) => this.exited(child, code, signal));
    if (child.pid !== undefined) this.opts.onStart?.(child.pid);
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.stopping) return;
    const now = Date.now();
    if (now - this.startedAt >= this.opts.stableAfterMs) this.delayMs = this.opts.initialDelayMs;
    this.exits = [...this.exits.filter((t) => now - t < this.opts.crashLoopWindowMs), now];
    const crashLoop = this.exits.length >= this.opts.crashLoopExits;
    const restartInMs = crashLoop ? this.opts.maxDelayMs : this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.opts.maxDelayMs);
    const first = this.exits[0] ?? now;
    this.opts.onExit?.({
      code,
      signal,
      recentExits: this.exits.length,
      windowSeconds: Math.max(1, Math.round((now - first) / 1000)),
      crashLoop,
      restartInMs,
      reason: signal ? `killed by ${signal}` : `exited with code ${code}`,
    });
    this.timer = setTimeout(() => this.start(), restartInMs);
  }

  /** Stops the child (SIGTERM, then SIGKILL after the stop timeout) and keeps it stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.opts.stopTimeoutMs);
      child.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
