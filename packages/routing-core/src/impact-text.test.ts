import { describe, expect, it } from 'vitest';
import type { ImpactChange } from './impact';
import { describeImpactChange, describeImpactSummary } from './impact-text';
import { config } from './testing/advice-cases';

const row: ImpactChange = {
  clientIp: '127.0.0.2',
  serverIp: '127.0.0.1',
  authenticated: false,
  recipientDomain: 'partner.example',
  before: 'relay',
  after: 'reject',
  count: 9,
};
const draft = config({ siteDomain: 'example.com' });
const NOW = Date.parse('2026-11-29T12:00:00Z');

describe('the impact preview in words', () => {
  const cases: [string, ImpactChange, string][] = [
    [
      'a denied relay',
      row,
      '127.0.0.2 → partner.example: relayed 9 times, would now get 550 5.7.1 Relaying is prohibited',
    ],
    [
      'a local domain refuses an unknown mailbox',
      { ...row, recipientDomain: 'example.com', before: 'accept-ndr', count: 1 },
      '127.0.0.2 → example.com: accepted, then returned with an NDR once, would now get 550 5.1.1 Recipient address rejected: no such user here',
    ],
    [
      'authenticated, now relayed',
      { ...row, authenticated: true, before: 'reject', after: 'relay', count: 2 },
      '127.0.0.2 (authenticated) → partner.example: refused 2 times, would now be relayed',
    ],
  ];
  for (const [name, change, text] of cases) {
    it(name, () => expect(describeImpactChange(draft, change)).toBe(text));
  }

  it('the headline counts the changed transactions of the window', () => {
    const since = '2026-11-22T12:00:00.000Z';
    expect(describeImpactSummary({ since, transactions: 20, changes: [row] }, NOW)).toBe(
      '9 of 20 transactions in the last 7 days would change:',
    );
    expect(describeImpactSummary({ since, transactions: 20, changes: [] }, NOW)).toBe(
      'None of the 20 transactions in the last 7 days would change.',
    );
    expect(
      describeImpactSummary({ since: '2026-11-29T10:00:00Z', transactions: 0, changes: [] }, NOW),
    ).toBe('No transactions recorded in the last day.');
  });
});
