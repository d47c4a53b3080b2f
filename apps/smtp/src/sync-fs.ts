/**
 * syncfs(2) for the journal's checkpoint: every dirty page of the filesystem
 * holding a directory, flushed at once. Node.js has no binding for it;
 * coreutils' `sync -f` makes the call.
 *
 * One small shell stays beside the node and runs `sync -f` for each
 * request, instead of the node starting `sync` itself each time: starting
 * a child copies the page tables of the process that starts it, and for a
 * node of a hundred megabytes or more that cost 20–25 ms of the event loop a
 * checkpoint (bench/smtp, 100 KB messages: 2–3% of a worker). Forking from
 * the shell costs the shell's size, not the node's. The shell reads one line
 * per request and answers `0` (synced) or `1` (failed), in order; it ends
 * with its stdin, so with the node, however the node ends.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Runs its arguments once per line read: the command, then the directory. */
const SCRIPT = 'while read -r _; do if "$@"; then echo 0; else echo 1; fi; done';
/** syncfs(2) of the filesystem holding the directory that follows. */
const SYNC_FS = ['sync', '-f', '--'] as const;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A running helper and the requests it has not answered yet, oldest first. */
interface Helper {
  process: ChildProcess;
  waiting: Waiter[];
}

export class FilesystemSync {
  private helper: Helper | undefined;

  /**
   * `path`: a directory on the filesystem to sync. `command` runs with
   * `path` after it (the tests give another).
   */
  constructor(
    private readonly path: string,
    private readonly command: readonly string[] = SYNC_FS,
  ) {}

  /** The helper process running now, if any (for the tests). */
  get helperPid(): number | undefined {
    return this.helper?.process.pid;
  }

  /** Resolves once the filesystem is synced; rejects when `sync -f` fails or cannot run. */
  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const current = this.helper?.process;
      // One that has exited and not yet closed its pipes is gone too.
      const alive = current && current.exitCode === null && current.signalCode === null;
      const helper = alive && this.helper ? this.helper : this.start();
      if (helper.waiting.length === 0) hold(helper.process, true);
      helper.waiting.push({ resolve, reject });
      helper.process.stdin?.write('\n');
    });
  }

  /** Ends the helper (it exits when its stdin closes). */
  close(): void {
    this.helper?.process.stdin?.end();
    this.helper = undefined;
  }

  private start(): Helper {
    const child = spawn('sh', ['-c', SCRIPT, 'sh', ...this.command, this.path], {
      stdio: ['pipe', 'pipe', 'ignore'],
      // Not the node's environment (its secrets among it): a PATH is all `sync` needs.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    const helper: Helper = { process: child, waiting: [] };
    this.helper = helper;
    hold(child, false);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const waiter = helper.waiting.shift();
      if (helper.waiting.length === 0) hold(child, false);
      if (line === '0') waiter?.resolve();
      else waiter?.reject(new Error(`sync -f ${this.path} failed`));
    });
    // Only this helper's requests fail with it; a replacement has its own.
    const gone = (err: Error) => {
      if (this.helper === helper) this.helper = undefined;
      for (const waiter of helper.waiting.splice(0)) waiter.reject(err);
    };
    child.on('error', gone);
    child.stdin?.on('error', () => undefined);
    // 'close', not 'exit': every answer on stdout has been read by then.
    child.on('close', (code, signal) =>
      gone(new Error(`the sync helper ended (${signal ?? `exit ${code}`})`)),
    );
    return helper;
  }
}

/**
 * An idle helper does not keep the node's process alive; one with a request
 * outstanding does (a last checkpoint at shutdown waits for its answer).
 */
function hold(helper: ChildProcess, on: boolean): void {
  for (const handle of [helper, helper.stdin, helper.stdout] as unknown as Array<{
    ref?: () => void;
    unref?: () => void;
  } | null>) {
    if (on) handle?.ref?.();
    else handle?.unref?.();
  }
}
