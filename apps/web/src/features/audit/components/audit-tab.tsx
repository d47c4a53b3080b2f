import { useId, useState } from 'react';
import { QueryState } from '../../../components/ui/query-state';
import { type AuditFilter, useAudit } from '../api/get-audit';

function details(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** The audit log, newest first, a page at a time. */
export function AuditTab() {
  const id = useId();
  const [filter, setFilter] = useState({ action: '', actor: '' });
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const before = cursors.at(-1);
  const query: AuditFilter = { ...filter, ...(before === undefined ? {} : { before }) };
  const audit = useAudit(query);
  const page = cursors.length;
  return (
    <div className="audit">
      <form
        className="field-row audit-filter"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          setFilter({
            action: String(data.get('action') ?? ''),
            actor: String(data.get('actor') ?? ''),
          });
          setCursors([undefined]);
        }}
      >
        <label htmlFor={`${id}-action`}>Action:</label>
        <input
          id={`${id}-action`}
          name="action"
          type="text"
          defaultValue={filter.action}
          placeholder="routing.saved"
        />
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
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {(audit.data?.entries ?? []).map((e) => (
                <tr key={e.id}>
                  <td>{new Date(e.at).toLocaleString()}</td>
                  <td>{e.actor}</td>
                  <td>{e.source}</td>
                  <td>{e.action}</td>
                  <td>{e.target ?? ''}</td>
                  <td className="audit-details">{details(e.details)}</td>
                </tr>
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
