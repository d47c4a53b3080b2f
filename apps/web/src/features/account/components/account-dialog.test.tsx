import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockApi, problem } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { ChangePasswordDialog, SessionsDialog } from './account-dialog';

const session = (id: string, current: boolean, clientAddress: string) => ({
  id,
  username: 'admin',
  createdAt: '2026-11-29T10:00:00.000Z',
  lastSeenAt: '2026-11-29T11:00:00.000Z',
  expiresAt: '2026-11-29T22:00:00.000Z',
  clientAddress,
  userAgent: 'Mozilla/5.0',
  current,
});

describe('Change Password', () => {
  it('shows a wrong current password beside its field, checks the confirmation, then reports the sessions signed out', async () => {
    const api = mockApi({
      'PUT /session/password': (req) =>
        (req.body as { currentPassword: string }).currentPassword === 'right password'
          ? { body: { revokedSessions: 2, revokedTokens: 1 } }
          : problem(403, 'forbidden', 'The current password is not right.', {
              errors: [{ pointer: '/currentPassword', detail: 'is not right' }],
            }),
    });
    const { user } = renderWithClient(<ChangePasswordDialog onClose={() => undefined} />);
    await user.type(screen.getByLabelText('Current password:'), 'wrong password');
    await user.type(
      screen.getByLabelText('New password (at least 8 characters):'),
      'new password 1',
    );
    await user.type(screen.getByLabelText('Confirm new password:'), 'new password 2');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect(await screen.findByText('The two new passwords differ.')).toBeTruthy();
    expect(api.calls('PUT /session/password')).toHaveLength(0);

    await user.clear(screen.getByLabelText('Confirm new password:'));
    await user.type(screen.getByLabelText('Confirm new password:'), 'new password 1');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect(await screen.findByText('The current password is not right.')).toBeTruthy();

    await user.clear(screen.getByLabelText('Current password:'));
    await user.type(screen.getByLabelText('Current password:'), 'right password');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect((await screen.findByRole('status')).textContent).toBe(
      'Password changed. 2 other session(s) signed out.',
    );
    expect(api.calls('PUT /session/password').at(-1)?.body).toEqual({
      currentPassword: 'right password',
      newPassword: 'new password 1',
    });
  });
});

describe('Sessions', () => {
  it('lists sessions with address and user agent, marks this one, and revokes another', async () => {
    const api = mockApi({
      'GET /sessions': {
        body: {
          sessions: [
            session('a'.repeat(24), true, '127.0.0.1'),
            session('b'.repeat(24), false, '192.0.2.9'),
          ],
        },
      },
      [`DELETE /sessions/${'b'.repeat(24)}`]: { body: { revokedTokens: 1 } },
    });
    const { user } = renderWithClient(<SessionsDialog onClose={() => undefined} />);
    const table = await screen.findByRole('table');
    expect(within(table).getByText('192.0.2.9')).toBeTruthy();
    expect(within(table).getByText('This session')).toBeTruthy();
    expect(within(table).getAllByRole('button')).toHaveLength(1);
    await user.click(
      within(table).getByRole('button', { name: /^Revoke the session from 192\.0\.2\.9/ }),
    );
    await waitFor(() => expect(api.calls(`DELETE /sessions/${'b'.repeat(24)}`)).toHaveLength(1));
  });
});
