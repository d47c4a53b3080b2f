/**
 * Property-based tests (fast-check): invariants that must hold for every
 * configuration, not only the hand-picked ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from './compile';
import { INBOUND, type IpEntry, type RoutingConfig } from './config';
import { type EvaluateInput, evaluate } from './evaluate';
import { evaluateLinear } from './testing/linear-reference';
import { validate } from './validate';

// A small vocabulary, so generated routes, recipients and addresses collide often.
const label = fc.constantFrom('a', 'b', 'ms', 'sea', 'chelsea', 'com', 'x', 'example', 'org');
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const routeTo = fc.oneof(
  fc.constant(INBOUND),
  fc.constantFrom('host1', 'mail.example.net:2525', '192.0.2.7:25', '[2001:db8::25]'),
);
const route = fc.record({
  sentTo: fc.tuple(fc.boolean(), domain).map(([exact, d]) => (exact ? `#${d}` : d)),
  routeTo,
});
const v4 = fc
  .tuple(
    fc.constantFrom(10, 192),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
  )
  .map((o) => o.join('.'));
const v6 = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
  .map(([a, b]) => `2001:db8:${a}::${b}`);
const ipEntry: fc.Arbitrary<IpEntry> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      ip: v4,
      mask: fc.constantFrom('0', '8', '16', '24', '30', '32', '255.255.255.255', '255.255.0.0'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ ip: v6, mask: fc.constantFrom('0', '32', '48', '64', '128') }),
  },
);
const addressList = fc.record({
  enabled: fc.boolean(),
  entries: fc.array(ipEntry, { maxLength: 5 }),
});

/** Random documents, normalised by validate() as a saved configuration would be. */
const config: fc.Arbitrary<RoutingConfig> = fc
  .record({
    siteDomain: domain,
    rerouteMode: fc.constantFrom('reroute' as const, 'no-reroute' as const),
    routes: fc.array(route, { maxLength: 8 }),
    restrictions: fc.record({
      authenticated: fc.boolean(),
      clientAddresses: addressList,
      internalAddresses: addressList,
      neverRoute: fc.array(ipEntry, { maxLength: 4 }),
    }),
    rejectUnknownRecipients: fc.boolean(),
  })
  .map((doc) => {
    const r = validate(doc);
    if (!r.ok) throw new Error(`generator made an invalid document: ${JSON.stringify(r.errors)}`);
    return r.config;
  });

const localPart = fc.constantFrom('alice', 'bob', 'postmaster', 'nobody', 'user%x.com', '"a@b"');
const rcpt = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(localPart, domain).map(([l, d]) => `<${l}@${d}>`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '<Postmaster>',
      '<u@[127.0.0.1]>',
      '<u@[192.0.2.1]>',
      '<a@b@c>',
      '<@a.com:u@b.org>',
    ),
  },
);
const knownSet = new Set(['alice@example', 'alice@ms.com', 'bob@sea.com', 'alice@a.b']);
const input: fc.Arbitrary<EvaluateInput> = fc.record({
  clientIp: fc.oneof(
    v4,
    v6,
    v4.map((a) => `::ffff:${a}`),
  ),
  serverIp: fc.oneof(fc.constant('127.0.0.1'), v4, v6),
  authenticated: fc.boolean(),
  mailFrom: fc.constantFrom('<>', '<sender@remote.example>', '<alice@example>'),
  rcptTo: rcpt,
  isKnownRecipient: fc.constantFrom(undefined, (a: string) => knownSet.has(a)),
});

const runs = { numRuns: 400 };

describe('properties of evaluate()', () => {
  it('never-route always wins: a client on the list never relays', () => {
    fc.assert(
      fc.property(config, input, (c, i) => {
        const onList = c.restrictions.neverRoute[0];
        fc.pre(onList !== undefined);
        const d = evaluate(c, { ...i, clientIp: onList!.ip });
        expect(d.action).not.toBe('relay');
      }),
      runs,
    );
  });

  it('ticking one more criterion never turns an allowed client into a denied one', () => {
    // From "none ticked" (everyone relays, rule 5) ticking the first one restricts by design,
    // so the property holds for configurations with at least one criterion ticked.
    const criteria = ['authenticated', 'clientAddresses', 'internalAddresses'] as const;
    fc.assert(
      fc.property(config, input, fc.constantFrom(...criteria), (c, i, extra) => {
        const r = c.restrictions;
        fc.pre(r.authenticated || r.clientAddresses.enabled || r.internalAddresses.enabled);
        const more: RoutingConfig = {
          ...c,
          restrictions:
            extra === 'authenticated'
              ? { ...r, authenticated: true }
              : { ...r, [extra]: { ...r[extra], enabled: true } },
        };
        if (evaluate(c, i).action === 'relay') expect(evaluate(more, i).action).toBe('relay');
      }),
      runs,
    );
  });

  it('a recipient in an <inbound> domain is never relayed', () => {
    fc.assert(
      fc.property(config, input, domain, localPart, (c, i, d, l) => {
        const withInbound: RoutingConfig = {
          ...c,
          routes: [{ sentTo: `#${d}`, routeTo: INBOUND }, ...c.routes],
        };
        const decision = evaluate(withInbound, { ...i, rcptTo: `<${l}@${d}>` });
        if (c.rerouteMode === 'reroute') expect(decision.action).not.toBe('relay');
        // And in general: whenever the matched entry is <inbound>, the action is not relay.
        const any = evaluate(c, i);
        if (any.route?.target.kind === 'inbound') expect(any.action).not.toBe('relay');
      }),
      runs,
    );
  });

  it('"Do not reroute" never relays', () => {
    fc.assert(
      fc.property(config, input, (c, i) => {
        expect(evaluate({ ...c, rerouteMode: 'no-reroute' }, i).action).not.toBe('relay');
      }),
      runs,
    );
  });

  it('the compiled engine agrees with the linear-scan reference', () => {
    fc.assert(
      fc.property(config, fc.array(input, { minLength: 1, maxLength: 10 }), (c, inputs) => {
        const policy = compile(c);
        for (const i of inputs) {
          const fast = evaluate(policy, i, { trace: false });
          const slow = evaluateLinear(c, i);
          expect({ ...fast, trace: [] }).toEqual({ ...slow, trace: [] });
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('properties of validate()', () => {
  const messyDomain = fc
    .tuple(domain, fc.boolean(), fc.boolean())
    .map(([d, upper, dot]) => `${upper ? d.toUpperCase() : d}${dot ? '.' : ''}`);
  const messyEntry = fc.record({
    ip: fc.oneof(
      v4,
      v6.map((a) => a.toUpperCase()),
    ),
    mask: fc.constantFrom('0', '8', '16', '24', '32', '64', '255.255.0.0', '/24'),
  });
  const messy = fc.record({
    siteDomain: messyDomain,
    rerouteMode: fc.constantFrom('reroute', 'no-reroute'),
    routes: fc.array(
      fc.record({
        sentTo: messyDomain,
        routeTo: fc.constantFrom('<INBOUND>', 'Host1:25', '[2001:DB8::1]'),
      }),
      {
        maxLength: 5,
      },
    ),
    restrictions: fc.record({
      authenticated: fc.boolean(),
      clientAddresses: fc.record({
        enabled: fc.boolean(),
        entries: fc.array(messyEntry, { maxLength: 4 }),
      }),
      internalAddresses: fc.record({
        enabled: fc.boolean(),
        entries: fc.array(messyEntry, { maxLength: 4 }),
      }),
      neverRoute: fc.array(messyEntry, { maxLength: 4 }),
    }),
    rejectUnknownRecipients: fc.boolean(),
  });

  it('normalising twice changes nothing', () => {
    fc.assert(
      fc.property(messy, (doc) => {
        const once = validate(doc);
        if (!once.ok) return; // e.g. a /64 on an IPv4 address: an error, not a normalisation
        const twice = validate(once.config);
        expect(twice).toEqual({ ok: true, config: once.config, notices: [] });
      }),
      runs,
    );
  });

  it('never throws on arbitrary JSON, and errors always carry a pointer and a message', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = validate(value);
        if (!r.ok)
          for (const e of r.errors)
            expect(typeof e.pointer === 'string' && e.message.length > 0).toBe(true);
      }),
      runs,
    );
  });
});
