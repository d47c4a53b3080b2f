import { describe, expect, it } from 'vitest';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { neverRouteOverlaps } from './never-route';

const doc = (clients: string[], never: string[]) =>
  config({
    restrictions: {
      clientAddresses: { enabled: true, entries: entries(...clients) },
      neverRoute: entries(...never),
    },
  });

const cases: AdviceCase[] = [
  { name: 'disjoint', doc: doc(['192.168.0.0/16'], ['10.0.0.1']), expected: [] },
  {
    name: 'a never-route host inside an allowed network',
    doc: doc(['192.168.0.0/16'], ['192.168.5.5', '10.0.0.1']),
    expected: [
      {
        id: 'never-route-overlaps-allow:/restrictions/neverRoute/0',
        severity: 'warning',
        message:
          'Never-route entry 192.168.5.5/255.255.255.255 overlaps allowed entry 192.168.0.0/255.255.0.0: never-route wins, so clients in both cannot relay.',
      },
    ],
  },
  {
    name: 'an allowed host inside a never-route network',
    doc: doc(['192.168.5.5'], ['192.168.0.0/16']),
    expected: [{ id: 'never-route-overlaps-allow:/restrictions/neverRoute/0' }],
  },
  {
    name: 'IPv4 /0: every IPv4 client (and it overlaps every allowed IPv4 entry)',
    doc: doc(['192.168.5.5'], ['0.0.0.0/0']),
    expected: [
      {
        id: 'never-route-everything:/restrictions/neverRoute/0',
        message: expect.stringContaining('every IPv4 client'),
      },
      { id: 'never-route-overlaps-allow:/restrictions/neverRoute/0' },
    ],
  },
  {
    name: 'IPv6 /0 says it covers IPv6 clients only',
    doc: doc([], ['::/0']),
    expected: [{ message: expect.stringContaining('every IPv6 client') }],
  },
  {
    name: 'families do not overlap',
    doc: doc(['::ffff:10.0.0.0/104'], ['2001:db8::/32']),
    expected: [],
  },
];

describe('neverRouteOverlaps', () => {
  it.each(cases)('$name', (row) => expectCase(neverRouteOverlaps, row));
});
