import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockApi } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { RelayTestTab } from './relay-test-tab';

describe('Relay test', () => {
  it('runs the relay test and shows each case', async () => {
    const api = mockApi({
      'POST /service/relay-test': {
        body: {
          from: '127.0.0.1',
          target: { host: '127.0.0.1', port: 2525 },
          passed: false,
          summary: '1 of 2 cases relayed: percent. 1 not as expected: percent.',
          cases: [
            {
              id: 'plain',
              family: 'basic',
              description: 'Plain relay',
              mailFrom: '<a@x.example>',
              rcptTo: '<b@y.example>',
              expected: 'reject',
              reply: '550 5.7.1 Relaying is prohibited',
              relayed: false,
              passed: true,
            },
            {
              id: 'percent',
              family: 'percent-hack',
              description: 'Percent hack',
              mailFrom: '<a@x.example>',
              rcptTo: '<b%y.example@example.com>',
              expected: 'reject',
              reply: '250 2.1.5 OK',
              relayed: true,
              passed: false,
            },
          ],
        },
      },
    });
    const { user } = renderWithClient(<RelayTestTab />);
    await user.click(screen.getByRole('button', { name: 'Run relay test' }));
    const table = await screen.findByRole('table', { name: 'Relay test cases' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    // The verdict first: the Result column leads each row.
    expect(within(table).getAllByRole('columnheader')[0]?.textContent).toBe('Result');
    expect(within(rows[1]!).getAllByRole('cell')[0]?.textContent).toBe('FAIL');
    expect(within(rows[0]!).getAllByRole('cell')[0]?.textContent).toBe('Pass');
    expect(
      screen.getByText('Failed: 1 of 2 cases relayed: percent. 1 not as expected: percent.'),
    ).toBeTruthy();
    expect(screen.queryByRole('note')).toBeNull();
    expect(api.calls('POST /service/relay-test')[0]!.body).toEqual({});
  });

  it('says at the top when the source may relay, and shows its relays as allowed, not failures', async () => {
    const relayCase = (id: string) => ({
      id,
      family: 'basic',
      description: `Case ${id}`,
      mailFrom: '<a@x.example>',
      rcptTo: `<${id}@y.example>`,
      expected: 'reject' as const,
      reply: '250 2.1.5 Accepted',
      relayed: true,
      passed: true,
    });
    mockApi({
      'POST /service/relay-test': {
        body: {
          from: '127.0.0.1',
          target: { host: '127.0.0.1', port: 2525 },
          passed: true,
          summary:
            '2 of 2 cases relayed: a, b (the source address may relay). Every case as expected.',
          sourceMayRelay:
            '127.0.0.1 may relay by the running configuration: it is on the list of "Hosts and clients with these IP addresses".',
          cases: [relayCase('a'), relayCase('b')],
        },
      },
    });
    const { user } = renderWithClient(<RelayTestTab />);
    await user.click(screen.getByRole('button', { name: 'Run relay test' }));
    const note = await screen.findByRole('note');
    expect(note.textContent).toMatch(
      /^The test's source address may relay\. 127\.0\.0\.1 may relay/,
    );
    // The note comes before the table.
    const table = screen.getByRole('table', { name: 'Relay test cases' });
    expect(note.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell')[0]?.textContent)).toEqual([
      'Relayed (allowed)',
      'Relayed (allowed)',
    ]);
    expect(table.querySelector('.row-invalid')).toBeNull();
    expect(screen.getByText(/^Passed: 2 of 2 cases relayed/)).toBeTruthy();
  });

  it('says so when the console has no relay test', async () => {
    mockApi({});
    const { user } = renderWithClient(<RelayTestTab />);
    await user.click(screen.getByRole('button', { name: 'Run relay test' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/no relay test yet/);
  });
});
