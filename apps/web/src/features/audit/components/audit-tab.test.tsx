import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockApi } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { AuditTab } from './audit-tab';

const entry = (id: number, action = 'routing.saved') => ({
  id,
  at: '2026-11-27T10:00:00.000Z',
  actor: 'admin',
  source: '127.0.0.1',
  action,
  target: `routing:v${id}`,
});

describe('Audit', () => {
  it('pages with before, and filters by action', async () => {
    const api = mockApi({
      'GET /audit': (req) => {
        const before = req.query.get('before');
        if (req.query.get('action') === 'login') return { body: { entries: [entry(3, 'login')] } };
        return before
          ? { body: { entries: [entry(1)] } }
          : { body: { entries: [entry(30), entry(29)], nextBefore: 29 } };
      },
    });
    const { user } = renderWithClient(<AuditTab />);
    const table = await screen.findByRole('table', { name: 'Audit log' });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    await user.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() => expect(screen.getByText('routing:v1')).toBeTruthy());
    expect(api.calls('GET /audit').at(-1)!.query.get('before')).toBe('29');
    expect(screen.getByText('Page 2')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Newer' }));
    await screen.findByText('routing:v30');

    await user.type(screen.getByLabelText('Action:'), 'login');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await screen.findByText('routing:v3');
    expect(api.calls('GET /audit').at(-1)!.query.get('action')).toBe('login');
  });
});
