import { describe, expect, it } from 'vitest';
import { compile, InvalidConfigError } from './compile';
import { defaultConfig, type Route, type RoutingConfig } from './config';

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
