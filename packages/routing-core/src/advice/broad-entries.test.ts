import { describe, expect, it } from 'vitest';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { broadEntries } from './broad-entries';

const list = (name: 'clientAddresses' | 'internalAddresses', enabled: boolean, ...c: string[]) =>
  config({ restrictions: { [name]: { enabled, entries: entries(...c) } } });

const cases: AdviceCase[] = [
  { name: 'ordinary entries', doc: list('clientAddresses', true, '10.0.0.0/8'), expected: [] },
  {
    name: '0.0.0.0/0 on a ticked client list: critical, one fix',
    doc: list('clientAddresses', true, '10.0.0.0/8', '0.0.0.0/0'),
    expected: [
      {
        id: 'allow-everything:/restrictions/clientAddresses/entries/1',
        severity: 'critical',
        message:
          '0.0.0.0/0.0.0.0 on "Hosts and clients with these IP addresses" covers every address: every client may relay.',
        fix: {
          description: 'Remove 0.0.0.0/0.0.0.0',
          patch: [{ op: 'remove', path: '/restrictions/clientAddresses/entries/1' }],
        },
      },
    ],
  },
  {
    name: 'unticked: a warning, "as soon as the box is ticked"',
    doc: list('clientAddresses', false, '0.0.0.0/0'),
    expected: [
      { severity: 'warning', message: expect.stringContaining('as soon as the box is ticked') },
    ],
  },
  {
    name: '::/0 on the internal list',
    doc: list('internalAddresses', true, '::/0'),
    expected: [{ code: 'allow-everything', severity: 'critical' }],
  },
  {
    name: '"Do not reroute": a warning',
    doc: config({
      rerouteMode: 'no-reroute',
      restrictions: { clientAddresses: { enabled: true, entries: entries('0.0.0.0/0') } },
    }),
    expected: [{ code: 'allow-everything', severity: 'warning' }],
  },
  {
    name: 'a client entry broader than a /8 (IPv4) or a /16 (IPv6)',
    doc: list('clientAddresses', true, '0.0.0.0/7', '10.0.0.0/8', '2000::/15', '2001:db8::/16'),
    expected: [
      { id: 'broad-allow-entry:/restrictions/clientAddresses/entries/0', severity: 'warning' },
      { id: 'broad-allow-entry:/restrictions/clientAddresses/entries/2', severity: 'warning' },
    ],
  },
  {
    name: 'broad internal entries are judged by coverage, not here',
    doc: list('internalAddresses', true, '0.0.0.0/7'),
    expected: [],
  },
];

describe('broadEntries', () => {
  it.each(cases)('$name', (row) => expectCase(broadEntries, row));
});
