import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IpAddress, parseIp } from './ip';
import {
  difference,
  type IpRange,
  intersection,
  NON_ROUTABLE_V4,
  prefixRange,
  ROUTABLE,
  setContains,
  sizeOf,
  unionOf,
  unionOfV4,
} from './ip-ranges';

const r = (start: number, end: number): IpRange => ({ start: BigInt(start), end: BigInt(end) });
const ip = (text: string) => parseIp(text) as IpAddress;

describe('set operations on ranges', () => {
  it.each([
    ['empty', [], []],
    ['disjoint, unsorted', [r(10, 20), r(0, 5)], [r(0, 5), r(10, 20)]],
    ['overlapping', [r(0, 10), r(5, 15)], [r(0, 15)]],
    ['adjacent ranges merge', [r(0, 9), r(10, 19)], [r(0, 19)]],
    ['contained', [r(0, 100), r(10, 20)], [r(0, 100)]],
  ])('union: %s', (_name, input, expected) => {
    expect(unionOf(input)).toEqual(expected);
  });

  it.each([
    ['nothing taken', [r(0, 10)], [], [r(0, 10)]],
    ['a hole', [r(0, 10)], [r(3, 4)], [r(0, 2), r(5, 10)]],
    ['both ends', [r(0, 10)], [r(0, 2), r(9, 20)], [r(3, 8)]],
    ['everything', [r(0, 10), r(20, 30)], [r(0, 30)], []],
    ['one cut over two ranges', [r(0, 10), r(20, 30)], [r(5, 25)], [r(0, 4), r(26, 30)]],
  ])('difference: %s', (_name, a, b, expected) => {
    expect(difference(a, b)).toEqual(expected);
  });

  it('intersection', () => {
    expect(intersection([r(0, 10), r(20, 30)], [r(5, 25)])).toEqual([r(5, 10), r(20, 25)]);
    expect(intersection([r(0, 10)], [r(11, 12)])).toEqual([]);
  });

  it('prefixes', () => {
    expect(prefixRange(ip('10.1.2.3'), 8)).toEqual(r(0x0a000000, 0x0affffff));
    expect(prefixRange(ip('0.0.0.0'), 0)).toEqual({ start: 0n, end: 2n ** 32n - 1n });
    expect(prefixRange(ip('2001:db8::'), 32)).toEqual({
      start: 0x20010db8n << 96n,
      end: (0x20010db8n << 96n) + 2n ** 96n - 1n,
    });
  });

  it('the routable space', () => {
    expect(setContains(ROUTABLE[4], BigInt(0x08080808))).toBe(true); // 8.8.8.8
    for (const text of ['10.0.0.1', '127.0.0.1', '192.168.1.1', '203.0.113.9', '224.0.0.1']) {
      const a = prefixRange(ip(text), 32).start;
      expect(setContains(ROUTABLE[4], a), text).toBe(false);
      expect(setContains(NON_ROUTABLE_V4, a), text).toBe(true);
    }
    expect(sizeOf(ROUTABLE[4]) + sizeOf(NON_ROUTABLE_V4)).toBe(2n ** 32n);
    expect(setContains(ROUTABLE[6], prefixRange(ip('2a00::1'), 128).start)).toBe(true);
    expect(setContains(ROUTABLE[6], prefixRange(ip('2001:db8::1'), 128).start)).toBe(false);
    expect(setContains(ROUTABLE[6], prefixRange(ip('fe80::1'), 128).start)).toBe(false);
  });
});

describe('properties', () => {
  const prefix = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
    .map(([w, p]) => ({ network: { family: 4 as const, words: [w] }, prefix: p }));
  const prefixes = fc.array(prefix, { maxLength: 30 });
  const setOf = (list: { network: IpAddress; prefix: number }[]) =>
    unionOf(list.map((x) => prefixRange(x.network, x.prefix)));
  const value = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(BigInt);

  it('unionOfV4 is unionOf', () => {
    fc.assert(
      fc.property(prefixes, (list) => {
        expect(unionOfV4(list)).toEqual(setOf(list));
      }),
    );
  });

  it('membership follows the set algebra', () => {
    fc.assert(
      fc.property(prefixes, prefixes, value, (a, b, v) => {
        const A = setOf(a);
        const B = setOf(b);
        const inA = setContains(A, v);
        const inB = setContains(B, v);
        expect(setContains(difference(A, B), v)).toBe(inA && !inB);
        expect(setContains(intersection(A, B), v)).toBe(inA && inB);
        expect(sizeOf(difference(A, B)) + sizeOf(intersection(A, B))).toBe(sizeOf(A));
      }),
    );
  });
});
