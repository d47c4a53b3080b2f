import { describe, expect, it } from 'vitest';
import { compile } from './compile';
import { defaultConfig, type RoutingConfig } from './config';
import { type Action, type EvaluateInput, evaluate, locateDomain, type Reason } from './evaluate';

/** A config built from the defaults with some fields replaced. */
type ConfigPatch = Partial<Omit<RoutingConfig, 'restrictions'>> & {
  restrictions?: Partial<RoutingConfig['restrictions']>;
};

function config(patch: ConfigPatch = {}): RoutingConfig {
  const base = defaultConfig('example.com');
  return {
    ...base,
    ...patch,
    restrictions: { ...base.restrictions, ...patch.restrictions },
  };
}

const known = new Set(['alice@example.com', 'bob@example.com', 'carol@ms.com', 'dave@x.ms.com']);

function input(rcptTo: string, over: Partial<EvaluateInput> = {}): EvaluateInput {
  return {
    clientIp: '203.0.113.9',
    serverIp: '127.0.0.1',
    authenticated: false,
    mailFrom: '<sender@remote.example>',
    rcptTo,
    isKnownRecipient: (a) => known.has(a.toLowerCase()),
    ...over,
  };
}

interface Case {
  name: string;
  config: RoutingConfig;
  input: EvaluateInput;
  action: Action;
  reason: Reason;
  rule?: Record<string, unknown>;
  route?: Record<string, unknown>;
  nextHop?: unknown;
}

function run(cases: Case[]) {
  it.each(cases)('$name', (c) => {
    const d = evaluate(c.config, c.input);
    expect({ action: d.action, reason: d.reason }).toEqual({ action: c.action, reason: c.reason });
    if (c.rule) expect(d.rule).toMatchObject(c.rule);
    if (c.route) expect(d.route).toMatchObject(c.route);
    if (c.nextHop) expect(d.nextHop).toEqual(c.nextHop);
    expect(d.trace.length).toBeGreaterThan(0);
    // The compiled policy decides exactly as the config does.
    const compiled = evaluate(compile(c.config), c.input);
    expect(compiled).toEqual(d);
  });
}

// Q169683's worked example.
const q169683 = config({
  siteDomain: 'ms.com',
  routes: [
    { sentTo: 'ms.com', routeTo: 'host1' },
    { sentTo: '#ms.com', routeTo: '<inbound>' },
    { sentTo: 'x.ms.com', routeTo: '<inbound>' },
  ],
});

describe('rule 2: routing table matching (Q169683 worked example)', () => {
  run([
    {
      name: 'ms.com is inbound (#ms.com exact entry first)',
      config: q169683,
      input: input('<carol@ms.com>'),
      action: 'deliver',
      reason: 'local-delivery',
      rule: { kind: 'route', index: 1, sentTo: '#ms.com' },
    },
    {
      name: 'sales.ms.com goes to host1',
      config: q169683,
      input: input('<u@sales.ms.com>', { authenticated: true }),
      action: 'relay',
      reason: 'relay-authenticated',
      nextHop: { kind: 'host', host: 'host1' },
    },
    {
      name: 'x.ms.com is inbound',
      config: q169683,
      input: input('<dave@x.ms.com>'),
      action: 'deliver',
      reason: 'local-delivery',
      rule: { kind: 'route', index: 2 },
    },
    {
      name: 'abc.x.ms.com is inbound (most specific x.ms.com)',
      config: q169683,
      input: input('<u@abc.x.ms.com>', { isKnownRecipient: () => true }),
      action: 'deliver',
      reason: 'local-delivery',
      rule: { kind: 'route', index: 2 },
    },
    {
      name: 'pms.com has no match: outbound',
      config: q169683,
      input: input('<u@pms.com>', { authenticated: true }),
      action: 'relay',
      reason: 'relay-authenticated',
      nextHop: { kind: 'outbound', domain: 'pms.com' },
    },
  ]);
});

describe('rule 2: whole labels, most specific wherever it sits, # entries', () => {
  const sea = config({
    routes: [
      { sentTo: 'example.com', routeTo: '<inbound>' },
      { sentTo: 'com', routeTo: 'smart.example.net:2525' },
      { sentTo: 'sea.com', routeTo: '<inbound>' },
      { sentTo: 'deep.a.sea.com', routeTo: 'deep-host' },
      { sentTo: '#only.org', routeTo: '<inbound>' },
    ],
    rejectUnknownRecipients: false,
  });
  const auth = { authenticated: true, isKnownRecipient: () => true };
  run([
    {
      name: 'sea.com matches sea.com',
      config: sea,
      input: input('<u@sea.com>', auth),
      action: 'deliver',
      reason: 'local-delivery',
      rule: { index: 2 },
    },
    {
      name: 'x.sea.com matches sea.com',
      config: sea,
      input: input('<u@x.sea.com>', auth),
      action: 'deliver',
      reason: 'local-delivery',
      rule: { index: 2 },
    },
    {
      name: 'chelsea.com never matches sea.com (falls to com)',
      config: sea,
      input: input('<u@chelsea.com>', auth),
      action: 'relay',
      reason: 'relay-authenticated',
      route: { index: 1 },
      nextHop: { kind: 'host', host: 'smart.example.net', port: 2525 },
    },
    {
      name: 'an entry as broad as com',
      config: sea,
      input: input('<u@anything.com>', auth),
      action: 'relay',
      reason: 'relay-authenticated',
      route: { sentTo: 'com' },
    },
    {
      name: 'most specific wins though listed last',
      config: sea,
      input: input('<u@b.deep.a.sea.com>', auth),
      action: 'relay',
      reason: 'relay-authenticated',
      route: { index: 3 },
      nextHop: { kind: 'host', host: 'deep-host' },
    },
    {
      name: '#only.org matches only.org',
      config: sea,
      input: input('<u@only.org>', auth),
      action: 'deliver',
      reason: 'local-delivery',
      rule: { index: 4 },
    },
    {
      name: '#only.org does not match sub.only.org',
      config: sea,
      input: input('<u@sub.only.org>', auth),
      action: 'relay',
      reason: 'relay-authenticated',
      nextHop: { kind: 'outbound', domain: 'sub.only.org' },
    },
    {
      name: 'domains compare case-insensitively, trailing dot ignored',
      config: sea,
      input: input('<u@X.SEA.COM.>', auth),
      action: 'deliver',
      reason: 'local-delivery',
      rule: { index: 2 },
    },
  ]);
  it('order of entries does not change a decision', () => {
    const reversed = { ...sea, routes: [...sea.routes].reverse() };
    for (const rcpt of [
      '<u@sea.com>',
      '<u@x.sea.com>',
      '<u@chelsea.com>',
      '<u@b.deep.a.sea.com>',
      '<u@only.org>',
      '<u@sub.only.org>',
    ]) {
      const a = evaluate(sea, input(rcpt, auth));
      const b = evaluate(reversed, input(rcpt, auth));
      expect([b.action, b.reason, b.nextHop, b.route?.sentTo]).toEqual([
        a.action,
        a.reason,
        a.nextHop,
        a.route?.sentTo,
      ]);
    }
  });
});

describe('rules 1 and 3: local delivery is never restricted; everything else is relaying', () => {
  const locked = config({
    restrictions: { authenticated: true, neverRoute: [{ ip: '0.0.0.0', mask: '0.0.0.0' }] },
  });
  run([
    {
      name: 'anyone may send to a local mailbox',
      config: locked,
      input: input('<alice@example.com>'),
      action: 'deliver',
      reason: 'local-delivery',
    },
    {
      name: 'never-route does not block local delivery',
      config: locked,
      input: input('<bob@example.com>', { clientIp: '10.0.0.1' }),
      action: 'deliver',
      reason: 'local-delivery',
    },
    {
      name: 'outside recipient, unauthenticated: relay denied',
      config: config(),
      input: input('<victim@elsewhere.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'host route is relaying too',
      config: config({
        routes: [
          { sentTo: 'example.com', routeTo: '<inbound>' },
          { sentTo: 'branch.example', routeTo: '10.1.1.1:25' },
        ],
      }),
      input: input('<u@branch.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'site domain not listed: its mail would be relayed',
      config: config({ routes: [] }),
      input: input('<alice@example.com>'),
      action: 'reject',
      reason: 'relay-denied',
    },
  ]);
});

describe('rule 4: "Do not reroute"', () => {
  const noReroute = config({
    rerouteMode: 'no-reroute',
    rejectUnknownRecipients: false,
    routes: [{ sentTo: 'other.example', routeTo: '<inbound>' }],
  });
  run([
    {
      name: 'site domain mail is delivered',
      config: noReroute,
      input: input('<alice@example.com>'),
      action: 'deliver',
      reason: 'local-delivery',
    },
    {
      name: 'table not used: other.example is not local',
      config: noReroute,
      input: input('<u@other.example>'),
      action: 'accept-ndr',
      reason: 'no-reroute',
    },
    {
      name: 'outside recipient accepted then NDR to MAIL FROM (Q255695)',
      config: noReroute,
      input: input('<victim@elsewhere.example>'),
      action: 'accept-ndr',
      reason: 'no-reroute',
    },
    {
      name: 'even authenticated clients do not relay',
      config: noReroute,
      input: input('<x@elsewhere.example>', { authenticated: true }),
      action: 'accept-ndr',
      reason: 'no-reroute',
    },
    {
      name: 'with recipient rejection: rejected at RCPT',
      config: { ...noReroute, rejectUnknownRecipients: true },
      input: input('<victim@elsewhere.example>'),
      action: 'reject',
      reason: 'no-reroute',
    },
    {
      name: 'unknown local user: accept then NDR',
      config: noReroute,
      input: input('<nobody@example.com>'),
      action: 'accept-ndr',
      reason: 'unknown-recipient',
    },
  ]);
  it('the NDR goes to MAIL FROM; none for the null sender', () => {
    expect(
      evaluate(noReroute, input('<v@elsewhere.example>', { mailFrom: '<Victim@Target.EXAMPLE>' }))
        .ndrTo,
    ).toBe('Victim@target.example');
    expect(
      evaluate(noReroute, input('<v@elsewhere.example>', { mailFrom: '<>' })).ndrTo,
    ).toBeNull();
  });
});

describe('rule 5: restrictions are OR-ed; none ticked means everyone relays', () => {
  const none = config({ restrictions: { authenticated: false } });
  const all = config({
    restrictions: {
      authenticated: true,
      clientAddresses: { enabled: true, entries: [{ ip: '192.168.1.0', mask: '255.255.255.0' }] },
      internalAddresses: { enabled: true, entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }] },
      neverRoute: [],
    },
  });
  run([
    {
      name: 'none ticked: a stranger relays (open relay)',
      config: none,
      input: input('<v@elsewhere.example>'),
      action: 'relay',
      reason: 'relay-unrestricted',
      rule: { kind: 'criterion', criterion: 'no-restrictions' },
    },
    {
      name: 'authenticated criterion holds',
      config: all,
      input: input('<v@elsewhere.example>', { authenticated: true }),
      action: 'relay',
      reason: 'relay-authenticated',
    },
    {
      name: 'client address criterion holds',
      config: all,
      input: input('<v@elsewhere.example>', { clientIp: '192.168.1.77' }),
      action: 'relay',
      reason: 'relay-client-address',
      rule: { list: 'clientAddresses', index: 0 },
    },
    {
      name: 'internal address criterion holds',
      config: all,
      input: input('<v@elsewhere.example>', { serverIp: '127.0.0.2' }),
      action: 'relay',
      reason: 'relay-internal-address',
      rule: { list: 'internalAddresses', index: 0 },
    },
    {
      name: 'none holds: denied',
      config: all,
      input: input('<v@elsewhere.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'ticked list with an address outside it: denied',
      config: all,
      input: input('<v@elsewhere.example>', { clientIp: '192.168.2.1' }),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'unticked list is not consulted',
      config: config({
        restrictions: {
          authenticated: true,
          clientAddresses: { enabled: false, entries: [{ ip: '203.0.113.0', mask: '24' }] },
        },
      }),
      input: input('<v@elsewhere.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'ticked empty list counts as ticked (not open)',
      config: config({
        restrictions: { authenticated: false, clientAddresses: { enabled: true, entries: [] } },
      }),
      input: input('<v@elsewhere.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'IPv4-mapped client address matches IPv4 entries',
      config: all,
      input: input('<v@elsewhere.example>', { clientIp: '::ffff:192.168.1.5' }),
      action: 'relay',
      reason: 'relay-client-address',
    },
    {
      name: 'unreadable client address fails closed',
      config: all,
      input: input('<v@elsewhere.example>', { clientIp: 'garbage' }),
      action: 'reject',
      reason: 'relay-denied',
    },
  ]);
});

describe('rule 6: never-route first; IP + mask matching', () => {
  const c = config({
    restrictions: {
      authenticated: true,
      clientAddresses: {
        enabled: true,
        entries: [
          { ip: '10.0.0.0', mask: '255.0.0.0' },
          { ip: '2001:db8::', mask: '32' },
        ],
      },
      internalAddresses: { enabled: false, entries: [] },
      neverRoute: [
        { ip: '10.9.9.9', mask: '255.255.255.255' },
        { ip: '2001:db8:bad::', mask: '48' },
      ],
    },
  });
  run([
    {
      name: 'never-route beats the client list',
      config: c,
      input: input('<v@elsewhere.example>', { clientIp: '10.9.9.9' }),
      action: 'reject',
      reason: 'never-route',
      rule: { list: 'neverRoute', index: 0 },
    },
    {
      name: 'never-route beats authentication',
      config: c,
      input: input('<v@elsewhere.example>', { clientIp: '10.9.9.9', authenticated: true }),
      action: 'reject',
      reason: 'never-route',
    },
    {
      name: 'neighbour of a never-route host relays by the list',
      config: c,
      input: input('<v@elsewhere.example>', { clientIp: '10.9.9.8' }),
      action: 'relay',
      reason: 'relay-client-address',
      rule: { index: 0 },
    },
    {
      name: 'IPv6 prefix allow',
      config: c,
      input: input('<v@elsewhere.example>', { clientIp: '2001:db8:1::7' }),
      action: 'relay',
      reason: 'relay-client-address',
      rule: { index: 1 },
    },
    {
      name: 'IPv6 never-route inside an allowed prefix',
      config: c,
      input: input('<v@elsewhere.example>', { clientIp: '2001:db8:bad::1' }),
      action: 'reject',
      reason: 'never-route',
      rule: { index: 1 },
    },
    {
      name: 'IPv6 outside',
      config: c,
      input: input('<v@elsewhere.example>', { clientIp: '2001:db9::1' }),
      action: 'reject',
      reason: 'relay-denied',
    },
  ]);
  it('list order does not matter', () => {
    const r = c.restrictions;
    const reversed = {
      ...c,
      restrictions: {
        ...r,
        neverRoute: [...r.neverRoute].reverse(),
        clientAddresses: {
          ...r.clientAddresses,
          entries: [...r.clientAddresses.entries].reverse(),
        },
      },
    };
    for (const ip of ['10.9.9.9', '10.9.9.8', '2001:db8:1::7', '2001:db8:bad::1', '2001:db9::1']) {
      const a = evaluate(c, input('<v@elsewhere.example>', { clientIp: ip }));
      const b = evaluate(reversed, input('<v@elsewhere.example>', { clientIp: ip }));
      expect([b.action, b.reason]).toEqual([a.action, a.reason]);
    }
  });
  it('the most specific matching entry is reported', () => {
    const nested = config({
      restrictions: {
        authenticated: false,
        clientAddresses: {
          enabled: true,
          entries: [
            { ip: '10.0.0.0', mask: '8' },
            { ip: '10.1.0.0', mask: '16' },
          ],
        },
      },
    });
    expect(evaluate(nested, input('<v@e.example>', { clientIp: '10.1.2.3' })).rule).toMatchObject({
      index: 1,
      mask: '255.255.0.0',
    });
    expect(evaluate(nested, input('<v@e.example>', { clientIp: '10.2.2.3' })).rule).toMatchObject({
      index: 0,
    });
  });
});

describe('rules 7, 8, 11 and recipient rejection', () => {
  run([
    {
      name: 'defaults: stranger cannot relay',
      config: config(),
      input: input('<v@elsewhere.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'defaults: authenticated user relays',
      config: config(),
      input: input('<v@elsewhere.example>', { authenticated: true }),
      action: 'relay',
      reason: 'relay-authenticated',
    },
    {
      name: 'defaults: site domain is inbound',
      config: config(),
      input: input('<alice@example.com>'),
      action: 'deliver',
      reason: 'local-delivery',
    },
    {
      name: 'defaults: unknown local user rejected at RCPT',
      config: config(),
      input: input('<nobody@example.com>'),
      action: 'reject',
      reason: 'unknown-recipient',
    },
    {
      name: 'rejection off: unknown local user accepted then NDR',
      config: config({ rejectUnknownRecipients: false }),
      input: input('<nobody@example.com>'),
      action: 'accept-ndr',
      reason: 'unknown-recipient',
    },
    {
      name: 'no directory callback: local addresses are taken to exist',
      config: config(),
      input: input('<nobody@example.com>', { isKnownRecipient: undefined }),
      action: 'deliver',
      reason: 'local-delivery',
    },
  ]);
  it('defaults match docs/design.md §2 rule 11', () => {
    expect(defaultConfig('corp.example')).toEqual({
      siteDomain: 'corp.example',
      rerouteMode: 'reroute',
      routes: [{ sentTo: 'corp.example', routeTo: '<inbound>' }],
      restrictions: {
        authenticated: true,
        clientAddresses: { enabled: false, entries: [] },
        internalAddresses: { enabled: false, entries: [] },
        neverRoute: [],
      },
      rejectUnknownRecipients: true,
    });
  });
});

describe('postmaster, address literals, relay tricks', () => {
  run([
    {
      name: '<Postmaster> is always accepted',
      config: config(),
      input: input('<Postmaster>', { isKnownRecipient: () => false }),
      action: 'deliver',
      reason: 'postmaster',
    },
    {
      name: 'postmaster@site domain, any case',
      config: config(),
      input: input('<PostMaster@Example.COM>', { isKnownRecipient: () => false }),
      action: 'deliver',
      reason: 'postmaster',
    },
    {
      name: 'postmaster@ another domain is not special',
      config: config(),
      input: input('<postmaster@elsewhere.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: '% hack stays local and unknown',
      config: config(),
      input: input('<victim%elsewhere.example@example.com>'),
      action: 'reject',
      reason: 'unknown-recipient',
    },
    {
      name: 'bang path stays local and unknown',
      config: config(),
      input: input('<elsewhere.example!victim@example.com>'),
      action: 'reject',
      reason: 'unknown-recipient',
    },
    {
      name: 'quoted @ stays local and unknown',
      config: config(),
      input: input('<"victim@elsewhere.example"@example.com>'),
      action: 'reject',
      reason: 'unknown-recipient',
    },
    {
      name: 'double @ is a bad address',
      config: config(),
      input: input('<victim@elsewhere.example@example.com>'),
      action: 'reject',
      reason: 'bad-address',
    },
    {
      name: 'source route ignored, judged by the final mailbox',
      config: config(),
      input: input('<@example.com:victim@elsewhere.example>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'source route to a local mailbox',
      config: config(),
      input: input('<@relay.example:alice@example.com>'),
      action: 'deliver',
      reason: 'local-delivery',
    },
    {
      name: 'address literal of this server is local',
      config: config(),
      input: input('<alice@[127.0.0.1]>'),
      action: 'deliver',
      reason: 'local-delivery',
    },
    {
      name: 'address literal of this server with % hack: unknown local',
      config: config(),
      input: input('<victim%elsewhere.example@[127.0.0.1]>'),
      action: 'reject',
      reason: 'unknown-recipient',
    },
    {
      name: 'address literal of another host is relaying',
      config: config(),
      input: input('<victim@[192.0.2.1]>'),
      action: 'reject',
      reason: 'relay-denied',
    },
    {
      name: 'bad MAIL FROM',
      config: config(),
      input: input('<alice@example.com>', { mailFrom: '<a@@b>' }),
      action: 'reject',
      reason: 'bad-sender',
    },
    {
      name: 'forged local MAIL FROM grants nothing',
      config: config(),
      input: input('<v@elsewhere.example>', { mailFrom: '<alice@example.com>' }),
      action: 'reject',
      reason: 'relay-denied',
    },
  ]);
});

describe('evaluate() input handling', () => {
  it('a trace can be turned off', () => {
    expect(evaluate(config(), input('<alice@example.com>'), { trace: false }).trace).toEqual([]);
  });
  it("the trace speaks in the dialog's words", () => {
    const d = evaluate(config(), input('<v@elsewhere.example>'));
    expect(d.trace.join('\n')).toMatch(/relaying: the routing restrictions apply/);
    expect(d.trace.join('\n')).toMatch(/did not authenticate/);
  });
  it('an invalid config is refused, not evaluated', () => {
    const bad = { ...config(), routes: [{ sentTo: 'not a domain', routeTo: '<inbound>' }] };
    expect(() => evaluate(bad, input('<a@example.com>'))).toThrow(/\/routes\/0\/sentTo/);
  });
});

describe('regressions from the security review', () => {
  it('a config changed in place is evaluated as it is now', () => {
    const c = config();
    c.restrictions.authenticated = false;
    c.restrictions.clientAddresses = { enabled: true, entries: [{ ip: '10.9.9.0', mask: '24' }] };
    const i = input('<v@elsewhere.example>', { clientIp: '10.9.9.9' });
    expect(evaluate(c, i).action).toBe('relay');
    c.restrictions.neverRoute.push({ ip: '10.9.9.9', mask: '255.255.255.255' });
    expect(evaluate(c, i).reason).toBe('never-route');
  });

  it('fails closed on a missing client address, and only a real true is authenticated', () => {
    const bad = input('<v@elsewhere.example>', { clientIp: undefined as unknown as string });
    expect(evaluate(config(), bad)).toMatchObject({ action: 'reject', reason: 'relay-denied' });
    const truthy = input('<v@elsewhere.example>', { authenticated: 'false' as unknown as boolean });
    expect(evaluate(config(), truthy)).toMatchObject({ action: 'reject', reason: 'relay-denied' });
  });

  it('an untraced decision cannot be written into', () => {
    const d = evaluate(config(), input('<alice@example.com>'), { trace: false });
    expect(() => d.trace.push('x')).toThrow();
  });
});

describe('locateDomain: where mail the service originates goes', () => {
  const config = defaultConfig('example.com');
  config.routes.push(
    { sentTo: 'ms.com', routeTo: 'host1' },
    { sentTo: '#ms.com', routeTo: '<inbound>' },
  );
  it.each([
    ['example.com', true, '<inbound>'],
    ['ms.com', true, '<inbound>'],
    ['sales.ms.com', false, 'host1'],
    ['elsewhere.example', false, undefined],
  ])('%s → local %s, route %s', (domain, local, routeTo) => {
    const where = locateDomain(config, domain);
    expect(where.local).toBe(local);
    expect(where.route?.routeTo).toBe(routeTo);
  });
  it('"Do not reroute" knows only the site domain', () => {
    const off = { ...config, rerouteMode: 'no-reroute' as const };
    expect(locateDomain(off, 'example.com')).toEqual({ local: true });
    expect(locateDomain(off, 'ms.com')).toEqual({ local: false });
  });
});
