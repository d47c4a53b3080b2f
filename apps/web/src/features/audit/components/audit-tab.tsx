import type { AuditEntry } from '@ims/api-client';
import { useId, useState } from 'react';
import { QueryState } from '../../../components/ui/query-state';
import { type AuditFilter, useAudit } from '../api/get-audit';

/** The action families of the pick-list: the API matches a value ending with a dot as a prefix. */
export const AUDIT_FAMILIES: readonly { value: string; label: string }[] = [
  { value: '', label: 'All actions' },
  { value: 'routing.', label: 'Configuration saves and restores' },
  { value: 'service.', label: 'Restarts and relay tests' },
  { value: 'node.', label: 'Nodes' },
  { value: 'queue.', label: 'Queues' },
  { value: 'mailbox.', label: 'Mailboxes' },
  { value: 'token.', label: 'API tokens' },
  { value: 'user.', label: 'Users' },
];

function EntryRows({ entry }: { entry: AuditEntry }) {
  const [open, setOpen] = useState(false);
  const detailsId = useId();
  return (
    <>
      <tr>
        <td>{new Date(entry.at).toLocaleString()}</td>
        <td>{entry.by}</td>
        <td>{entry.source}</td>
        <td>
          <code>{entry.action}</code>
        </td>
        <td className="audit-summary">{entry.summary}</td>
        <td>
          <button
            type="button"
            aria-expanded={open}
            aria-controls={open ? detailsId : undefined}
            aria-label={`Details of entry ${entry.id}`}
            onClick={() => setOpen((o) => !o)}
          >
            Details
          </button>
        </td>
      </tr>
      {open ? (
        <tr className="audit-details-row">
          <td colSpan={6} id={detailsId}>
            <dl className="audit-details">
              {entry.target === undefined ? null : (
                <>
                  <dt>Target</dt>
                  <dd>{entry.target}</dd>
                </>
              )}
              <dt>Actor</dt>
              <dd>{entry.actor}</dd>
              {entry.details === undefined ? null : (
                <>
                  <dt>Details</dt>
                  <dd>
                    <pre>{JSON.stringify(entry.details, null, 2)}</pre>
                  </dd>
                </>
              )}
            </dl>
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** The audit log, newest first, a page at a time: one sentence per entry, the details on request. */
export function AuditTab() {
  const id = useId();
  const [filter, setFilter] = useState({ action: '', actor: '', signIns: false });
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const before = cursors.at(-1);
  const query: AuditFilter = { ...filter, ...(before === undefined ? {} : { before }) };
  const audit = useAudit(query);
  const page = cursors.length;
  const change = (next: Partial<typeof filter>) => {
    setFilter((f) => ({ ...f, ...next }));
    setCursors([undefined]);
  };
  return (
    <div className="audit">
      <form
        className="field-row audit-filter"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          change({ actor: String(data.get('actor') ?? '') });
        }}
      >
        <label htmlFor={`${id}-action`}>Show:</label>
        <select
          id={`${id}-action`}
          value={filter.action}
          onChange={(e) => change({ action: e.target.value })}
        >
          {AUDIT_FAMILIES.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        <input
          id={`${id}-sign-ins`}
          type="checkbox"
          checked={filter.signIns}
          onChange={(e) => change({ signIns: e.target.checked })}
        />
        <label htmlFor={`${id}-sign-ins`}>Show sign-ins</label>
        <label htmlFor={`${id}-actor`}>By:</label>
        <input id={`${id}-actor`} name="actor" type="text" defaultValue={filter.actor} />
        <button type="submit">Filter</button>
      </form>
      <QueryState
        isPending={audit.isPending}
        error={audit.error}
        onRetry={() => void audit.refetch()}
        what="the audit log"
      >
        <section
          className="sunken-panel audit-table"
          aria-label="Audit entries"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable from the keyboard (axe scrollable-region-focusable)
          tabIndex={0}
        >
          <table aria-label="Audit log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">From</th>
                <th scope="col">Action</th>
                <th scope="col">What</th>
                <th scope="col">
                  <span className="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(audit.data?.entries ?? []).map((e) => (
                <EntryRows key={e.id} entry={e} />
              ))}
              {audit.data?.entries.length === 0 ? (
                <tr>
                  <td colSpan={6}>No entries.</td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </section>
        <div className="list-buttons">
          <button
            type="button"
            disabled={page === 1}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            Newer
          </button>
          <span className="page-number">Page {page}</span>
          <button
            type="button"
            disabled={audit.data?.nextBefore === undefined || audit.isPlaceholderData}
            onClick={() => setCursors((c) => [...c, audit.data?.nextBefore])}
          >
            Older
          </button>
        </div>
      </QueryState>
    </div>
  );
}
