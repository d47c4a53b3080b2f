import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockApi, problem } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { MailboxesTab } from './mailboxes-tab';

const alice = {
  id: 1,
  address: 'alice@example.com',
  displayName: 'Alice',
  createdAt: '2026-11-27T10:00:00.000Z',
  updatedAt: '2026-11-27T10:00:00.000Z',
};

describe('Mailboxes', () => {
  it('lists the directory, adds a mailbox, shows a field error beside its field, removes one', async () => {
    const api = mockApi({
      'GET /directory/mailboxes': { body: { mailboxes: [alice] } },
      'POST /directory/mailboxes': (req) =>
        (req.body as { address: string }).address.endsWith('@elsewhere.example')
          ? problem(422, 'policy-invalid', 'The address is not valid.', {
              errors: [{ pointer: '/address', detail: 'Not an <inbound> domain.' }],
            })
          : {
              status: 201,
              body: { ...alice, id: 2, address: 'bob@example.com', displayName: 'Bob' },
            },
      'DELETE /directory/mailboxes/1': { status: 204 },
    });
    const { user } = renderWithClient(<MailboxesTab canWrite />);
    const grid = await screen.findByRole('grid', { name: 'Mailboxes' });
    expect(within(grid).getByText('alice@example.com')).toBeTruthy();

    await user.type(screen.getByLabelText('Address:'), 'bob@elsewhere.example');
    await user.type(screen.getByLabelText('Display name:'), 'Bob');
    await user.type(screen.getByLabelText('Password:'), 'a long password');
    await user.click(screen.getByRole('button', { name: 'Add mailbox' }));
    expect((await screen.findByText('Not an <inbound> domain.')).id).toBe(
      screen.getByLabelText('Address:').getAttribute('aria-describedby'),
    );
    await user.clear(screen.getByLabelText('Address:'));
    await user.type(screen.getByLabelText('Address:'), 'bob@example.com');
    await user.click(screen.getByRole('button', { name: 'Add mailbox' }));
    await waitFor(() =>
      expect((screen.getByLabelText('Address:') as HTMLInputElement).value).toBe(''),
    );
    expect(api.calls('POST /directory/mailboxes')).toHaveLength(2);

    await user.click(within(grid).getByText('alice@example.com'));
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    await user.click(
      within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Remove' }),
    );
    await waitFor(() => expect(api.calls('DELETE /directory/mailboxes/1')).toHaveLength(1));
  });

  it('read-only users see the list only', async () => {
    mockApi({ 'GET /directory/mailboxes': { body: { mailboxes: [] } } });
    renderWithClient(<MailboxesTab canWrite={false} />);
    await screen.findByText('(no mailboxes)');
    expect(screen.queryByRole('button', { name: 'Add mailbox' })).toBeNull();
  });
});
