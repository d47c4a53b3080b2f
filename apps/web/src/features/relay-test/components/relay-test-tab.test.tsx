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
          cases: [
            {
              id: 'plain',
              family: 'basic',
              description: 'Plain relay',
              mailFrom: '<a@x.example>',
              rcptTo: '<b@y.example>',
              expected: 'reject',
              reply: '550 5.7.1 Relaying is prohibited',
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
    expect(rows[1]?.textContent).toMatch(/FAIL/);
    expect(screen.getByText(/Failed: 1 of 2 cases/)).toBeTruthy();
    expect(api.calls('POST /service/relay-test')[0]!.body).toEqual({});
  });

  it('says so when the console has no relay test', async () => {
    mockApi({});
    const { user } = renderWithClient(<RelayTestTab />);
    await user.click(screen.getByRole('button', { name: 'Run relay test' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/no relay test yet/);
  });
});
