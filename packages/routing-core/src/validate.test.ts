import { describe, expect, it } from 'vitest';
import { compile } from './compile';
import { defaultConfig, type RoutingConfig } from './config';
import { normalizeEntry, normalizeRoute, parseRouteTarget, validate } from './validate';

function doc(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...defaultConfig('example.com'), ...patch };
}

function restrictions(patch: Record<string, unknown>): Record<string, unknown> {
  return doc({ restrictions: { ...defaultConfig('example.com').restrictions, ...patch } });
}

/** The defaults, typed, with `patch` applied. */
function base(patch: Partial<RoutingConfig> = {}): RoutingConfig {
  return { ...defaultConfig('example.com'), ...patch };
}

function errors(d: unknown) {
  const r = validate(d);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

function ok(d: unknown): RoutingConfig {
  const r = validate(d);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

describe('validate: the example document of docs/design.md §2', () => {
  it('accepts it and keeps it as it is', () => {
    const example = {
      siteDomain: 'example.com',
      rerouteMode: 'reroute',
      routes: [
        { sentTo: 'example.com', routeTo: '<inbound>' },
        { sentTo: '#ms.com', routeTo: '<inbound>' },
        { sentTo: 'chicago.example.com', routeTo: 'mail2.example.com:2525' },
      ],
      restrictions: {
        authenticated: true,
        clientAddresses: {
          enabled: false,
          entries: [{ ip: '192.168.1.0', mask: '255.255.255.0' }],
        },
        internalAddresses: { enabled: false, entries: [] },
        neverRoute: [{ ip: '10.9.9.9', mask: '255.255.255.255' }],
      },
      rejectUnknownRecipients: true,
    };
    const r = validate(example);
    expect(r).toEqual({ ok: true, config: example, notices: [] });
  });
});

describe('validate: errors carry JSON Pointers and change nothing', () => {
  it.each([
    ['not an object', 'nope', ''],
    ['missing field', { ...doc(), siteDomain: undefined }, '/siteDomain'],
    ['unknown field', doc({ rerouteMod: 'x' }), '/rerouteMod'],
    ['bad mode', doc({ rerouteMode: 'sometimes' }), '/rerouteMode'],
    ['bad site domain', doc({ siteDomain: 'exa mple.com' }), '/siteDomain'],
    [
      'bad sentTo',
      doc({
        routes: [
          { sentTo: 'example.com', routeTo: '<inbound>' },
          { sentTo: 'a..b', routeTo: '<inbound>' },
        ],
      }),
      '/routes/1/sentTo',
    ],
    [
      'bad routeTo',
      doc({ routes: [{ sentTo: 'a.example', routeTo: 'host:99999' }] }),
      '/routes/0/routeTo',
    ],
    ['routes not a list', doc({ routes: {} }), '/routes'],
    [
      'bad ip',
      restrictions({ neverRoute: [{ ip: '10.0.0.256', mask: '255.255.255.255' }] }),
      '/restrictions/neverRoute/0/ip',
    ],
    [
      'non-contiguous mask',
      restrictions({
        clientAddresses: { enabled: true, entries: [{ ip: '10.0.0.0', mask: '255.0.255.0' }] },
      }),
      '/restrictions/clientAddresses/entries/0/mask',
    ],
    [
      'IPv6 with dotted mask',
      restrictions({
        clientAddresses: { enabled: true, entries: [{ ip: '2001:db8::', mask: '255.255.0.0' }] },
      }),
      '/restrictions/clientAddresses/entries/0/mask',
    ],
    [
      'prefix too long',
      restrictions({
        internalAddresses: { enabled: true, entries: [{ ip: '10.0.0.1', mask: '33' }] },
      }),
      '/restrictions/internalAddresses/entries/0/mask',
    ],
    [
      'enabled not a boolean',
      restrictions({ internalAddresses: { enabled: 'yes', entries: [] } }),
      '/restrictions/internalAddresses/enabled',
    ],
    [
      'IP given as a domain',
      doc({ routes: [{ sentTo: '10.1.2.3', routeTo: '<inbound>' }] }),
      '/routes/0/sentTo',
    ],
  ])('%s → %s', (_name, input, pointer) => {
    const errs = errors(input);
    expect(errs.map((e) => e.pointer)).toContain(pointer);
    for (const e of errs) expect(e.message.length).toBeGreaterThan(5);
  });

  it('reports every error at once', () => {
    const errs = errors(
      doc({ siteDomain: '', rerouteMode: 1, routes: [{ sentTo: '-a.com', routeTo: 'x:0' }] }),
    );
    expect(errs.map((e) => e.pointer).sort()).toEqual([
      '/rerouteMode',
      '/routes/0/routeTo',
      '/routes/0/sentTo',
      '/siteDomain',
    ]);
  });

  it('does not change the input', () => {
    const input = doc({ siteDomain: 'EXAMPLE.COM.' });
    const copy = JSON.parse(JSON.stringify(input));
    validate(input);
    expect(input).toEqual(copy);
  });
});

describe('validate: normalisation', () => {
  it('domains: lower case, no trailing dot, IDN to A-label, # kept', () => {
    const c = ok(
      doc({
        siteDomain: 'Example.COM.',
        routes: [
          { sentTo: ' Example.com ', routeTo: '<INBOUND>' },
          { sentTo: '#Bücher.example', routeTo: 'Mail.Bücher.example:25' },
          { sentTo: '例え.テスト', routeTo: '[2001:DB8:0::1]:2525' },
        ],
      }),
    );
    expect(c.siteDomain).toBe('example.com');
    expect(c.routes).toEqual([
      { sentTo: 'example.com', routeTo: '<inbound>' },
      { sentTo: '#xn--bcher-kva.example', routeTo: 'mail.xn--bcher-kva.example:25' },
      { sentTo: 'xn--r8jz45g.xn--zckzah', routeTo: '[2001:db8::1]:2525' },
    ]);
  });

  it('masks: prefix length to dotted for IPv4, IPv6 kept as prefix; default mask is one host', () => {
    const c = ok(
      restrictions({
        clientAddresses: {
          enabled: true,
          entries: [
            { ip: '192.168.1.0', mask: '24' },
            { ip: '2001:DB8:0::', mask: '/64' },
            { ip: '10.1.1.1' },
            { ip: '2001:db8::5' },
          ],
        },
      }),
    );
    expect(c.restrictions.clientAddresses.entries).toEqual([
      { ip: '192.168.1.0', mask: '255.255.255.0' },
      { ip: '2001:db8::', mask: '64' },
      { ip: '10.1.1.1', mask: '255.255.255.255' },
      { ip: '2001:db8::5', mask: '128' },
    ]);
  });

  it('host bits are cleared and reported', () => {
    const r = validate(
      restrictions({ neverRoute: [{ ip: '192.168.1.77', mask: '255.255.255.0' }] }),
    );
    expect(r.ok && r.config.restrictions.neverRoute).toEqual([
      { ip: '192.168.1.0', mask: '255.255.255.0' },
    ]);
    expect(r.ok && r.notices).toEqual([
      {
        pointer: '/restrictions/neverRoute/0',
        code: 'host-bits-set',
        message: expect.stringContaining('192.168.1.0'),
      },
    ]);
  });

  it('an IPv4-mapped IPv6 range becomes the IPv4 range it stands for', () => {
    const c = ok(restrictions({ neverRoute: [{ ip: '::ffff:10.9.0.0', mask: '112' }] }));
    expect(c.restrictions.neverRoute).toEqual([{ ip: '10.9.0.0', mask: '255.255.0.0' }]);
  });

  it('normalising twice changes nothing', () => {
    const once = ok(
      doc({ siteDomain: 'A.Example.', routes: [{ sentTo: '#X.Y.', routeTo: 'H:25' }] }),
    );
    expect(ok(once)).toEqual(once);
  });
});

describe('parseRouteTarget', () => {
  it.each([
    ['<inbound>', { kind: 'inbound' }],
    ['mail2.example.com', { kind: 'host', host: 'mail2.example.com', hostKind: 'name' }],
    [
      'mail2.example.com:2525',
      { kind: 'host', host: 'mail2.example.com', port: 2525, hostKind: 'name' },
    ],
    ['192.0.2.1:25', { kind: 'host', host: '192.0.2.1', port: 25, hostKind: 'ipv4' }],
    ['[2001:db8::1]', { kind: 'host', host: '2001:db8::1', hostKind: 'ipv6' }],
  ])('%s', (text, expected) => {
    expect(parseRouteTarget(text)).toEqual(expected);
  });
  it.each(['2001:db8::1', 'host:0', 'host:65536', 'host:', '[2001:db8::1', '[x]:25', 'bad_host'])(
    '%s is refused',
    (text) => {
      expect(parseRouteTarget(text)).toHaveProperty('error');
    },
  );
});

describe('route hosts: errors that name the mistake, literals as SMTP writes them', () => {
  it.each([
    ['[127.0.0.1]:2727', { kind: 'host', host: '127.0.0.1', port: 2727, hostKind: 'ipv4' }],
    ['[192.0.2.1]', { kind: 'host', host: '192.0.2.1', hostKind: 'ipv4' }],
    ['[IPv6:2001:DB8::1]:25', { kind: 'host', host: '2001:db8::1', port: 25, hostKind: 'ipv6' }],
    ['[2001:db8:0::1]', { kind: 'host', host: '2001:db8::1', hostKind: 'ipv6' }],
  ])('%s is accepted', (text, expected) => {
    expect(parseRouteTarget(text)).toEqual(expected);
  });

  it.each(['smtp://host', 'SMTP://mail.example.net:25', 'smtps://[::1]:465', 'http://x/'])(
    '%s is a URL, and the message says so',
    (text) => {
      expect(parseRouteTarget(text)).toEqual({
        error: 'Write a host name or address, with an optional :port, not a URL.',
      });
    },
  );

  it.each([
    ['[127.0.0.1]:2727', '127.0.0.1:2727'],
    ['[IPv6:2001:db8::1]', '[2001:db8::1]'],
    ['MAIL.Example.NET.:25', 'mail.example.net:25'],
  ])('%s is stored as %s, and compiles to a usable next hop', (routeTo, stored) => {
    const saved = validate({ ...base(), routes: [{ sentTo: 'partner.example', routeTo }] });
    expect(saved.ok && saved.config.routes[0]?.routeTo).toBe(stored);
    const hop = compile(base({ routes: [{ sentTo: 'partner.example', routeTo }] })).findRoute(
      'partner.example',
    )?.nextHop;
    const target = parseRouteTarget(stored);
    expect(hop).toEqual(
      'error' in target || target.kind !== 'host'
        ? undefined
        : target.port === undefined
          ? { kind: 'host', host: target.host }
          : { kind: 'host', host: target.host, port: target.port },
    );
  });

  it('a URL in a document is an error on routeTo', () => {
    const r = validate({
      ...base(),
      routes: [{ sentTo: 'partner.example', routeTo: 'smtp://host' }],
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        {
          pointer: '/routes/0/routeTo',
          code: 'invalid-route-target',
          message: 'Write a host name or address, with an optional :port, not a URL.',
        },
      ],
    });
  });
});

describe('normalizeEntry and normalizeRoute: what the web shows as soon as it is entered', () => {
  it.each([
    [
      { ip: '192.168.1.7', mask: '24' },
      {
        ok: true,
        value: { ip: '192.168.1.0', mask: '255.255.255.0' },
        notice: expect.stringContaining('host bits'),
      },
    ],
    [{ ip: '10.0.0.1' }, { ok: true, value: { ip: '10.0.0.1', mask: '255.255.255.255' } }],
    [
      { ip: '2001:DB8::', mask: '/32' },
      { ok: true, value: { ip: '2001:db8::', mask: '32' } },
    ],
    [
      { ip: '::ffff:10.0.0.0', mask: '104' },
      {
        ok: true,
        value: { ip: '10.0.0.0', mask: '255.0.0.0' },
        notice: expect.stringContaining('IPv4-mapped'),
      },
    ],
    [{ ip: '10.0.0.256' }, { ok: false, errors: [{ field: 'ip', message: expect.any(String) }] }],
    [
      { ip: '10.0.0.0', mask: '255.0.255.0' },
      { ok: false, errors: [{ field: 'mask', message: expect.stringContaining('contiguous') }] },
    ],
  ])('%j', (entry, expected) => {
    expect(normalizeEntry(entry)).toEqual(expected);
  });

  it.each([
    [
      { sentTo: '#MS.COM.', routeTo: '[127.0.0.1]:2727' },
      { ok: true, value: { sentTo: '#ms.com', routeTo: '127.0.0.1:2727' } },
    ],
    [
      { sentTo: 'bücher.example', routeTo: '<INBOUND>' },
      { ok: true, value: { sentTo: 'xn--bcher-kva.example', routeTo: '<inbound>' } },
    ],
    [
      { sentTo: 'bad..domain', routeTo: 'smtp://host' },
      {
        ok: false,
        errors: [
          { field: 'sentTo', message: expect.any(String) },
          {
            field: 'routeTo',
            message: 'Write a host name or address, with an optional :port, not a URL.',
          },
        ],
      },
    ],
  ])('%j', (route, expected) => {
    expect(normalizeRoute(route)).toEqual(expected);
  });

  it('agrees with validate()', () => {
    const route = { sentTo: 'Sales.Example.', routeTo: '[IPv6:2001:db8::25]:2525' };
    const entry = { ip: '192.0.2.77', mask: '255.255.255.0' };
    const saved = validate({
      ...base(),
      routes: [route],
      restrictions: { ...base().restrictions, neverRoute: [entry] },
    });
    const n = normalizeRoute(route);
    const e = normalizeEntry(entry);
    expect(saved.ok && saved.config.routes[0]).toEqual(n.ok && n.value);
    expect(saved.ok && saved.config.restrictions.neverRoute[0]).toEqual(e.ok && e.value);
  });
});
