import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INBOUND, type RoutingConfig } from './config';
import { decide, type Envelope } from './decide';
import { type Action, evaluate, locateDomain } from './evaluate';
import {
  type ImpactChange,
  impact,
  mergeImpacts,
  recipientDomainOf,
  type TrafficRecord,
  trafficKeyOf,
} from './impact';
import { config as makeConfig } from './testing/advice-cases';
import { validate } from './validate';

const counts = (c: Partial<Record<Action, number>>): Record<Action, number> => ({
  deliver: 0,
  relay: 0,
  reject: 0,
  'accept-ndr': 0,
  ...c,
});

const allowed = makeConfig({
  siteDomain: 'example.com',
  restrictions: {
    authenticated: true,
    clientAddresses: { enabled: true, entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }] },
  },
});
const withoutPrinter = makeConfig({
  siteDomain: 'example.com',
  restrictions: {
    authenticated: true,
    clientAddresses: { enabled: true, entries: [] },
  },
});

describe('impact(): rows whose action changes', () => {
  it('removing an allowed address lists it with the transactions it sent', () => {
    const records: TrafficRecord[] = [
      {
        clientIp: '127.0.0.2',
        serverIp: '127.0.0.1',
        authenticated: false,
        recipient: 'partner.example',
        local: false,
        counts: counts({ relay: 9 }),
      },
      {
        clientIp: '127.0.0.2',
        serverIp: '127.0.0.1',
        authenticated: false,
        recipient: 'other.example',
        local: false,
        counts: counts({ relay: 2 }),
      },
      {
        clientIp: '127.0.0.2',
        serverIp: '127.0.0.1',
        authenticated: false,
        recipient: 'alice@example.com',
        local: true,
        counts: counts({ deliver: 4 }),
      },
      {
        clientIp: '127.0.0.3',
        serverIp: '127.0.0.1',
        authenticated: true,
        recipient: 'partner.example',
        local: false,
        counts: counts({ relay: 5 }),
      },
    ];
    expect(impact(allowed, withoutPrinter, records)).toEqual({
      transactions: 20,
      changes: [
        {
          clientIp: '127.0.0.2',
          serverIp: '127.0.0.1',
          authenticated: false,
          recipientDomain: 'partner.example',
          before: 'relay',
          after: 'reject',
          count: 9,
        },
        {
          clientIp: '127.0.0.2',
          serverIp: '127.0.0.1',
          authenticated: false,
          recipientDomain: 'other.example',
          before: 'relay',
          after: 'reject',
          count: 2,
        },
      ],
    });
    // The same configuration changes nothing.
    expect(impact(allowed, allowed, records).changes).toEqual([]);
  });

  it('a domain that becomes local: its record is judged with a local part no mailbox has', () => {
    const inbound: RoutingConfig = {
      ...allowed,
      routes: [...allowed.routes, { sentTo: 'partner.example', routeTo: INBOUND }],
    };
    const record: TrafficRecord = {
      clientIp: '127.0.0.2',
      serverIp: '127.0.0.1',
      authenticated: false,
      recipient: 'partner.example',
      local: false,
      counts: counts({ relay: 3 }),
    };
    expect(impact(allowed, inbound, [record], ['alice@example.com']).changes).toEqual([
      expect.objectContaining({ before: 'relay', after: 'reject', count: 3 }),
    ]);
  });

  it("mergeImpacts: the nodes' rows summed and sorted again", () => {
    const row = {
      clientIp: '127.0.0.2',
      serverIp: '127.0.0.1',
      authenticated: false,
      before: 'relay' as const,
      after: 'reject' as const,
    };
    const merged = mergeImpacts([
      { transactions: 5, changes: [{ ...row, recipientDomain: 'a.example', count: 3 }] },
      {
        transactions: 7,
        changes: [
          { ...row, recipientDomain: 'b.example', count: 4 },
          { ...row, recipientDomain: 'a.example', count: 2 },
        ],
      },
    ]);
    expect(merged).toEqual({
      transactions: 12,
      changes: [
        { ...row, recipientDomain: 'a.example', count: 5 },
        { ...row, recipientDomain: 'b.example', count: 4 },
      ],
    });
  });

  it('ignores empty and nonsense counts', () => {
    const record: TrafficRecord = {
      clientIp: '127.0.0.2',
      serverIp: '127.0.0.1',
      authenticated: false,
      recipient: 'partner.example',
      local: false,
      counts: { deliver: -3, relay: Number.NaN, reject: 0, 'accept-ndr': 1.5 },
    };
    expect(impact(allowed, withoutPrinter, [record])).toEqual({ transactions: 0, changes: [] });
  });

  it('trafficKeyOf: the address of a local recipient, the domain of any other, nothing for a bad path', () => {
    const env: Envelope = {
      clientIp: '127.0.0.2',
      serverIp: '127.0.0.1',
      authenticated: false,
      mailFrom: '<>',
      rcptTo: '<Bob@Partner.Example>',
    };
    expect(trafficKeyOf(env, decide(allowed, env).decision)).toEqual({
      clientIp: '127.0.0.2',
      serverIp: '127.0.0.1',
      authenticated: false,
      recipient: 'partner.example',
      local: false,
    });
    const local = { ...env, rcptTo: '<Alice@EXAMPLE.com>' };
    expect(trafficKeyOf(local, decide(allowed, local).decision)).toMatchObject({
      recipient: 'Alice@example.com',
      local: true,
    });
    const bad = { ...env, rcptTo: '<a@b@c>' };
    expect(trafficKeyOf(bad, decide(allowed, bad).decision)).toBeUndefined();
  });
});

// ---- Property: the same as evaluating each recorded transaction one by one ----

const label = fc.constantFrom('a', 'b', 'ms', 'sea', 'example', 'com', 'org');
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.'));
const v4 = fc
  .tuple(fc.constantFrom(10, 127), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
  .map(([a, b, c]) => `${a}.0.${b}.${c}`);
const entry = fc.record({
  ip: v4,
  mask: fc.constantFrom('8', '24', '32', '255.255.255.255'),
});
const list = fc.record({ enabled: fc.boolean(), entries: fc.array(entry, { maxLength: 3 }) });
const config: fc.Arbitrary<RoutingConfig> = fc
  .record({
    siteDomain: domain,
    rerouteMode: fc.constantFrom('reroute' as const, 'no-reroute' as const),
    routes: fc.array(
      fc.record({
        sentTo: fc.tuple(fc.boolean(), domain).map(([exact, d]) => (exact ? `#${d}` : d)),
        routeTo: fc.constantFrom(INBOUND, 'host1', 'relay.example.net:2525'),
      }),
      { maxLength: 5 },
    ),
    restrictions: fc.record({
      authenticated: fc.boolean(),
      clientAddresses: list,
      internalAddresses: list,
      neverRoute: fc.array(entry, { maxLength: 2 }),
    }),
    rejectUnknownRecipients: fc.boolean(),
  })
  .map((doc) => {
    const r = validate(doc);
    if (!r.ok) throw new Error(`generator made an invalid document: ${JSON.stringify(r.errors)}`);
    return r.config;
  });

// 'postmaster' and mailboxes outside a domain local at recording time are left
// out: a record of a non-local recipient keeps the domain only (the module's note).
const localPart = fc.constantFrom('alice', 'bob', 'Carol');
const rcpt = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(localPart, domain).map(([l, d]) => `<${l}@${d}>`) },
  { weight: 1, arbitrary: fc.constantFrom('<Postmaster>', '<u@[127.0.0.1]>', '<u@[10.0.0.9]>') },
);
const transaction: fc.Arbitrary<Envelope> = fc.record({
  clientIp: fc.oneof(
    v4,
    v4.map((a) => `::ffff:${a}`),
  ),
  serverIp: fc.constantFrom('127.0.0.1', '10.0.1.1'),
  authenticated: fc.boolean(),
  mailFrom: fc.constantFrom('<>', '<sender@remote.example>'),
  rcptTo: rcpt,
});
const mailboxes = fc.array(fc.tuple(localPart, domain), { maxLength: 6 });

describe('impact(): property', () => {
  it('equals evaluating each recorded transaction one by one', () => {
    fc.assert(
      fc.property(
        config,
        config,
        fc.array(transaction, { maxLength: 40 }),
        mailboxes,
        (running, draft, transactions, boxes) => {
          // Mailboxes exist only under domains local to the running configuration.
          const directory = boxes
            .filter(([, d]) => locateDomain(running, d).local)
            .map(([l, d]) => `${l}@${d}`);
          const known = new Set(directory.map((a) => a.toLowerCase()));
          const isKnownRecipient = (a: string) => known.has(a.toLowerCase());

          // What a node records: the running configuration decides, the key is kept.
          const records = new Map<string, TrafficRecord>();
          const expected = new Map<string, ImpactChange>();
          let total = 0;
          for (const t of transactions) {
            const { decision } = decide(running, t, directory);
            const key = trafficKeyOf(t, decision);
            if (!key) continue;
            total++;
            const id = JSON.stringify(key);
            const r = records.get(id) ?? { ...key, counts: counts({}) };
            r.counts[decision.action]++;
            records.set(id, r);
            // The reference: this one transaction, before and after.
            const before = evaluate(running, { ...t, isKnownRecipient }).action;
            const after = evaluate(draft, { ...t, isKnownRecipient }).action;
            expect(before).toBe(decision.action);
            if (before === after) continue;
            const recipientDomain = recipientDomainOf(key);
            const g = JSON.stringify([
              t.clientIp,
              t.serverIp,
              t.authenticated,
              recipientDomain,
              before,
              after,
            ]);
            const row = expected.get(g);
            if (row) row.count++;
            else {
              expected.set(g, {
                clientIp: t.clientIp,
                serverIp: t.serverIp,
                authenticated: t.authenticated,
                recipientDomain,
                before,
                after,
                count: 1,
              });
            }
          }
          const result = impact(running, draft, records.values(), directory);
          expect(result.transactions).toBe(total);
          const byKey = (a: ImpactChange, b: ImpactChange) =>
            JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
          expect([...result.changes].sort(byKey)).toEqual([...expected.values()].sort(byKey));
          for (let i = 1; i < result.changes.length; i++) {
            expect(result.changes[i - 1]!.count).toBeGreaterThanOrEqual(result.changes[i]!.count);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
