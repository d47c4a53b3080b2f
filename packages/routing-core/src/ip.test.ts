import { describe, expect, it } from 'vitest';
import { normaliseDomain, punycodeEncode } from './domain';
import { formatIp, parseIp, parseMask, parsePeerIp, prefixContains } from './ip';
import { IpPrefixTable } from './ip-table';

describe('parseIp / formatIp', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ])('%s → %s', (text, canonical) => {
    const ip = parseIp(text);
    expect(ip && formatIp(ip)).toBe(canonical);
  });
  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '256.1.1.1',
    '1.2.3.4 ',
    ' ::1',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    'g::1',
    '12345::',
  ])('%j is refused', (text) => {
    expect(parseIp(text)).toBeNull();
  });
  it('reads an IPv4-mapped peer address as IPv4', () => {
    expect(parsePeerIp('::ffff:10.1.2.3')).toEqual({ family: 4, words: [0x0a010203] });
    expect(parsePeerIp('::1')?.family).toBe(6);
  });
});

describe('parseMask', () => {
  it.each([
    ['255.255.255.255', 4, 32],
    ['255.255.255.0', 4, 24],
    ['255.255.240.0', 4, 20],
    ['0.0.0.0', 4, 0],
    ['24', 4, 24],
    ['/16', 4, 16],
    ['64', 6, 64],
    ['128', 6, 128],
  ] as const)('%s (IPv%d) → /%d', (text, family, prefix) => {
    expect(parseMask(text, family)).toEqual({ ok: true, prefix });
  });
  it.each([
    ['255.0.255.0', 4],
    ['255.255.255.1', 4],
    ['0.255.255.255', 4],
    ['33', 4],
    ['129', 6],
    ['ffff:ffff::', 6],
    ['255.255.0.0', 6],
    ['abc', 4],
  ] as const)('%s (IPv%d) is refused', (text, family) => {
    expect(parseMask(text, family).ok).toBe(false);
  });
});

describe('prefixContains', () => {
  const net = (t: string) => parseIp(t)!;
  it.each([
    ['10.0.0.0', 8, '10.255.1.1', true],
    ['10.0.0.0', 8, '11.0.0.1', false],
    ['0.0.0.0', 0, '203.0.113.1', true],
    ['192.168.1.5', 32, '192.168.1.5', true],
    ['192.168.1.5', 32, '192.168.1.6', false],
    ['2001:db8::', 32, '2001:db8:ffff::1', true],
    ['2001:db8::', 33, '2001:db8:8000::1', false],
    ['2001:db8::', 32, '10.0.0.1', false],
  ] as const)('%s/%d contains %s: %s', (n, p, ip, expected) => {
    expect(prefixContains(net(n), p, net(ip))).toBe(expected);
  });
});

describe('IpPrefixTable', () => {
  it('finds the longest matching prefix, in either family, whatever the insertion order', () => {
    const entries: [string, number][] = [
      ['10.0.0.0', 8],
      ['10.1.0.0', 16],
      ['10.1.2.3', 32],
      ['0.0.0.0', 0],
      ['2001:db8::', 32],
      ['2001:db8:1::', 48],
    ];
    for (const order of [entries, [...entries].reverse()]) {
      const t = new IpPrefixTable<string>();
      for (const [ip, p] of order) t.insert(parseIp(ip)!, p, `${ip}/${p}`);
      const find = (ip: string) => t.lookup(parseIp(ip)!);
      expect(find('10.1.2.3')).toBe('10.1.2.3/32');
      expect(find('10.1.2.4')).toBe('10.1.0.0/16');
      expect(find('10.2.0.1')).toBe('10.0.0.0/8');
      expect(find('192.0.2.1')).toBe('0.0.0.0/0');
      expect(find('2001:db8:1::9')).toBe('2001:db8:1::/48');
      expect(find('2001:db8:2::9')).toBe('2001:db8::/32');
      expect(find('2001:db9::1')).toBeUndefined();
    }
  });
  it('keeps the first of two identical prefixes', () => {
    const t = new IpPrefixTable<number>();
    expect(t.insert(parseIp('10.0.0.0')!, 8, 1)).toBe(true);
    expect(t.insert(parseIp('10.0.0.0')!, 8, 2)).toBe(false);
    expect(t.lookup(parseIp('10.0.0.1')!)).toBe(1);
  });

  it('a large table (its first 16 steps taken in one jump) answers as a scan of every entry', () => {
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const v4: { network: number; prefix: number; value: number }[] = [];
    const t = new IpPrefixTable<number>();
    const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
    const add = (network: number, prefix: number) => {
      const n = (network & mask(prefix)) >>> 0;
      if (t.insert({ family: 4, words: [n] }, prefix, v4.length)) {
        v4.push({ network: n, prefix, value: v4.length });
      }
    };
    // Clustered under a few /8s so that prefixes nest above and below depth 16.
    for (let k = 0; k < 1500; k++)
      add(((next() % 4) << 24) | (next() & 0xffffff), 8 + (next() % 25));
    add(0x01000000, 16);
    add(0x01000000, 15);
    add(0x02000000, 8);
    const scan = (ip: number) => {
      let best: number | undefined;
      let bestPrefix = -1;
      for (const e of v4) {
        if (e.prefix > bestPrefix && (ip & mask(e.prefix)) >>> 0 === e.network) {
          best = e.value;
          bestPrefix = e.prefix;
        }
      }
      return best;
    };
    const probes: number[] = [0x01000000, 0x0100ffff, 0x0101ffff, 0x02ffffff, 0x04000000];
    for (const e of v4.slice(0, 400)) probes.push(e.network, (e.network | (next() & 0xff)) >>> 0);
    for (let k = 0; k < 600; k++) probes.push(((next() % 5) << 24) | (next() & 0xffffff));
    for (const ip of probes)
      expect(t.lookup({ family: 4, words: [ip >>> 0] })).toBe(scan(ip >>> 0));
    // A prefix added after lookups is seen by the next one.
    t.insert({ family: 4, words: [0x03030303] }, 32, -1);
    expect(t.lookup({ family: 4, words: [0x03030303] })).toBe(-1);
  });
});

describe('domains', () => {
  it('encodes Punycode as RFC 3492 does', () => {
    expect(punycodeEncode('münchen')).toBe('mnchen-3ya');
    expect(punycodeEncode('bücher')).toBe('bcher-kva');
    expect(punycodeEncode('例え')).toBe('r8jz45g');
  });
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['Bücher.example', 'xn--bcher-kva.example'],
    ['例え。テスト', 'xn--r8jz45g.xn--zckzah'],
    ['com', 'com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['ｅｘａｍｐｌｅ．com', 'example.com'],
    ['MÜNCHEN.example', 'xn--mnchen-3ya.example'],
  ])('%s → %s', (text, value) => {
    expect(normaliseDomain(text)).toEqual({ ok: true, value });
  });
  it.each([
    '',
    '.',
    'a..b',
    '.a.com',
    'a.com..',
    '-a.com',
    'a-.com',
    'a_b.com',
    'a b.com',
    'example.com\u00a0',
    'a\ud800.com',
    'a\u200b.com',
    '1.2.3.4',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
  ])('%j is refused', (text) => {
    expect(normaliseDomain(text).ok).toBe(false);
  });
});
