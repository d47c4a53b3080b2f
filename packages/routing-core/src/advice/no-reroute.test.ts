import { describe, expect, it } from 'vitest';
import { advise, applyFix } from '../advise';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { unusedInNoReroute } from './no-reroute';

const noReroute = (patch: Parameters<typeof config>[0] = {}) =>
  config({ rerouteMode: 'no-reroute', ...patch });
const unused = {
  id: 'restrictions-unused',
  code: 'restrictions-unused',
  severity: 'info' as const,
  pointer: '/restrictions',
  message: expect.stringContaining('These restrictions apply only when rerouting'),
};

const cases: AdviceCase[] = [
  { name: 'reroute: everything is used', doc: config(), expected: [] },
  { name: '"Do not reroute" with the defaults', doc: noReroute(), expected: [] },
  {
    name: 'a routing table beyond the site domain',
    doc: noReroute({ routes: [{ sentTo: 'ms.com', routeTo: 'host1' }] }),
    expected: [{ id: 'routing-table-unused', severity: 'info' }],
  },
  {
    name: 'a ticked client list with entries',
    doc: noReroute({
      restrictions: { clientAddresses: { enabled: true, entries: entries('10.0.0.0/8') } },
    }),
    expected: [unused],
  },
  {
    name: 'a ticked internal list with entries',
    doc: noReroute({
      restrictions: { internalAddresses: { enabled: true, entries: entries('10.0.0.1') } },
    }),
    expected: [unused],
  },
  {
    name: 'never-route entries',
    doc: noReroute({ restrictions: { neverRoute: entries('192.0.2.1') } }),
    expected: [unused],
  },
  {
    name: 'a ticked list that is empty, or an unticked one with entries: nothing set',
    doc: noReroute({
      restrictions: {
        clientAddresses: { enabled: true, entries: [] },
        internalAddresses: { enabled: false, entries: entries('10.0.0.1') },
      },
    }),
    expected: [],
  },
  {
    name: 'only "authenticate" ticked: not a restriction to warn about',
    doc: noReroute({ restrictions: { authenticated: true } }),
    expected: [],
  },
];

describe('unusedInNoReroute', () => {
  it.each(cases)('$name', (row) => expectCase(unusedInNoReroute, row));

  it('needs no acknowledgement and offers no fix that could change what relays', () => {
    const doc = noReroute({ restrictions: { neverRoute: entries('192.0.2.1') } });
    const f = advise(doc).find((x) => x.code === 'restrictions-unused');
    expect(f?.severity).toBe('info');
    expect(f?.fix).toBeUndefined();
    expect(applyFix(doc, { description: 'none', patch: [] })).toEqual(doc);
  });
});
