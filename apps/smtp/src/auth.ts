/**
 * SMTP AUTH (RFC 4954) against the directory's password hashes: the check
 * itself (@ims/passwords, the console's own format), its throttling per
 * client address, and a cap on concurrent scrypt work. The hook that calls
 * it is hooks/on-auth.ts.
 */

import { DUMMY_HASH, verifyPassword } from '@ims/passwords';
import type { NodeState } from './node-state';

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** Failed attempts are remembered this long per client address. */
const FAILURE_MEMORY_MS = 15 * 60_000;
/** Client addresses remembered at most; the oldest are forgotten first. */
const MAX_REMEMBERED = 10_000;
/** scrypt checks at once: libuv's four threads also do every fsync. */
const MAX_CONCURRENT_CHECKS = 2;

export class AuthChecker {
  private readonly failures = new Map<string, { failures: number; at: number }>();
  /** scrypt checks running now: at most two, so the thread pool stays free for disk writes. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly state: NodeState) {}

  /**
   * The mailbox (lower case) that `username` and `password` sign in as, or
   * undefined. A client that failed before waits first; unknown users cost
   * the same scrypt work as known ones.
   */
  async authenticate(
    username: string,
    password: string,
    client: string,
  ): Promise<string | undefined> {
    // An address that failed before waits first (up to 5 s), before any
    // hashing: a flood of guesses costs the guesser time, not us CPU.
    const previous = this.recentFailures(client);
    if (previous > 0) await sleep(Math.min(5000, 250 * 2 ** Math.min(previous - 1, 5)));
    const user = username.toLowerCase();
    const hash = this.state.directory.get(user);
    // Unknown users cost the same scrypt work, so timing does not tell who exists.
    const ok =
      (await this.limit(() => verifyPassword(password, hash ?? DUMMY_HASH))) && hash !== undefined;
    if (ok) {
      this.failures.delete(client);
      return user;
    }
    this.state.totals.authFailures++;
    // Most recently failed last; the oldest entries go first when full.
    this.failures.delete(client);
    this.failures.set(client, { failures: previous + 1, at: Date.now() });
    if (this.failures.size > MAX_REMEMBERED) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    return undefined;
  }

  /** Failed AUTH attempts from an address in the last 15 minutes. */
  private recentFailures(client: string): number {
    const entry = this.failures.get(client);
    if (!entry) return 0;
    if (Date.now() - entry.at > FAILURE_MEMORY_MS) {
      this.failures.delete(client);
      return 0;
    }
    return entry.failures;
  }

  /** Runs at most two scrypt checks at once. */
  private async limit<T>(run: () => Promise<T>): Promise<T> {
    while (this.running >= MAX_CONCURRENT_CHECKS)
      await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await run();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
