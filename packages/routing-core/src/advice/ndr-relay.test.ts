import { describe, it } from 'vitest';
import type { Fix } from '../advise';
import { type AdviceCase, config, expectCase } from '../testing/advice-cases';
import { ndrRelay } from './ndr-relay';

const fix: Fix = {
  description: 'Reject unknown recipients at RCPT time',
  patch: [{ op: 'replace', path: '/rejectUnknownRecipients', value: true }],
};

const cases: AdviceCase[] = [
  { name: 'recipient rejection on', doc: config(), expected: [] },
  {
    name: 'recipient rejection on, "Do not reroute"',
    doc: config({ rerouteMode: 'no-reroute' }),
    expected: [],
  },
  {
    name: '"Do not reroute" without recipient rejection: NDR relay (Q255695)',
    doc: config({ rerouteMode: 'no-reroute', rejectUnknownRecipients: false }),
    expected: [{ id: 'ndr-relay', severity: 'critical', reference: 'Q255695', fix }],
  },
  {
    name: 'reroute without recipient rejection: backscatter',
    doc: config({ rejectUnknownRecipients: false }),
    expected: [{ id: 'unknown-recipients-accepted', severity: 'warning', fix }],
  },
];

describe('ndrRelay', () => {
  it.each(cases)('$name', (row) => expectCase(ndrRelay, row));
});
