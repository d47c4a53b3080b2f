import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_FREE_FAILURES,
  ADDRESS_FREE_FAILURES,
  type Attempt,
  addressKey,
  delayFor,
  FIRST_DELAY_MS,
  FORGET_AFTER_MS,
  isRefusal,
  MAX_DELAY_MS,
  type Refusal,
  SignInThrottle,
} from './sign-in-throttle';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A failed attempt (it must be let through). */
function fail(throttle: SignInThrottle, ip: string, account: string | undefined = 'admin'): void {
  const a = throttle.begin(ip, account);
  if (isRefusal(a)) throw new Error(`refused: ${JSON.stringify(a)}`);
}

function refused(x: Attempt | Refusal): Refusal {
  if (!isRefusal(x)) throw new Error('expected a refusal');
  return x;
}

describe('the sign-in throttle', () => {
  it('lets an address fail a few times, then makes it wait longer after each failure', () => {
    const c = clock();
    const t = new SignInThrottle(c.now);
    for (let i = 0; i < ADDRESS_FREE_FAILURES; i++) {
      expect(isRefusal(t.begin('192.0.2.1', 'admin')), `attempt ${i + 1}`).toBe(false);
    }
    expect(refused(t.begin('192.0.2.1', 'admin'))).toEqual({
      retryAfterSeconds: 60,
      reason: 'address',
    });
    c.advance(59_000);
    expect(refused(t.begin('192.0.2.1', 'admin')).retryAfterSeconds).toBe(1);
    c.advance(1000);
    fail(t, '192.0.2.1');
    expect(refused(t.begin('192.0.2.1', 'admin')).retryAfterSeconds).toBe(120);
    c.advance(120_000);
    fail(t, '192.0.2.1');
    expect(refused(t.begin('192.0.2.1', 'admin')).retryAfterSeconds).toBe(240);
    // The same address is held back whatever account it tries.
    expect(refused(t.begin('192.0.2.1', 'someone')).reason).toBe('address');
    expect(refused(t.begin('192.0.2.1', undefined)).reason).toBe('address');
  });

  it('the waits double up to 15 minutes, and failures are forgotten after an hour', () => {
    expect([4, 5, 6, 7, 8, 9].map((n) => delayFor(n, 5) / FIRST_DELAY_MS)).toEqual([
      0, 1, 2, 4, 8, 15,
    ]);
    expect(delayFor(40, 5)).toBe(MAX_DELAY_MS);
    expect(delayFor(10_000, 5)).toBe(MAX_DELAY_MS);
    const c = clock();
    const t = new SignInThrottle(c.now);
    for (let i = 0; i < 29; i++) {
      fail(t, '192.0.2.2');
      c.advance(MAX_DELAY_MS);
    }
    fail(t, '192.0.2.2');
    expect(refused(t.begin('192.0.2.2', 'admin')).retryAfterSeconds).toBe(MAX_DELAY_MS / 1000);
    c.advance(FORGET_AFTER_MS);
    expect(isRefusal(t.begin('192.0.2.2', 'admin'))).toBe(false);
  });

  it('guesses spread over many addresses add up on the account', () => {
    const c = clock();
    const t = new SignInThrottle(c.now);
    // Two guesses from each address: never enough to hold an address back.
    const refusals: Refusal[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 2; i <= 20; i++) {
        const a = t.begin(`127.0.0.${i}`, 'admin');
        if (isRefusal(a)) refusals.push(a);
      }
    }
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((r) => r.reason === 'account')).toBe(true);
    // The checked guesses: the account's free ones, plus one per clean address at most.
    expect(38 - refusals.length).toBeLessThanOrEqual(ACCOUNT_FREE_FAILURES + 19);
  });

  it('an account lock does not keep out an address with no failures (the administrator elsewhere)', () => {
    const c = clock();
    const t = new SignInThrottle(c.now);
    // One guess from each of 20 addresses: the account is locked.
    for (let i = 0; i < 20; i++) fail(t, `198.51.100.${i}`);
    expect(refused(t.begin('198.51.100.1', 'admin')).reason).toBe('account');
    const admin = t.begin('203.0.113.5', 'admin');
    expect(isRefusal(admin)).toBe(false);
    t.succeeded(admin as Attempt);
    // A success clears the account's failures, and takes its own attempt back.
    expect(isRefusal(t.begin('198.51.100.9', 'admin'))).toBe(false);
    expect(t.size.accounts).toBe(1);
  });

  it('a clean address gets one guess at a locked account, not more', () => {
    const c = clock();
    const t = new SignInThrottle(c.now);
    for (let i = 0; i < ACCOUNT_FREE_FAILURES; i++) fail(t, `198.51.100.${i}`);
    expect(isRefusal(t.begin('203.0.113.9', 'admin'))).toBe(false);
    expect(refused(t.begin('203.0.113.9', 'admin')).reason).toBe('account');
  });

  it('a user name that does not exist counts on the address only', () => {
    const t = new SignInThrottle(clock().now);
    for (let i = 0; i < 50; i++) t.begin(`192.0.2.${i}`, undefined);
    expect(t.size).toEqual({ addresses: 50, accounts: 0 });
  });

  it('counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    const t = new SignInThrottle(clock().now);
    for (let i = 0; i < ADDRESS_FREE_FAILURES; i++) fail(t, `2001:db8:1:2::${i + 1}`, undefined);
    expect(refused(t.begin('2001:db8:1:2:ffff::1', undefined)).reason).toBe('address');
    expect(isRefusal(t.begin('2001:db8:1:3::1', undefined))).toBe(false);
  });
});
