/**
 * Sign-in throttling (OWASP Authentication Cheat Sheet, "Account lockout" and
 * "Login throttling"): failures are counted per client address and per
 * account, and past a few free ones each further failure makes the next
 * attempt wait longer (1 minute, 2, 4, 8, then 15 minutes each).
 *
 * - Per address: one client cannot guess fast, whatever accounts it tries.
 * - Per account: guesses spread over many addresses add up on the account.
 * - The real administrator cannot be locked out by someone else: an account
 *   lock does not apply to an address with no recent failures, so a correct
 *   password from a clean address still signs in. Such an address gets one
 *   guess at a locked account; after that it has a failure and waits too.
 *
 * Attempts are counted when they start (a burst of parallel attempts cannot
 * all pass while their password checks run) and a success takes its own
 * attempt back. IPv6 clients count per /64, the block one host usually holds.
 */

import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Failed sign-ins per client address before each further one adds a wait. */
export const ADDRESS_FREE_FAILURES = 5;
/** Failed sign-ins per account (from anywhere) before each further one adds a wait. */
export const ACCOUNT_FREE_FAILURES = 10;
/** The first wait; each further failure doubles it. */
export const FIRST_DELAY_MS = 60 * 1000;
/** The longest wait. */
export const MAX_DELAY_MS = 15 * 60 * 1000;
/** Failures are forgotten this long after the last one. */
export const FORGET_AFTER_MS = 60 * 60 * 1000;
/** Entries kept per map at most (the oldest go first beyond that). */
const MAX_ENTRIES = 100_000;

interface Counter {
  failures: number;
  /** No attempt before this time (ms). */
  lockedUntil: number;
  lastFailure: number;
}

export type Refusal = { retryAfterSeconds: number; reason: 'address' | 'account' };

/** An attempt under way: finish it with `succeeded` or `failed`. */
export interface Attempt {
  readonly address: string;
  readonly account: string | undefined;
  readonly addressLockBefore: number;
  readonly addressLockSet: number;
}

/** The key a client address counts under: IPv4 as is, IPv6 by its /64. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function delayFor(failures: number, free: number): number {
  if (failures < free) return 0;
  return Math.min(FIRST_DELAY_MS * 2 ** Math.min(failures - free, 30), MAX_DELAY_MS);
}

export class SignInThrottle {
  private readonly addresses = new Map<string, Counter>();
  private readonly accounts = new Map<string, Counter>();

  constructor(private readonly now: () => number = Date.now) {}

  private live(map: Map<string, Counter>, key: string, now: number): Counter | undefined {
    const c = map.get(key);
    if (c && c.lastFailure + FORGET_AFTER_MS <= now && c.lockedUntil <= now) {
      map.delete(key);
      return undefined;
    }
    return c;
  }

  /**
   * Starts an attempt from `ip` on `account` (undefined for a user that does
   * not exist: it counts on the address only), or says how long to wait.
   */
  begin(ip: string, account: string | undefined): Attempt | Refusal {
    const now = this.now();
    const address = addressKey(ip);
    const a = this.live(this.addresses, address, now);
    if (a && a.lockedUntil > now) return refusal(a.lockedUntil - now, 'address');
    const u = account === undefined ? undefined : this.live(this.accounts, account, now);
    // A clean address passes an account lock (the administrator, elsewhere).
    if (u && u.lockedUntil > now && a && a.failures > 0) {
      return refusal(u.lockedUntil - now, 'account');
    }
    const before = a?.lockedUntil ?? 0;
    const set = this.fail(this.addresses, address, ADDRESS_FREE_FAILURES, now);
    if (account !== undefined) this.fail(this.accounts, account, ACCOUNT_FREE_FAILURES, now);
    return { address, account, addressLockBefore: before, addressLockSet: set };
  }

  /** The password was right: the attempt is taken back and the account's failures are cleared. */
  succeeded(attempt: Attempt): void {
    const a = this.addresses.get(attempt.address);
    if (a) {
      a.failures = Math.max(0, a.failures - 1);
      if (a.lockedUntil === attempt.addressLockSet) a.lockedUntil = attempt.addressLockBefore;
      if (a.failures === 0 && a.lockedUntil <= this.now()) this.addresses.delete(attempt.address);
    }
    if (attempt.account !== undefined) this.accounts.delete(attempt.account);
  }

  /** Counters currently held (tests, metrics). */
  get size(): { addresses: number; accounts: number } {
    return { addresses: this.addresses.size, accounts: this.accounts.size };
  }

  private fail(map: Map<string, Counter>, key: string, free: number, now: number): number {
    const c = map.get(key) ?? { failures: 0, lockedUntil: 0, lastFailure: now };
    c.failures++;
    c.lastFailure = now;
    const delay = delayFor(c.failures, free);
    if (delay > 0) c.lockedUntil = Math.max(c.lockedUntil, now + delay);
    // Most recently failed last: the oldest entries are the ones to drop.
    map.delete(key);
    map.set(key, c);
    if (map.size > MAX_ENTRIES) this.prune(map, now);
    return c.lockedUntil;
  }

  private prune(map: Map<string, Counter>, now: number): void {
    for (const key of [...map.keys()]) this.live(map, key, now);
    for (const key of map.keys()) {
      if (map.size <= MAX_ENTRIES) break;
      map.delete(key);
    }
  }
}

function refusal(ms: number, reason: Refusal['reason']): Refusal {
  return { retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)), reason };
}

export function isRefusal(x: Attempt | Refusal): x is Refusal {
  return 'retryAfterSeconds' in x;
}

declare module 'fastify' {
  interface FastifyInstance {
    signInThrottle: SignInThrottle;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    app.decorate('signInThrottle', new SignInThrottle());
  },
  { name: 'sign-in-throttle' },
);
