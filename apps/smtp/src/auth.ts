/**
 * SMTP AUTH (RFC 4954) against the directory's password hashes: the check
 * itself (@ims/passwords, the console's own format), and a cap on concurrent
 * scrypt work. Who may try, how often and how many at once is the Anvil's
 * answer (limits/anvil.ts): past its limits AUTH answers 454 4.7.0 without
 * checking the password. The hook that calls this is hooks/on-auth.ts.
 */

import { DUMMY_HASH, verifyPassword } from '@ims/passwords';
import type { Anvil } from './limits/anvil';
import type { NodeState } from './node-state';

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** scrypt checks at once: libuv's four threads also do every fsync. */
const MAX_CONCURRENT_CHECKS = 2;

export type AuthResult =
  | { outcome: 'success'; user: string }
  | { outcome: 'failure' }
  /** Not checked: the Anvil refused (too many failures, or too many AUTH at once). */
  | { outcome: 'throttled'; reason: 'client' | 'user' | 'concurrency' };

export class AuthChecker {
  /** scrypt checks running now: at most two, so the thread pool stays free for disk writes. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly state: NodeState,
    private readonly anvil: Anvil,
  ) {}

  /**
   * Whether `username` and `password` sign in (as the mailbox, lower case),
   * unless the Anvil refuses the attempt. A client that failed before waits
   * first; unknown users cost the same scrypt work as known ones.
   */
  async authenticate(username: string, password: string, client: string): Promise<AuthResult> {
    const user = username.toLowerCase();
    const verdict = await this.anvil.authAllowed(client, user);
    if (!verdict.allowed) return { outcome: 'throttled', reason: verdict.reason };
    let outcome: 'success' | 'failure' | 'error' = 'error';
    try {
      if (verdict.delayMs > 0) await sleep(verdict.delayMs);
      const hash = this.state.directory.get(user);
      // Unknown users cost the same scrypt work, so timing does not tell who exists.
      const ok =
        (await this.limit(() => verifyPassword(password, hash ?? DUMMY_HASH))) &&
        hash !== undefined;
      outcome = ok ? 'success' : 'failure';
    } finally {
      await this.anvil.authDone(client, user, outcome);
    }
    if (outcome === 'success') return { outcome, user };
    this.state.totals.authFailures++;
    return { outcome: 'failure' };
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
