/**
 * Per-client counting, as Postfix's anvil(8) service does for smtpd: how
 * many sessions a client address holds now, how many it opened in the last
 * minute, and AUTH failures per client address and per username.
 *
 * Every method is asynchronous and takes and returns plain values only (no
 * callbacks into sessions, no sockets), so one Anvil can live in another
 * process (the primary of a cluster) and be asked over IPC, as Postfix's
 * smtpd asks its one anvil server. `InProcessAnvil` is the implementation
 * that counts in this process; the clock is an argument so tests can move it.
 */

/** The limits an Anvil enforces (all per client address unless said otherwise). */
export interface AnvilLimits {
  /** Sessions one client address may hold at once; 0 = no limit (smtpd_client_connection_count_limit, 50). */
  maxConnectionsPerClient: number;
  /** Sessions one client address may open per minute; 0 = no limit (smtpd_client_connection_rate_limit). */
  connectionRatePerMinute: number;
  /** Failed AUTH attempts (per address, and per username) before the cooling-off period. */
  authFailureLimit: number;
  /** How long AUTH is refused with 454 4.7.0 once the failure limit is reached; also how long failures are remembered. */
  authCoolOffMs: number;
  /** AUTH exchanges one client address may have in progress at once. */
  maxConcurrentAuthPerClient: number;
}

export const DEFAULT_ANVIL_LIMITS: Readonly<AnvilLimits> = Object.freeze({
  maxConnectionsPerClient: 50,
  connectionRatePerMinute: 600,
  authFailureLimit: 10,
  authCoolOffMs: 15 * 60_000,
  maxConcurrentAuthPerClient: 10,
});

export type ConnectVerdict =
  | { allowed: true }
  /** `count`: too many sessions now; `rate`: too many opened in the last minute. */
  | { allowed: false; reason: 'count' | 'rate' };

export type AuthVerdict =
  /** Check the password, after `delayMs` (earlier failures from this address cost time). */
  | { allowed: true; delayMs: number }
  /**
   * Do not check the password: answer 454 4.7.0. `client`: this address
   * failed too often; `user`: this username did, and this address is one
   * that failed before; `concurrency`: too many AUTH exchanges from this
   * address at once.
   */
  | { allowed: false; reason: 'client' | 'user' | 'concurrency' };

export type AuthOutcome = 'success' | 'failure' | 'error';

export interface Anvil {
  /** A session from `ip` starts: counted unless refused. Every allowed connect needs one disconnect. */
  connect(ip: string): Promise<ConnectVerdict>;
  /** A session that connect() allowed has ended. */
  disconnect(ip: string): Promise<void>;
  /** Whether an AUTH from `ip` as `user` may be checked; when allowed, it holds a slot until authDone(). */
  authAllowed(ip: string, user: string): Promise<AuthVerdict>;
  /** The AUTH that authAllowed() allowed has ended: its outcome is counted and its slot freed. */
  authDone(ip: string, user: string, outcome: AuthOutcome): Promise<void>;
}

/** Entries remembered at most per table; the least recently touched go first. */
const MAX_REMEMBERED = 10_000;
const MINUTE = 60_000;

interface Failures {
  count: number;
  /** When the last failure happened (ms). */
  at: number;
}

/** A Map that forgets its oldest entries past MAX_REMEMBERED (insertion order = last touched). */
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

export class InProcessAnvil implements Anvil {
  private readonly limits: AnvilLimits;
  /** Sessions open now, per address. Never trimmed: each entry is a live session. */
  private readonly open = new Map<string, number>();
  /** Connection times within the last minute, per address. */
  private readonly recent = new Map<string, number[]>();
  private readonly clientFailures = new Map<string, Failures>();
  private readonly userFailures = new Map<string, Failures>();
  private readonly authInProgress = new Map<string, number>();

  constructor(
    limits: Partial<AnvilLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_ANVIL_LIMITS, ...limits };
  }

  async connect(ip: string): Promise<ConnectVerdict> {
    const { maxConnectionsPerClient, connectionRatePerMinute } = this.limits;
    const open = this.open.get(ip) ?? 0;
    if (maxConnectionsPerClient > 0 && open >= maxConnectionsPerClient)
      return { allowed: false, reason: 'count' };
    if (connectionRatePerMinute > 0) {
      const t = this.now();
      const times = (this.recent.get(ip) ?? []).filter((at) => t - at < MINUTE);
      // A refused attempt counts too (as anvil counts every connect): a
      // client hammering the port stays refused until it slows down.
      times.push(t);
      touch(this.recent, ip, times);
      if (times.length > connectionRatePerMinute) return { allowed: false, reason: 'rate' };
    }
    this.open.set(ip, open + 1);
    return { allowed: true };
  }

  async disconnect(ip: string): Promise<void> {
    const open = (this.open.get(ip) ?? 0) - 1;
    if (open > 0) this.open.set(ip, open);
    else this.open.delete(ip);
  }

  async authAllowed(ip: string, user: string): Promise<AuthVerdict> {
    const { authFailureLimit, maxConcurrentAuthPerClient } = this.limits;
    const byClient = this.failures(this.clientFailures, ip);
    if (authFailureLimit > 0 && byClient >= authFailureLimit)
      return { allowed: false, reason: 'client' };
    // A username under attack is refused only to addresses that have failed
    // before: its owner, from an address that has not, still signs in.
    const byUser = this.failures(this.userFailures, user.toLowerCase());
    if (authFailureLimit > 0 && byUser >= authFailureLimit && byClient > 0)
      return { allowed: false, reason: 'user' };
    const running = this.authInProgress.get(ip) ?? 0;
    if (maxConcurrentAuthPerClient > 0 && running >= maxConcurrentAuthPerClient)
      return { allowed: false, reason: 'concurrency' };
    this.authInProgress.set(ip, running + 1);
    // An address that failed before waits first (250 ms, doubling, up to 5 s),
    // before any hashing: guessing costs the guesser time, not us CPU.
    const delayMs = byClient > 0 ? Math.min(5000, 250 * 2 ** Math.min(byClient - 1, 5)) : 0;
    return { allowed: true, delayMs };
  }

  async authDone(ip: string, user: string, outcome: AuthOutcome): Promise<void> {
    const running = (this.authInProgress.get(ip) ?? 0) - 1;
    if (running > 0) this.authInProgress.set(ip, running);
    else this.authInProgress.delete(ip);
    if (outcome === 'success') {
      this.clientFailures.delete(ip);
      return;
    }
    if (outcome !== 'failure') return;
    const t = this.now();
    touch(this.clientFailures, ip, { count: this.failures(this.clientFailures, ip) + 1, at: t });
    const key = user.toLowerCase();
    touch(this.userFailures, key, { count: this.failures(this.userFailures, key) + 1, at: t });
  }

  /** Failures remembered for a key: forgotten once the cooling-off period has passed since the last one. */
  private failures(table: Map<string, Failures>, key: string): number {
    const entry = table.get(key);
    if (!entry) return 0;
    if (this.now() - entry.at >= this.limits.authCoolOffMs) {
      table.delete(key);
      return 0;
    }
    return entry.count;
  }
}
