/**
 * @ims/passwords: the one password-hash format of the product, used by the
 * console (which hashes) and the SMTP nodes (which verify AUTH against the
 * hashes in their bundle).
 *
 * A hash is scrypt (RFC 7914) with a random salt, stored as
 * `scrypt$N$r$p$salt$key` (salt and key in base64), so the cost can be raised
 * later: a stored hash carries its own parameters, and needsRehash() says
 * when one is below the current cost. Every hash is parsed here, with one set
 * of limits: a hash outside them is malformed, never run (an N of 2^30 in a
 * bundle would otherwise cost a node a gigabyte per AUTH).
 */

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

/**
 * The cost of new hashes: N = 2^17, r = 8, p = 1, OWASP's current minimum
 * for scrypt (Password Storage Cheat Sheet): 128 MiB and about 0.3 s per
 * hash. Older, cheaper hashes still verify (each carries its own cost) and
 * are hashed again at this cost at the next successful sign-in (needsRehash).
 */
export const DEFAULT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** What a stored hash may say; anything else is malformed. */
export const LIMITS = Object.freeze({
  /** N from 2^10 (test fixtures) to 2^20. */
  minN: 2 ** 10,
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  /** scrypt's memory, 128·N·r bytes, at most 256 MiB. */
  maxMemory: 256 * 1024 * 1024,
  minSaltBytes: 16,
  maxSaltBytes: 64,
  minKeyBytes: 16,
  maxKeyBytes: 64,
});

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DECIMAL = /^[1-9]\d{0,9}$/;

function decode(field: string, min: number, max: number): Buffer | undefined {
  if (!BASE64.test(field) || field.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(field, 'base64');
  return bytes.length >= min && bytes.length <= max ? bytes : undefined;
}

function withinLimits({ N, r, p }: ScryptParams): boolean {
  return (
    Number.isSafeInteger(N) &&
    N >= LIMITS.minN &&
    N <= LIMITS.maxN &&
    (N & (N - 1)) === 0 &&
    Number.isSafeInteger(r) &&
    r >= 1 &&
    r <= LIMITS.maxR &&
    Number.isSafeInteger(p) &&
    p >= 1 &&
    p <= LIMITS.maxP &&
    128 * N * r <= LIMITS.maxMemory
  );
}

/** A stored hash's parameters, salt and key; undefined when it is not a hash within the limits. */
export function parseHash(stored: string): ParsedHash | undefined {
  const fields = stored.split('$');
  if (fields.length !== 6) return undefined;
  const [kind, n, r, p, salt, key] = fields as [string, string, string, string, string, string];
  if (kind !== 'scrypt' || !DECIMAL.test(n) || !DECIMAL.test(r) || !DECIMAL.test(p))
    return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!withinLimits(params)) return undefined;
  const saltBytes = decode(salt, LIMITS.minSaltBytes, LIMITS.maxSaltBytes);
  const keyBytes = decode(key, LIMITS.minKeyBytes, LIMITS.maxKeyBytes);
  if (!saltBytes || !keyBytes) return undefined;
  return { params, salt: saltBytes, key: keyBytes };
}

/** The stored form of a hash. */
export function formatHash({ params, salt, key }: ParsedHash): string {
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function derive(
  password: string,
  salt: Buffer,
  length: number,
  { N, r, p }: ScryptParams,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      length,
      // Twice what scrypt needs (128·N·r), so no valid hash hits Node's bound.
      { N, r, p, maxmem: 2 * 128 * N * r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** A new hash of `password` (NFC-normalised) with a random salt. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_PARAMS,
): Promise<string> {
  if (!withinLimits(params)) throw new RangeError('scrypt parameters outside the limits');
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, params);
  return formatHash({ params, salt, key });
}

/**
 * Whether `password` matches `stored`, compared in constant time. A
 * malformed hash (or one outside the limits) matches nothing: false, never
 * an exception.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  let key: Buffer;
  try {
    key = await derive(password, parsed.salt, parsed.key.length, parsed.params);
  } catch {
    return false;
  }
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** True when a stored hash is malformed or cheaper than `params`: hash the password again at the next sign-in. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_PARAMS): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  const { N, r, p } = parsed.params;
  return N < params.N || r < params.r || p < params.p || parsed.key.length < KEY_BYTES;
}

/**
 * A hash at the cost `params` that matches no password: verifying against it
 * spends the same time as against a real hash of that cost, so a caller can
 * check unknown users too and the timing does not tell who exists.
 */
export function dummyHashFor(params: ScryptParams): string {
  return formatHash({ params, salt: Buffer.alloc(SALT_BYTES), key: Buffer.alloc(KEY_BYTES) });
}

/** The dummy hash at the default cost. */
export const DUMMY_HASH = dummyHashFor(DEFAULT_PARAMS);
