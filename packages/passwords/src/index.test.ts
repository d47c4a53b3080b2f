import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_PARAMS,
  DUMMY_HASH,
  dummyHashFor,
  formatHash,
  hashPassword,
  LIMITS,
  needsRehash,
  parseHash,
  verifyPassword,
} from './index';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

/** Cheap parameters, inside the limits, so the tests run fast. */
const FAST = { N: 1024, r: 8, p: 1 };
const salt16 = Buffer.from('0123456789abcdef').toString('base64');
const key32 = Buffer.alloc(32, 7).toString('base64');

describe('hashPassword', () => {
  it('writes scrypt$N$r$p$salt$key with the default cost, a 16-byte salt and a 32-byte key', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(parseHash(hash)?.params).toEqual(DEFAULT_PARAMS);
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hashPassword('same', FAST)).not.toBe(await hashPassword('same', FAST));
  });

  it('refuses parameters outside the limits', async () => {
    await expect(hashPassword('x', { N: 1000, r: 8, p: 1 })).rejects.toThrow(RangeError);
    await expect(hashPassword('x', { N: 2 ** 21, r: 8, p: 1 })).rejects.toThrow(RangeError);
  });

  it('agrees with scryptSync on the stored format (the node fixtures hash that way)', async () => {
    const hash = await hashPassword('pw', FAST);
    const parsed = parseHash(hash);
    if (!parsed) throw new Error('unparsed');
    const key = crypto.scryptSync('pw', parsed.salt, 32, FAST);
    expect(formatHash({ ...parsed, key })).toBe(hash);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('alice-password', FAST);
    expect(await verifyPassword('alice-password', hash)).toBe(true);
    expect(await verifyPassword('alice-passwore', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await verifyPassword('ALICE-PASSWORD', hash)).toBe(false);
  });

  it('normalises to NFC, so a composed and a decomposed é are the same password', async () => {
    const hash = await hashPassword('caf\u00e9', FAST);
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it('verifies a hash at the default cost (the console writes these)', async () => {
    const hash = await hashPassword('pw');
    expect(await verifyPassword('pw', hash)).toBe(true);
    expect(await verifyPassword('pw2', hash)).toBe(false);
  });

  it('the dummy hash matches nothing', async () => {
    expect(await verifyPassword('', DUMMY_HASH)).toBe(false);
    expect(await verifyPassword('password', DUMMY_HASH)).toBe(false);
    expect(parseHash(DUMMY_HASH)?.params).toEqual(DEFAULT_PARAMS);
  });

  it('compares the keys with timingSafeEqual', async () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    const hash = await hashPassword('pw', FAST);
    expect(await verifyPassword('wrong', hash)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    const [a, b] = spy.mock.calls[0] ?? [];
    expect(Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.length === b.length).toBe(true);
  });

  it('a malformed hash matches nothing and never throws', async () => {
    for (const bad of [
      '',
      'scrypt',
      `bcrypt$1024$8$1$${salt16}$${key32}`,
      `scrypt$1024$8$1$${salt16}`,
      `scrypt$1024$8$1$${salt16}$${key32}$extra`,
      `scrypt$1000$8$1$${salt16}$${key32}`,
      `scrypt$2147483648$8$1$${salt16}$${key32}`,
      `scrypt$1024$0$1$${salt16}$${key32}`,
      `scrypt$1024$8$0$${salt16}$${key32}`,
      `scrypt$1024$8$1$$${key32}`,
      `scrypt$1024$8$1$${salt16}$`,
      `scrypt$1024$8$1$not*base64!$${key32}`,
      `scrypt$01024$8$1$${salt16}$${key32}`,
      `scrypt$1e3$8$1$${salt16}$${key32}`,
    ]) {
      expect(await verifyPassword('pw', bad), bad).toBe(false);
    }
  });
});

describe('parseHash: one set of limits', () => {
  const at = (n: number, r: number, p: number, salt = salt16, key = key32) =>
    parseHash(`scrypt$${n}$${r}$${p}$${salt}$${key}`);

  it('accepts the limits themselves', () => {
    expect(at(LIMITS.minN, 8, 1)).toBeDefined();
    expect(at(LIMITS.maxN, 1, 1)).toBeDefined();
    expect(at(1024, LIMITS.maxR, LIMITS.maxP)).toBeDefined();
    expect(
      at(1024, 8, 1, Buffer.alloc(64).toString('base64'), Buffer.alloc(64).toString('base64')),
    ).toBeDefined();
  });

  it.each([
    ['N below the minimum', 512, 8, 1],
    ['N above the maximum', 2 ** 21, 8, 1],
    ['N not a power of two', 3 * 1024, 8, 1],
    ['r too large', 1024, LIMITS.maxR + 1, 1],
    ['p too large', 1024, 8, LIMITS.maxP + 1],
    ['memory (128·N·r) too large', 2 ** 20, 4, 1],
  ])('refuses %s', (_what, n, r, p) => {
    expect(at(n, r, p)).toBeUndefined();
  });

  it('refuses salts and keys that are too short or too long', () => {
    const b64 = (n: number) => Buffer.alloc(n).toString('base64');
    expect(at(1024, 8, 1, b64(15))).toBeUndefined();
    expect(at(1024, 8, 1, b64(65))).toBeUndefined();
    expect(at(1024, 8, 1, salt16, b64(15))).toBeUndefined();
    expect(at(1024, 8, 1, salt16, b64(65))).toBeUndefined();
  });
});

describe('needsRehash', () => {
  it('is false at the current cost, true below it or for a malformed hash', async () => {
    expect(needsRehash(DUMMY_HASH)).toBe(false);
    expect(needsRehash(await hashPassword('pw', FAST))).toBe(true);
    expect(needsRehash('scrypt$garbage')).toBe(true);
    expect(needsRehash(await hashPassword('pw', FAST), FAST)).toBe(false);
  });

  it('is false for a hash dearer than the current cost', () => {
    expect(needsRehash(`scrypt$262144$8$1$${salt16}$${key32}`)).toBe(false);
  });

  it('asks to rehash what the previous default (N = 2^15) wrote', () => {
    expect(needsRehash(`scrypt$32768$8$1$${salt16}$${key32}`)).toBe(true);
  });
});

describe('the default cost', () => {
  it("is at least OWASP's minimum for scrypt: N = 2^17, r = 8, p = 1", () => {
    expect(DEFAULT_PARAMS.N).toBeGreaterThanOrEqual(2 ** 17);
    expect(DEFAULT_PARAMS.r).toBeGreaterThanOrEqual(8);
    expect(DEFAULT_PARAMS.p).toBeGreaterThanOrEqual(1);
    expect(parseHash(DUMMY_HASH)?.params).toEqual(DEFAULT_PARAMS);
  });

  it('dummyHashFor(params) carries that cost and matches nothing', async () => {
    const dummy = dummyHashFor(FAST);
    expect(parseHash(dummy)?.params).toEqual(FAST);
    expect(await verifyPassword('', dummy)).toBe(false);
    expect(await verifyPassword('anything', dummy)).toBe(false);
  });
});
