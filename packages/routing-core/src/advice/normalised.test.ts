import { describe, it } from 'vitest';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { normalisedEntries } from './normalised';

const cases: AdviceCase[] = [
  {
    name: 'already normalised',
    doc: config({ restrictions: { neverRoute: entries('10.1.0.0/16') } }),
    expected: [],
  },
  {
    name: 'host bits set: stored as the network',
    doc: config({ restrictions: { neverRoute: [{ ip: '10.1.2.3', mask: '255.255.0.0' }] } }),
    expected: [
      {
        id: 'host-bits-set:/restrictions/neverRoute/0',
        severity: 'info',
        reference: 'RFC 4632 §3.1',
        pointer: '/restrictions/neverRoute/0',
      },
    ],
  },
  {
    name: 'an IPv4-mapped IPv6 entry: stored as IPv4',
    doc: config({
      restrictions: { clientAddresses: { enabled: true, entries: entries('::ffff:10.0.0.0/104') } },
    }),
    expected: [{ id: 'ipv4-mapped:/restrictions/clientAddresses/entries/0', severity: 'info' }],
  },
];

describe('normalisedEntries', () => {
  it.each(cases)('$name', (row) => expectCase(normalisedEntries, row));
});
