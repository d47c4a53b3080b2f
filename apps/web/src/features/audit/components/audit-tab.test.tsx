import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockApi } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { AuditTab } from './audit-tab';

const entry = (id: number, action = 'routing.saved', extra: Record<string, unknown> = {}) => ({
  id,
  at: '2026-11-27T10:00:00.000Z',
  actor: 'admin',
  by: 'admin',
  source: '127.0.0.1',
  action,
  target: `routing:v${id}`,
  summary: `Saved version ${id}: Added route partner.example → mx.partner.example`,
  ...extra,
});

describe('Audit', () => {
  it('pages with before', async () => {
    const api = mockApi({
      'GET /audit': (req) =>
        req.query.get('before')
          ? { body: { entries: [entry(1)] } }
          : { body: { entries: [entry(30), entry(29)], nextBefore: 29 } },
    });
    const { user } = renderWithClient(<AuditTab />);
    const table = await screen.findByRole('table', { name: 'Audit log' });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    await user.click(screen.getByRole('button', { name: 'Older' }));
    await screen.findByText(/^Saved version 1:/);
    expect(api.calls('GET /audit').at(-1)!.query.get('before')).toBe('29');
    expect(screen.getByText('Page 2')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Newer' }));
    await screen.findByText(/^Saved version 30:/);
  });

  it("shows the server's summary and who (the person behind a token); the details expand", async () => {
    mockApi({
      'GET /audit': {
        body: {
          entries: [
            entry(7, 'routing.saved', {
              actor: 'token:deploy',
              person: 'admin',
              by: 'admin via token deploy',
              details: { from: 6, to: 7, changes: [{ pointer: '/routes/1', kind: 'add' }] },
            }),
          ],
        },
      },
    });
    const { user } = renderWithClient(<AuditTab />);
    const table = await screen.findByRole('table', { name: 'Audit log' });
    const row = (await within(table).findByText(/^Saved version 7:/)).closest('tr')!;
    expect(row.textContent).toContain('admin via token deploy');
    expect(row.textContent).toContain('Added route partner.example → mx.partner.example');
    // Collapsed: the raw details are not on screen until asked for.
    expect(within(table).queryByText(/"pointer"/)).toBeNull();
    const toggle = within(row).getByRole('button', { name: 'Details of entry 7' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await user.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const details = within(table).getByText(/"pointer": "\/routes\/1"/);
    expect(details.textContent).toContain('"from": 6');
    expect(within(table).getByText('token:deploy')).toBeTruthy();
    expect(within(table).getByText('routing:v7')).toBeTruthy();
    await user.click(toggle);
    expect(within(table).queryByText(/"pointer"/)).toBeNull();
  });

  it('hides sign-ins by default, shows them on request, and filters by action family', async () => {
    const api = mockApi({ 'GET /audit': { body: { entries: [entry(3)] } } });
    const { user } = renderWithClient(<AuditTab />);
    await screen.findByRole('table', { name: 'Audit log' });
    const first = api.calls('GET /audit').at(-1)!.query;
    expect(first.get('signIns')).toBe('false');
    expect(first.has('action')).toBe(false);

    const signIns = screen.getByRole('checkbox', { name: 'Show sign-ins' });
    expect((signIns as HTMLInputElement).checked).toBe(false);
    await user.click(signIns);
    await waitFor(() => expect(api.calls('GET /audit').at(-1)!.query.get('signIns')).toBe('true'));

    const family = screen.getByRole('combobox', { name: 'Show:' });
    expect(
      within(family)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toContain('Configuration saves and restores');
    await user.selectOptions(family, 'Configuration saves and restores');
    await waitFor(() =>
      expect(api.calls('GET /audit').at(-1)!.query.get('action')).toBe('routing.'),
    );
    await user.type(screen.getByLabelText('By:'), 'admin');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(api.calls('GET /audit').at(-1)!.query.get('actor')).toBe('admin'));
    const last = api.calls('GET /audit').at(-1)!.query;
    expect(last.get('action')).toBe('routing.');
    expect(last.get('signIns')).toBe('true');
  });
});
