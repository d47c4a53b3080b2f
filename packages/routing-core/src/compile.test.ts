import { describe, expect, it } from 'vitest';
import { compile, InvalidConfigError, Policy } from './compile';
import { defaultConfig, type Route, type RoutingConfig } from './config';
import { parseIp } from './ip';

function withRoutes(routes: Route[]): RoutingConfig {
  return { ...defaultConfig('example.com'), routes };
}

describe('Policy.findRoute', () => {
  // "0c" and "na" have the same suffix hash (99*31+48 = 97*31+110): the lookup
  // must still tell them apart by their text.
  const colliding = compile(
    withRoutes([
      { sentTo: '0c.example', routeTo: 'host1' },
      { sentTo: 'na.example', routeTo: '<inbound>' },
      { sentTo: '#0c.test', routeTo: 'host2' },
      { sentTo: '#na.test', routeTo: '<inbound>' },
    ]),
  );

  it.each([
    ['0c.example', '0c.example'],
    ['na.example', 'na.example'],
    ['x.0c.example', '0c.example'],
    ['y.x.na.example', 'na.example'],
    ['0c.test', '#0c.test'],
    ['na.test', '#na.test'],
    ['x.na.test', undefined],
    ['zz.example', undefined],
    ['example', undefined],
  ])('%s → %s, even when suffix hashes collide', (domain, sentTo) => {
    expect(colliding.findRoute(domain)?.sentTo).toBe(sentTo);
  });

  it('a duplicate "Sent to" keeps the first entry', () => {
    const p = compile(
      withRoutes([
        { sentTo: 'a.example', routeTo: 'first' },
        { sentTo: 'a.example', routeTo: 'second' },
      ]),
    );
    expect(p.findRoute('x.a.example')).toMatchObject({ index: 0, routeTo: 'first' });
  });

  it('finds nothing in an empty table', () => {
    expect(compile(withRoutes([])).findRoute('example.com')).toBeUndefined();
  });

  it('scales to many entries: each one found, most specific first', () => {
    const routes: Route[] = [];
    for (let i = 0; i < 5000; i++) routes.push({ sentTo: `d${i}.example`, routeTo: `h${i}` });
    routes.push({ sentTo: 'example', routeTo: '<inbound>' });
    const p = compile(withRoutes(routes));
    for (let i = 0; i < 5000; i += 97) {
      expect(p.findRoute(`mx.d${i}.example`)?.routeTo).toBe(`h${i}`);
    }
    expect(p.findRoute('d5000.example')?.sentTo).toBe('example');
  });

  it('#domain and plain entries for one domain share a key: each answers its own lookups', () => {
    const p = compile(
      withRoutes([
        { sentTo: 'a.example', routeTo: 'plain' },
        { sentTo: '#a.example', routeTo: 'exact' },
        { sentTo: '#b.example', routeTo: 'exact-only' },
        { sentTo: '#b.example', routeTo: 'exact-again' },
      ]),
    );
    expect(p.findRoute('a.example')?.routeTo).toBe('exact');
    expect(p.findRoute('x.a.example')?.routeTo).toBe('plain');
    expect(p.findRoute('b.example')?.routeTo).toBe('exact-only');
    // An exact entry never matches a subdomain, even when its key is found on the way.
    expect(p.findRoute('x.b.example')).toBeUndefined();
  });

  it('every entry of a table that grew many times is found by its own text only', () => {
    const routes: Route[] = [];
    for (let i = 0; i < 3000; i++) {
      routes.push({ sentTo: `${i % 2 ? '#' : ''}n${i}.example`, routeTo: `h${i}` });
    }
    const p = compile(withRoutes(routes));
    for (let i = 0; i < 3000; i++) {
      expect(p.findRoute(`n${i}.example`)?.routeTo).toBe(`h${i}`);
      expect(p.findRoute(`mx.n${i}.example`)?.routeTo).toBe(i % 2 ? undefined : `h${i}`);
    }
    expect(p.findRoute('n3000.example')).toBeUndefined();
  });

  it('a text longer than any domain (more labels than the scratch holds) still finds the most specific entry', () => {
    const p = compile(
      withRoutes([
        { sentTo: 'example', routeTo: 'outer' },
        { sentTo: 'a.a.sea.example', routeTo: 'inner' },
      ]),
    );
    expect(p.findRoute(`${'a.'.repeat(300)}sea.example`)?.routeTo).toBe('inner');
    expect(p.findRoute(`${'b.'.repeat(300)}sea.example`)?.routeTo).toBe('outer');
  });

  it('findRouteIn looks up the domain inside a longer text, as findRoute on that slice', () => {
    const p = compile(
      withRoutes([
        { sentTo: 'sea.example', routeTo: 'sea-host' },
        { sentTo: '#lake.example', routeTo: 'lake-host' },
      ]),
    );
    const text = '<bob@x.sea.example>';
    expect(p.findRouteIn(text, 5, text.length - 1)?.routeTo).toBe('sea-host');
    // The characters around the range take no part: "x.sea.example>" is not a route.
    const lake = '<a@lake.example>';
    expect(p.findRouteIn(lake, 3, lake.length - 1)?.routeTo).toBe('lake-host');
    expect(p.findRouteIn(lake, 2, lake.length - 1)).toBeUndefined();
  });
});

describe('compile', () => {
  it('refuses an invalid config with every error', () => {
    const bad = {
      ...defaultConfig('example.com'),
      siteDomain: 'bad domain',
      routes: [{ sentTo: '', routeTo: 'x' }],
    };
    try {
      compile(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidConfigError);
      expect((e as InvalidConfigError).errors.map((x) => x.pointer)).toEqual([
        '/siteDomain',
        '/routes/0/sentTo',
      ]);
    }
  });
});

describe('regressions from the security review', () => {
  it('a crafted label whose suffix hash collides with a shorter entry cannot steal the match', () => {
    // hash("hy0iafny.partner.example.com") === hash("example.com"): found by search.
    const partner = compile(
      withRoutes([
        { sentTo: 'example.com', routeTo: '<inbound>' },
        { sentTo: 'partner.example.com', routeTo: 'relay.partner.net' },
      ]),
    );
    expect(partner.findRoute('a.hy0iafny.partner.example.com')?.sentTo).toBe('partner.example.com');
    expect(partner.findRoute('a.hy0iafnz.partner.example.com')?.sentTo).toBe('partner.example.com');
    const internal = compile(
      withRoutes([
        { sentTo: 'example.com', routeTo: 'smart.example.net' },
        { sentTo: 'internal.example.com', routeTo: '<inbound>' },
      ]),
    );
    expect(internal.findRoute('a.ld3aamg2.internal.example.com')?.sentTo).toBe(
      'internal.example.com',
    );
  });

  it('a Policy built directly validates and normalises its document (prefix masks are not /0)', () => {
    const doc = withRoutes([{ sentTo: 'example.com', routeTo: '<inbound>' }]);
    doc.restrictions.authenticated = false;
    doc.restrictions.clientAddresses = {
      enabled: true,
      entries: [
        { ip: '192.168.1.0', mask: '24' },
        { ip: '2001:db8::', mask: '/64' },
      ],
    };
    const direct = new Policy(doc);
    const ip = (a: string) => parseIp(a)!;
    expect(direct.clientAddresses.lookup(ip('203.0.113.9'))).toBeUndefined();
    expect(direct.clientAddresses.lookup(ip('2a00::1'))).toBeUndefined();
    expect(direct.clientAddresses.lookup(ip('192.168.1.9'))).toMatchObject({ index: 0 });
    expect(() => new Policy({ ...doc, siteDomain: 'not a domain' })).toThrow(InvalidConfigError);
  });
});
