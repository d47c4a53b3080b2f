import { describe, expect, it } from 'vitest';
import { findRoute, routeExistsMessage, sentToKey } from './route-exists';

const routes = [
  { sentTo: 'example.com', routeTo: '<inbound>' },
  { sentTo: '#ms.com', routeTo: '<inbound>' },
  { sentTo: 'partner.example', routeTo: 'mx.partner.example' },
];

describe('findRoute', () => {
  const cases: [string, number | undefined][] = [
    ['partner.example', 2],
    ['Partner.Example.', 2],
    ['  partner.example ', 2],
    ['#partner.example', undefined],
    ['ms.com', undefined],
    ['#MS.com', 1],
    ['x.partner.example', undefined],
    ['example.co', undefined],
  ];
  it.each(cases)('%s → entry %s', (sentTo, index) => {
    expect(findRoute(routes, sentTo)?.index).toBe(index);
  });

  it('compares IDNs as A-labels, and an unparsable text as itself', () => {
    expect(sentToKey('BÜCHER.example')).toBe('xn--bcher-kva.example');
    expect(
      findRoute([{ sentTo: 'xn--bcher-kva.example', routeTo: '<inbound>' }], 'bücher.example'),
    ).toBeDefined();
    expect(sentToKey('not a domain')).toBe('not a domain');
  });

  it('names the entry that is there already', () => {
    expect(routeExistsMessage(routes[2]!)).toBe(
      'The routing table already has an entry for partner.example (→ mx.partner.example).',
    );
  });
});
