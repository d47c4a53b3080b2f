import { describe, expect, it } from 'vitest';
import { advise } from '../advise';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { addressDuplicates } from './address-duplicates';

const clients = (...cidrs: string[]) =>
  config({ restrictions: { clientAddresses: { enabled: true, entries: entries(...cidrs) } } });

const cases: AdviceCase[] = [
  { name: 'distinct entries', doc: clients('10.0.0.0/8', '192.168.0.0/16'), expected: [] },
  {
    name: 'listed twice (in two spellings): the second is the one to remove',
    doc: clients('10.0.0.0/255.0.0.0', '192.168.0.0/16', '10.0.0.0/8'),
    expected: [
      {
        id: 'duplicate-address:/restrictions/clientAddresses/entries/2',
        severity: 'info',
        message:
          '10.0.0.0/255.0.0.0 is listed twice on "Hosts and clients with these IP addresses" (entries 1 and 3).',
        // No knowledge-base article is about a duplicate: the product's own rules are.
        reference: 'docs/design.md §2',
        fix: {
          description: 'Remove the second 10.0.0.0/255.0.0.0',
          patch: [{ op: 'remove', path: '/restrictions/clientAddresses/entries/2' }],
        },
      },
    ],
  },
  {
    name: 'an entry inside a broader one of the same list',
    doc: clients('10.0.0.0/8', '10.1.0.0/16'),
    expected: [
      {
        id: 'redundant-address:/restrictions/clientAddresses/entries/1',
        message: expect.stringContaining('10.1.0.0/255.255.0.0 lies inside 10.0.0.0/255.0.0.0'),
      },
    ],
  },
  {
    name: 'inside 0.0.0.0/0: no finding per legitimate entry (the /0 is the mistake)',
    doc: clients('0.0.0.0/0', '192.0.2.1', '198.51.100.0/24'),
    expected: [],
  },
  {
    name: 'inside a flagged broad client entry: none either',
    doc: clients('0.0.0.0/1', '10.0.0.0/8'),
    expected: [],
  },
  {
    name: 'inside a legitimate entry that is itself inside /0: still reported',
    doc: clients('0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16'),
    expected: [
      {
        id: 'redundant-address:/restrictions/clientAddresses/entries/2',
        message: expect.stringContaining('lies inside 10.0.0.0/255.0.0.0'),
      },
    ],
  },
  {
    name: 'never-route and IPv6 lists too',
    doc: config({
      restrictions: {
        neverRoute: entries('192.0.2.1', '192.0.2.1/255.255.255.255'),
        internalAddresses: { enabled: true, entries: entries('2001:db8::/32', '2001:db8:1::/48') },
      },
    }),
    expected: [
      { id: 'redundant-address:/restrictions/internalAddresses/entries/1' },
      { id: 'duplicate-address:/restrictions/neverRoute/1' },
    ],
  },
];

describe('addressDuplicates', () => {
  it.each(cases)('$name', (row) => expectCase(addressDuplicates, row));

  it('0.0.0.0/0 among legitimate entries: one finding with a fix, removing the /0', () => {
    const doc = clients('0.0.0.0/0', '192.0.2.1', '198.51.100.0/24', '10.0.0.0/8');
    const fixes = advise(doc).filter((f) => f.fix);
    expect(fixes).toEqual([
      expect.objectContaining({
        code: 'allow-everything',
        fix: {
          description: 'Remove 0.0.0.0/0.0.0.0',
          patch: [{ op: 'remove', path: '/restrictions/clientAddresses/entries/0' }],
        },
      }),
    ]);
  });
});
