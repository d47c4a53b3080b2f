/**
 * IPv4 and IPv6 addresses, masks and prefixes, without Node APIs (this code
 * also runs in the browser). An address is a family plus big-endian 32-bit
 * words: one word for IPv4, four for IPv6.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** Big-endian 32-bit words, each an unsigned integer: 1 for IPv4, 4 for IPv6. */
  readonly words: readonly number[];
}

export const IPV4_BITS = 32;
export const IPV6_BITS = 128;

export function bitsOf(family: IpFamily): number {
  return family === 4 ? IPV4_BITS : IPV6_BITS;
}

/** Parses a dotted quad, strictly: four decimal octets, no leading zeros (no octal ambiguity). */
export function parseIPv4(text: string): number | null {
  const len = text.length;
  if (len < 7 || len > 15) return null;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return null; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return null;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return (value * 256 + octet) >>> 0;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 text (RFC 4291 §2.2, with an embedded dotted quad allowed at the end). No zone ids. */
export function parseIPv6(text: string): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  const groups: number[] = [];
  let doubleColonAt = -1;
  let i = 0;
  const len = text.length;
  if (text.startsWith('::')) {
    doubleColonAt = 0;
    i = 2;
    if (len === 2) return [0, 0, 0, 0];
  } else if (text.charCodeAt(0) === 58) {
    return null;
  }
  while (i < len) {
    // Read one group: hex digits, or a trailing dotted quad.
    let j = i;
    let value = 0;
    while (j < len && j - i < 5) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < len && text.charCodeAt(j) === 46 /* . */) {
      const v4 = parseIPv4(text.slice(i));
      if (v4 === null || groups.length > 6) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = len;
      break;
    }
    if (j === i || j - i > 4) return null;
    groups.push(value);
    i = j;
    if (i === len) break;
    if (text.charCodeAt(i) !== 58 /* : */) return null;
    i++;
    if (i < len && text.charCodeAt(i) === 58) {
      if (doubleColonAt >= 0) return null;
      doubleColonAt = groups.length;
      i++;
      if (i === len) break;
    } else if (i === len) {
      return null; // trailing single colon
    }
  }
  if (doubleColonAt >= 0) {
    if (groups.length > 7) return null;
    const fill = 8 - groups.length;
    groups.splice(doubleColonAt, 0, ...new Array<number>(fill).fill(0));
  }
  if (groups.length !== 8) return null;
  const words: number[] = [];
  for (let w = 0; w < 4; w++) {
    words.push((((groups[w * 2] ?? 0) << 16) | (groups[w * 2 + 1] ?? 0)) >>> 0);
  }
  return words;
}

/** Parses an IPv4 or IPv6 address; null when it is neither. */
export function parseIp(text: string): IpAddress | null {
  // A socket's address can be undefined once it has closed: never a match.
  if (typeof text !== 'string') return null;
  if (text.indexOf(':') >= 0) {
    const words = parseIPv6(text);
    return words ? { family: 6, words } : null;
  }
  const v4 = parseIPv4(text);
  return v4 === null ? null : { family: 4, words: [v4] };
}

/**
 * Parses the address of a peer as a socket reports it. IPv4-mapped IPv6
 * (`::ffff:192.0.2.1`, what a dual-stack listener reports for IPv4 clients) is
 * returned as the IPv4 address, so IPv4 rules apply to it.
 */
export function parsePeerIp(text: string): IpAddress | null {
  const ip = parseIp(text);
  if (ip && ip.family === 6) {
    const [a, b, c, d] = ip.words;
    if (a === 0 && b === 0 && c === 0xffff) return { family: 4, words: [d ?? 0] };
  }
  return ip;
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 canonical text: lower case, no leading zeros, longest run (≥2) of zero groups as `::`. */
export function formatIPv6(words: readonly number[]): string {
  const groups: number[] = [];
  for (const w of words) groups.push(w >>> 16, w & 0xffff);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIPv4(ip.words[0] ?? 0) : formatIPv6(ip.words);
}

/** The 32-bit mask word for the word at `index` of a prefix of length `prefix`. */
function maskWord(prefix: number, index: number): number {
  const bits = prefix - index * 32;
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** The address with every bit past `prefix` cleared. */
export function networkOf(ip: IpAddress, prefix: number): IpAddress {
  return { family: ip.family, words: ip.words.map((w, i) => (w & maskWord(prefix, i)) >>> 0) };
}

export function hasHostBits(ip: IpAddress, prefix: number): boolean {
  return ip.words.some((w, i) => (w & ~maskWord(prefix, i)) >>> 0 !== 0);
}

/** Whether `ip` lies inside `network/prefix` (same family only). */
export function prefixContains(network: IpAddress, prefix: number, ip: IpAddress): boolean {
  if (network.family !== ip.family) return false;
  for (let i = 0; i < network.words.length; i++) {
    const m = maskWord(prefix, i);
    if (((network.words[i] ?? 0) & m) >>> 0 !== ((ip.words[i] ?? 0) & m) >>> 0) return false;
  }
  return true;
}

/** Whether two prefixes share any address: one contains the other. */
export function prefixesOverlap(
  a: IpAddress,
  aPrefix: number,
  b: IpAddress,
  bPrefix: number,
): boolean {
  if (a.family !== b.family) return false;
  return aPrefix <= bPrefix ? prefixContains(a, aPrefix, b) : prefixContains(b, bPrefix, a);
}

export function prefixToDottedMask(prefix: number): string {
  return formatIPv4(maskWord(prefix, 0));
}

export type MaskResult = { ok: true; prefix: number } | { ok: false; message: string };

/**
 * Parses a mask for an address of `family`: a prefix length (`"24"`, `"/24"`,
 * `"64"`), or for IPv4 a dotted mask (`"255.255.255.0"`). A dotted mask must be
 * contiguous (ones then zeros).
 */
export function parseMask(text: string, family: IpFamily): MaskResult {
  const t = text.trim();
  const max = bitsOf(family);
  const digits = t.startsWith('/') ? t.slice(1) : t;
  if (/^\d{1,3}$/.test(digits)) {
    const prefix = Number(digits);
    if (prefix > max) {
      return {
        ok: false,
        message: `A prefix length for IPv${family} is 0 to ${max}, not ${prefix}.`,
      };
    }
    return { ok: true, prefix };
  }
  if (family === 6) {
    return { ok: false, message: 'An IPv6 mask is a prefix length from 0 to 128, such as "64".' };
  }
  const value = parseIPv4(t);
  if (value === null) {
    return {
      ok: false,
      message: `"${text}" is not a subnet mask: use a dotted mask such as 255.255.255.0 or a prefix length such as 24.`,
    };
  }
  const inverted = ~value >>> 0;
  if ((inverted & (inverted + 1)) !== 0) {
    return {
      ok: false,
      message: `${t} is not a contiguous subnet mask: its one bits must all come before its zero bits.`,
    };
  }
  let prefix = 0;
  for (let v = value; v & 0x80000000; v = (v << 1) >>> 0) prefix++;
  return { ok: true, prefix };
}

/** Normalised text of a mask: dotted for IPv4, a prefix length for IPv6. */
export function formatMask(prefix: number, family: IpFamily): string {
  return family === 4 ? prefixToDottedMask(prefix) : String(prefix);
}
