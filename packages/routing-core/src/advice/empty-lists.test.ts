import { describe, it } from 'vitest';
import type { Fix } from '../advise';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { emptyLists } from './empty-lists';

const untick = (name: string): Fix => ({
  description: `Untick "${name === 'clientAddresses' ? 'Hosts and clients with these IP addresses' : 'Hosts and clients connecting to these internal IP addresses'}"`,
  patch: [{ op: 'replace', path: `/restrictions/${name}/enabled`, value: false }],
});

const cases: AdviceCase[] = [
  { name: 'the defaults (lists unticked)', doc: config(), expected: [] },
  {
    name: 'ticked and empty, authenticate ticked too: offer to untick',
    doc: config({ restrictions: { clientAddresses: { enabled: true, entries: [] } } }),
    expected: [
      {
        id: 'criterion-empty-list:/restrictions/clientAddresses',
        severity: 'warning',
        fix: untick('clientAddresses'),
      },
    ],
  },
  {
    name: 'the only ticked criterion: no fix (unticking it would open the relay)',
    doc: config({
      restrictions: { authenticated: false, internalAddresses: { enabled: true, entries: [] } },
    }),
    expected: [{ id: 'criterion-empty-list:/restrictions/internalAddresses', fix: undefined }],
  },
  {
    name: 'the other list ticked with entries holds: offer to untick',
    doc: config({
      restrictions: {
        authenticated: false,
        clientAddresses: { enabled: true, entries: [] },
        internalAddresses: { enabled: true, entries: entries('10.0.0.1') },
      },
    }),
    expected: [
      { id: 'criterion-empty-list:/restrictions/clientAddresses', fix: untick('clientAddresses') },
    ],
  },
  {
    name: 'both ticked and empty: neither can be unticked safely',
    doc: config({
      restrictions: {
        authenticated: false,
        clientAddresses: { enabled: true, entries: [] },
        internalAddresses: { enabled: true, entries: [] },
      },
    }),
    expected: [
      { id: 'criterion-empty-list:/restrictions/clientAddresses', fix: undefined },
      { id: 'criterion-empty-list:/restrictions/internalAddresses', fix: undefined },
    ],
  },
];

describe('emptyLists', () => {
  it.each(cases)('$name', (row) => expectCase(emptyLists, row));
});
