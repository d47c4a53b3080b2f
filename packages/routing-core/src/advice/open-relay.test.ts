import { describe, it } from 'vitest';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { openRelay } from './open-relay';

const cases: AdviceCase[] = [
  { name: 'the defaults', doc: config(), expected: [] },
  {
    name: 'reroute on, nothing ticked: an open relay (Q260562)',
    doc: config({ restrictions: { authenticated: false } }),
    expected: [
      {
        id: 'open-relay',
        code: 'open-relay',
        severity: 'critical',
        reference: 'Q260562',
        pointer: '/restrictions',
        fix: {
          description: 'Tick "Hosts and clients that successfully authenticate"',
          patch: [{ op: 'replace', path: '/restrictions/authenticated', value: true }],
        },
      },
    ],
  },
  {
    name: 'a ticked list, even empty, is a restriction',
    doc: config({
      restrictions: { authenticated: false, clientAddresses: { enabled: true, entries: [] } },
    }),
    expected: [],
  },
  {
    name: 'an unticked list with entries is not',
    doc: config({
      restrictions: {
        authenticated: false,
        internalAddresses: { enabled: false, entries: entries('10.0.0.0/8') },
      },
    }),
    expected: [{ id: 'open-relay' }],
  },
  {
    name: 'nothing ticked, never-route shuts out half of IPv4: still critical',
    doc: config({ restrictions: { authenticated: false, neverRoute: entries('0.0.0.0/1') } }),
    expected: [{ id: 'open-relay', severity: 'critical' }],
  },
  {
    name: 'nothing ticked, never-route shuts out all of IPv4 but not IPv6: critical',
    doc: config({ restrictions: { authenticated: false, neverRoute: entries('0.0.0.0/0') } }),
    expected: [{ id: 'open-relay', severity: 'critical' }],
  },
  {
    name: 'nothing ticked, never-route shuts out every client: a warning, nobody relays',
    doc: config({
      restrictions: { authenticated: false, neverRoute: entries('0.0.0.0/0', '::/0') },
    }),
    expected: [{ id: 'open-relay', severity: 'warning' }],
  },
  {
    name: '"Do not reroute" relays nothing',
    doc: config({ rerouteMode: 'no-reroute', restrictions: { authenticated: false } }),
    expected: [],
  },
];

describe('openRelay', () => {
  it.each(cases)('$name', (row) => expectCase(openRelay, row));
});
