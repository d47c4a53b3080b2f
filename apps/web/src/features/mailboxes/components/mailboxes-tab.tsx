import type { Mailbox } from '@ims/api-client';
import { type FormEvent, useId, useState } from 'react';
import { ConfirmDialog } from '../../../components/ui/dialog';
import { ListView } from '../../../components/ui/list-view';
import { QueryState } from '../../../components/ui/query-state';
import { isApiProblem, messageOf } from '../../../lib/problem';
import { useCreateMailbox } from '../api/create-mailbox';
import { useDeleteMailbox } from '../api/delete-mailbox';
import { useMailboxes } from '../api/get-mailboxes';

/** Mailboxes: the local directory the service delivers to and authenticates against. */
export function MailboxesTab({ canWrite }: { canWrite: boolean }) {
  const id = useId();
  const mailboxes = useMailboxes();
  const create = useCreateMailbox();
  const remove = useDeleteMailbox();
  const [selected, setSelected] = useState<number | null>(null);
  const [confirm, setConfirm] = useState<Mailbox | null>(null);
  const [form, setForm] = useState({ address: '', displayName: '', password: '' });
  const rows = mailboxes.data?.mailboxes ?? [];
  const current = selected !== null ? rows[selected] : undefined;
  const errors = isApiProblem(create.error) ? create.error.fieldErrors : {};

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(form, {
      onSuccess: () => setForm({ address: '', displayName: '', password: '' }),
    });
  };
  const field = (key: keyof typeof form, label: string, type = 'text') => (
    <div className="field-row-stacked">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input
        id={`${id}-${key}`}
        type={type}
        value={form[key]}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
        aria-invalid={!!errors[`/${key}`]}
        aria-describedby={errors[`/${key}`] ? `${id}-${key}-error` : undefined}
        onChange={(e) => setForm((f) => ({ ...f, [key]: e.target.value }))}
      />
      {errors[`/${key}`] ? (
        <p id={`${id}-${key}-error`} className="field-error">
          {errors[`/${key}`]}
        </p>
      ) : null}
    </div>
  );

  return (
    <QueryState
      isPending={mailboxes.isPending}
      error={mailboxes.error}
      onRetry={() => void mailboxes.refetch()}
      what="the mailboxes"
    >
      <div className="mailboxes">
        <ListView
          label="Mailboxes"
          columns={[
            { header: 'Address', cell: (m: Mailbox) => m.address },
            { header: 'Display name', cell: (m) => m.displayName },
          ]}
          rows={rows}
          selected={selected}
          onSelect={setSelected}
          emptyText="(no mailboxes)"
          height={150}
        />
        {canWrite ? (
          <>
            <div className="list-buttons">
              <button
                type="button"
                disabled={!current || remove.isPending}
                onClick={() => current && setConfirm(current)}
              >
                Remove
              </button>
            </div>
            {remove.error ? <p className="field-error">{messageOf(remove.error)}</p> : null}
            <form onSubmit={submit} className="mailbox-form" aria-label="New mailbox">
              <fieldset>
                <legend>New mailbox</legend>
                <div className="grid-2">
                  {field('address', 'Address:')}
                  {field('displayName', 'Display name:')}
                  {field('password', 'Password:', 'password')}
                </div>
                {create.error && Object.keys(errors).length === 0 ? (
                  <p className="field-error" role="alert">
                    {messageOf(create.error)}
                  </p>
                ) : null}
                <button type="submit" disabled={create.isPending}>
                  Add mailbox
                </button>
              </fieldset>
            </form>
          </>
        ) : null}
        {confirm ? (
          <ConfirmDialog
            title="Remove mailbox"
            confirmLabel="Remove"
            onCancel={() => setConfirm(null)}
            onConfirm={() => {
              remove.mutate(confirm.id);
              setConfirm(null);
              setSelected(null);
            }}
          >
            <p>Remove the mailbox {confirm.address}?</p>
          </ConfirmDialog>
        ) : null}
      </div>
    </QueryState>
  );
}
