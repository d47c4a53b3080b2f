import { useState } from 'react';
import { Dialog, OkCancel } from '../../../components/ui/dialog';
import { isApiProblem, messageOf } from '../../../lib/problem';
import { useChangePassword } from '../api/change-password';
import { useSessions } from '../api/get-sessions';
import { useRevokeSession } from '../api/revoke-session';

const when = (iso: string) => new Date(iso).toLocaleString();

/** Change password: current, new, new again. The user's other sessions are signed out. */
export function ChangePasswordDialog({ onClose }: { onClose: () => void }) {
  const change = useChangePassword();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState<number | undefined>(undefined);
  const fields = isApiProblem(change.error) ? change.error.fieldErrors : {};
  const general =
    change.error && Object.keys(fields).length === 0 ? messageOf(change.error) : undefined;

  if (done !== undefined) {
    return (
      <Dialog
        title="Change Password"
        onClose={onClose}
        footer={
          <button type="button" className="default" onClick={onClose}>
            OK
          </button>
        }
      >
        <p role="status">Password changed. {done} other session(s) signed out.</p>
      </Dialog>
    );
  }
  return (
    <Dialog
      title="Change Password"
      onClose={onClose}
      onSubmit={() => {
        if (next !== again) {
          setMismatch(true);
          return;
        }
        setMismatch(false);
        change.mutate(
          { currentPassword: current, newPassword: next },
          { onSuccess: (r) => setDone(r.revokedSessions) },
        );
      }}
      footer={<OkCancel onCancel={onClose} />}
    >
      <div className="field-row-stacked">
        <label htmlFor="pw-current">Current password:</label>
        <input
          id="pw-current"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          aria-invalid={fields['/currentPassword'] ? true : undefined}
        />
        {fields['/currentPassword'] ? (
          <p className="field-error">The current password {fields['/currentPassword']}.</p>
        ) : null}
      </div>
      <div className="field-row-stacked">
        <label htmlFor="pw-new">New password (at least 8 characters):</label>
        <input
          id="pw-new"
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          aria-invalid={fields['/newPassword'] ? true : undefined}
        />
        {fields['/newPassword'] ? (
          <p className="field-error">The new password {fields['/newPassword']}.</p>
        ) : null}
      </div>
      <div className="field-row-stacked">
        <label htmlFor="pw-again">Confirm new password:</label>
        <input
          id="pw-again"
          type="password"
          autoComplete="new-password"
          value={again}
          onChange={(e) => setAgain(e.target.value)}
          aria-invalid={mismatch ? true : undefined}
        />
        {mismatch ? <p className="field-error">The two new passwords differ.</p> : null}
      </div>
      {general ? <p role="alert">{general}</p> : null}
      <p>Your other sessions are signed out, and tokens created in them revoked.</p>
    </Dialog>
  );
}

/** Signed-in sessions, with Revoke for each (revoking one revokes the tokens made in it). */
export function SessionsDialog({ onClose }: { onClose: () => void }) {
  const sessions = useSessions();
  const revoke = useRevokeSession();
  return (
    <Dialog
      title="Sessions"
      width={640}
      onClose={onClose}
      footer={
        <button type="button" className="default" onClick={onClose}>
          Close
        </button>
      }
    >
      {sessions.isPending ? <p>Loading…</p> : null}
      {sessions.error ? <p role="alert">{messageOf(sessions.error)}</p> : null}
      {revoke.error ? <p role="alert">{messageOf(revoke.error)}</p> : null}
      {sessions.data ? (
        <table className="sessions-table">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last seen</th>
              <th scope="col">Address</th>
              <th scope="col">Browser or client</th>
              <th scope="col">
                <span className="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.sessions.map((s) => (
              <tr key={s.id}>
                <td>{s.username}</td>
                <td>{when(s.createdAt)}</td>
                <td>{when(s.lastSeenAt)}</td>
                <td>{s.clientAddress || '-'}</td>
                <td>{s.userAgent || '-'}</td>
                <td>
                  {s.current ? (
                    <span>This session</span>
                  ) : (
                    <button
                      type="button"
                      disabled={revoke.isPending}
                      aria-label={`Revoke the session from ${s.clientAddress || 'an unknown address'} signed in ${when(s.createdAt)}`}
                      onClick={() => revoke.mutate(s.id)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Dialog>
  );
}
