import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advise } from '../advise';
import { compile } from '../compile';
import { evaluate } from '../evaluate';
import { formatIPv4 } from '../ip';
import { NON_ROUTABLE_V4 } from '../ip-ranges';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { allowListCoverage, OPEN_RELAY_SHARE } from './coverage';

const clients = (enabled: boolean, list: string[], never: string[] = []) =>
  config({
    restrictions: {
      clientAddresses: { enabled, entries: entries(...list) },
      neverRoute: entries(...never),
    },
  });
/** `/8` networks from..to (inclusive), as `N.0.0.0/8`. */
const slash8 = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${from + i}.0.0.0/8`);

const clientOpen = {
  id: 'open-relay:/restrictions/clientAddresses',
  code: 'open-relay',
  severity: 'critical' as const,
  reference: 'Q260562',
  pointer: '/restrictions/clientAddresses',
};

const cases: AdviceCase[] = [
  {
    name: 'private networks only',
    doc: clients(true, ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
    expected: [],
  },
  {
    name: '0.0.0.0/1 + 128.0.0.0/1: everything, critical',
    doc: clients(true, ['0.0.0.0/1', '128.0.0.0/1']),
    expected: [{ ...clientOpen, message: expect.stringContaining('cover 100% of public IPv4') }],
  },
  {
    name: '256 entries N.0.0.0/8: critical',
    doc: clients(true, slash8(0, 255)),
    expected: [clientOpen],
  },
  {
    name: 'unticked: a warning, as soon as it is ticked',
    doc: clients(false, ['0.0.0.0/1', '128.0.0.0/1']),
    expected: [
      {
        ...clientOpen,
        severity: 'warning',
        message: expect.stringContaining('as soon as the box is ticked'),
      },
    ],
  },
  {
    name: '14 public /8s are more than 1/16 of the routable space: critical',
    doc: clients(true, slash8(11, 24)),
    expected: [{ ...clientOpen, message: expect.stringMatching(/cover 6\.\d% of public IPv4/) }],
  },
  {
    name: '13 public /8s are less: a warning',
    doc: clients(true, slash8(11, 23)),
    expected: [{ id: 'broad-allow-list:/restrictions/clientAddresses', severity: 'warning' }],
  },
  {
    name: 'one public /8 is more than 1/256: a warning',
    doc: clients(true, ['11.0.0.0/8']),
    expected: [
      { code: 'broad-allow-list', message: expect.stringContaining('0.4% of public IPv4') },
    ],
  },
  { name: 'a /9 is less: nothing', doc: clients(true, ['11.0.0.0/9']), expected: [] },
  {
    name: 'never-route taken away: what is left is still most of it',
    doc: clients(true, ['0.0.0.0/1', '128.0.0.0/1'], ['0.0.0.0/1']),
    expected: [clientOpen],
  },
  {
    name: 'never-route taking all of it away: nothing',
    doc: clients(true, ['0.0.0.0/1', '128.0.0.0/1'], ['0.0.0.0/1', '128.0.0.0/1']),
    expected: [],
  },
  {
    name: 'a /0 is left to allow-everything (one fix)',
    doc: clients(true, ['0.0.0.0/0', '11.0.0.0/8']),
    expected: [],
  },
  {
    name: 'a family with a broad entry gets no second warning',
    doc: clients(true, ['11.0.0.0/7']),
    expected: [],
  },
  {
    name: 'IPv6: ::/1 + 8000::/1',
    doc: clients(true, ['::/1', '8000::/1']),
    expected: [{ ...clientOpen, message: expect.stringContaining('100% of public IPv6') }],
  },
  {
    name: 'IPv6: 2000::/3 is all of global unicast',
    doc: clients(true, ['2000::/3']),
    expected: [clientOpen],
  },
  { name: 'IPv6: documentation prefix only', doc: clients(true, ['2001:db8::/32']), expected: [] },
  {
    name: 'both families at once: one finding',
    doc: clients(true, ['0.0.0.0/1', '128.0.0.0/1', '2000::/3']),
    expected: [
      {
        ...clientOpen,
        message: expect.stringContaining('100% of public IPv4 and 100% of public IPv6'),
      },
    ],
  },
  {
    name: 'internal addresses covering every server address',
    doc: config({
      restrictions: {
        internalAddresses: { enabled: true, entries: entries('0.0.0.0/1', '128.0.0.0/1') },
      },
    }),
    expected: [
      {
        id: 'open-relay:/restrictions/internalAddresses',
        severity: 'critical',
        message: expect.stringContaining(
          'every client that connects to an address in it may relay',
        ),
      },
    ],
  },
  {
    name: 'internal addresses, but never-route shuts every client out',
    doc: config({
      restrictions: {
        internalAddresses: { enabled: true, entries: entries('0.0.0.0/1', '128.0.0.0/1') },
        neverRoute: entries('0.0.0.0/1', '128.0.0.0/1'),
      },
    }),
    expected: [],
  },
  {
    name: 'internal addresses: private server addresses are ordinary',
    doc: config({
      restrictions: {
        internalAddresses: { enabled: true, entries: entries('10.0.0.0/8', '192.168.0.0/16') },
      },
    }),
    expected: [],
  },
];

describe('allowListCoverage', () => {
  it.each(cases)('$name', (row) => expectCase(allowListCoverage, row));

  it('0/1 + 128/1 through advise(): critical, needing an acknowledgement', () => {
    const f = advise(clients(true, ['0.0.0.0/1', '128.0.0.0/1', '10.0.0.0/8']));
    expect(f.filter((x) => x.severity === 'critical').map((x) => x.id)).toEqual([
      'open-relay:/restrictions/clientAddresses',
    ]);
    // The two /1s are each a broad entry; 10/8 inside one is not a finding of its own.
    expect(f.map((x) => x.code).sort()).toEqual([
      'broad-allow-entry',
      'broad-allow-entry',
      'open-relay',
    ]);
  });

  it('stays fast on long lists (linear-ish work)', () => {
    const many = (first: number) =>
      Array.from({ length: 20_000 }, (_, i) => ({
        ip: `${first}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        mask: '32',
      }));
    const doc = config({
      restrictions: {
        clientAddresses: { enabled: true, entries: many(11) },
        internalAddresses: { enabled: true, entries: many(12) },
        neverRoute: many(13),
      },
    });
    const started = Date.now();
    expect(advise(doc).some((f) => f.code === 'open-relay')).toBe(false);
    // Generous for a loaded CI machine; quadratic work would take minutes.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);
});

/**
 * Property: the critical open-relay finding is raised exactly when more than
 * OPEN_RELAY_SHARE of the public IPv4 space would relay for an
 * unauthenticated stranger, as evaluate() decides it.
 *
 * Sampling, and why it is exact: every generated entry (client list and
 * never-route) is a prefix of length 8 or less, so each of the 256 /8 blocks
 * lies wholly inside or wholly outside every entry, and evaluate() gives the
 * same answer for every address of a block. One address drawn at random from
 * the public part of each block therefore decides that block, and the share
 * that relays is Σ public(block) over the blocks that relay, divided by Σ
 * public(block), where public(block) is the block's size minus its overlap
 * with NON_ROUTABLE_V4 (the definition of "public"), computed here with plain
 * arithmetic. IPv6 counts too (the finding is about either family): no IPv6
 * entry is generated except an optional never-route ::/0, so every public
 * IPv6 address gets the same answer, and one random one (in 2000::/3,
 * outside the documentation prefixes) decides all of IPv6: if it relays, the
 * whole routable IPv6 space does, and the finding must be critical. (A /0
 * client entry is left out of the generator: it has its own finding,
 * allow-everything, critical whatever never-route takes away.)
 */
describe('property: critical exactly when a random public address would relay', () => {
  const BLOCK = 2 ** 24;
  const specials = NON_ROUTABLE_V4.map((r) => [Number(r.start), Number(r.end)] as const);
  const publicSize = (b: number) =>
    BLOCK -
    specials.reduce((n, [s, e]) => {
      const lo = Math.max(s, b * BLOCK);
      const hi = Math.min(e, (b + 1) * BLOCK - 1);
      return hi >= lo ? n + (hi - lo + 1) : n;
    }, 0);
  const sizes = Array.from({ length: 256 }, (_, b) => publicSize(b));
  const total = sizes.reduce((a, b) => a + b, 0);
  /** The last address of the special range holding `v`, or -1. */
  const specialEnd = (v: number) => specials.find(([s, e]) => v >= s && v <= e)?.[1] ?? -1;

  const prefixEntry = (minPrefix: number) =>
    fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: minPrefix, max: 8 }))
      .map(([octet, prefix]) => ({
        ip: `${prefix === 0 ? 0 : (octet >> (8 - prefix)) << (8 - prefix)}.0.0.0`,
        mask: String(prefix),
      }));
  const doc = fc
    .record({
      authenticated: fc.boolean(),
      clientEnabled: fc.boolean(),
      internalEnabled: fc.boolean(),
      client: fc.array(prefixEntry(1), { maxLength: 40 }),
      never: fc.array(prefixEntry(0), { maxLength: 6 }),
      neverV6: fc.boolean(),
    })
    .map((g) =>
      config({
        restrictions: {
          authenticated: g.authenticated,
          clientAddresses: { enabled: g.clientEnabled, entries: g.client },
          internalAddresses: { enabled: g.internalEnabled, entries: [] },
          neverRoute: g.neverV6 ? [...g.never, { ip: '::', mask: '0' }] : g.never,
        },
      }),
    );
  const offsets = fc.array(fc.integer({ min: 0, max: BLOCK - 1 }), {
    minLength: 256,
    maxLength: 256,
  });
  // 2400::/6 lies in 2000::/3 and clear of 2001:db8::/32 and 3fff::/20.
  const v6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }).map(
    (g) =>
      `${(0x2400 + ((g[0] ?? 0) % 0x400)).toString(16)}:${g
        .slice(1)
        .map((x) => x.toString(16))
        .join(':')}:1`,
  );
  const stranger = (clientIp: string) => ({
    clientIp,
    serverIp: '192.0.2.25',
    authenticated: false,
    mailFrom: '<stranger@elsewhere.example>',
    rcptTo: '<victim@far-away.example>',
  });

  it('holds for random lists', () => {
    fc.assert(
      fc.property(doc, offsets, v6, (d, offset, v6Stranger) => {
        const policy = compile(d);
        let relayed = 0;
        for (let b = 0; b < 256; b++) {
          if (sizes[b] === 0) continue;
          // A random public address of the block: from the random offset, past
          // any special range it falls in (wrapping to the block's start).
          let v = b * BLOCK + (offset[b] ?? 0);
          for (let end = specialEnd(v); end >= 0; end = specialEnd(v)) {
            v = end + 1 >= (b + 1) * BLOCK ? b * BLOCK : end + 1;
          }
          const decision = evaluate(policy, stranger(formatIPv4(v)), { trace: false });
          if (decision.action === 'relay') relayed += sizes[b] as number;
        }
        const v6Relays =
          evaluate(policy, stranger(v6Stranger), { trace: false }).action === 'relay';
        const expected =
          v6Relays ||
          BigInt(relayed) * OPEN_RELAY_SHARE.denominator >
            BigInt(total) * OPEN_RELAY_SHARE.numerator;
        const critical = advise(d).some(
          (f) => f.code === 'open-relay' && f.severity === 'critical',
        );
        expect(critical).toBe(expected);
      }),
      { numRuns: 150 },
    );
  });
});
