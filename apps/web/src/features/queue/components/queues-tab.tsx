import type { QueuedMessage } from '@ims/api-client';
import { useId, useState } from 'react';
import { Dialog } from '../../../components/ui/dialog';
import { ListView } from '../../../components/ui/list-view';
import { QueryState } from '../../../components/ui/query-state';
import { messageOf } from '../../../lib/problem';
import { useDeleteMessage } from '../api/delete-message';
import { useQueue } from '../api/get-queue';
import { useRetryMessage } from '../api/retry-message';

interface Row {
  node: string;
  message: QueuedMessage;
}

/** 1536 → "1.5 KB". */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const when = (iso: string) => new Date(iso).toLocaleString();

/**
 * Queues: the messages every online node holds for delivery (Exchange 5.5's
 * Internet Mail Service sheet had this tab), with Retry now and Delete.
 */
export function QueuesTab({ canWrite }: { canWrite: boolean }) {
  const id = useId();
  const queue = useQueue();
  const retry = useRetryMessage();
  const remove = useDeleteMessage();
  // The selection follows the message, not its row: a refresh may reorder them.
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Row | null>(null);
  const [ndr, setNdr] = useState(false);
  const rows: Row[] =
    queue.data?.nodes.flatMap((n) => n.messages.map((message) => ({ node: n.name, message }))) ??
    [];
  const found = rows.findIndex((r) => keyOf(r) === selectedKey);
  const selected = found >= 0 ? found : null;
  const current = selected !== null ? rows[selected] : undefined;
  const error = retry.error ?? remove.error;
  const doRetry = (row: Row | undefined) => {
    if (row) retry.mutate({ node: row.node, id: row.message.id });
  };

  const askDelete = (row: Row | undefined) => {
    if (!row) return;
    setNdr(false);
    setConfirm(row);
  };

  return (
    <div className="queues">
      <p>
        Messages waiting for delivery on the online SMTP nodes. A message stays here while its next
        hop does not answer or answers with a temporary failure; it is retried on a schedule.
      </p>
      <QueryState
        isPending={queue.isPending}
        error={queue.error}
        onRetry={() => void queue.refetch()}
        what="the queues"
      >
        <ListView
          label="Queued messages"
          columns={[
            { header: 'Node', cell: (r: Row) => r.node },
            { header: 'From', cell: (r) => (r.message.from === '' ? '<>' : r.message.from) },
            { header: 'Recipients', cell: (r) => r.message.recipients.join(', ') },
            { header: 'Size', cell: (r) => size(r.message.size) },
            { header: 'Queued', cell: (r) => when(r.message.queuedAt) },
            { header: 'Attempts', cell: (r) => String(r.message.attempts) },
            { header: 'Next attempt', cell: (r) => when(r.message.nextAttemptAt) },
            { header: 'Last error', cell: (r) => r.message.lastError ?? '' },
          ]}
          rows={rows}
          selected={selected}
          onSelect={(i) => {
            const row = i === null ? undefined : rows[i];
            setSelectedKey(row ? keyOf(row) : null);
          }}
          onActivate={canWrite ? (i) => doRetry(rows[i]) : undefined}
          onDelete={canWrite ? (i) => askDelete(rows[i]) : undefined}
          emptyText="(no messages are queued)"
          height={180}
        />
      </QueryState>
      {current ? (
        <p className="queue-detail">
          <strong>{current.message.recipients.join(', ')}</strong> ({current.node},{' '}
          {current.message.id}): {current.message.lastError ?? 'not tried yet'}
        </p>
      ) : null}
      <div className="list-buttons">
        <button type="button" onClick={() => void queue.refetch()} disabled={queue.isFetching}>
          Refresh
        </button>
        {canWrite ? (
          <>
            <button
              type="button"
              disabled={!current || retry.isPending}
              onClick={() => doRetry(current)}
            >
              Retry now
            </button>
            <button
              type="button"
              disabled={!current || remove.isPending}
              onClick={() => askDelete(current)}
            >
              Delete…
            </button>
          </>
        ) : null}
      </div>
      {error ? (
        <p role="alert" className="field-error">
          {messageOf(error)}
        </p>
      ) : null}
      {confirm ? (
        <Dialog
          title="Delete message"
          role="alertdialog"
          onClose={() => setConfirm(null)}
          initialFocus=".dialog-buttons button:last-child"
          footer={
            <>
              <button
                type="button"
                onClick={() => {
                  remove.mutate({ node: confirm.node, id: confirm.message.id, ndr });
                  setConfirm(null);
                  setSelectedKey(null);
                }}
              >
                Delete
              </button>
              <button type="button" onClick={() => setConfirm(null)}>
                Cancel
              </button>
            </>
          }
        >
          <p>
            Delete the message from {confirm.message.from === '' ? '<>' : confirm.message.from} to{' '}
            {confirm.message.recipients.join(', ')} from the queue of {confirm.node}?
          </p>
          <div className="field-row">
            <input
              id={`${id}-ndr`}
              type="checkbox"
              checked={ndr}
              disabled={confirm.message.from === ''}
              onChange={(e) => setNdr(e.target.checked)}
            />
            <label htmlFor={`${id}-ndr`}>Send a non-delivery report to the sender</label>
          </div>
        </Dialog>
      ) : null}
    </div>
  );
}

const keyOf = (row: Row) => `${row.node}/${row.message.id}`;
