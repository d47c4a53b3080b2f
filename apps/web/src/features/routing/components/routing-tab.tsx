import { type Finding, formatReply, REPLIES, type RoutingConfig } from '@ims/routing-core';
import { type ReactNode, useId, useState } from 'react';
import { ListView } from '../../../components/ui/list-view';
import { fieldsUnder } from '../../../lib/problem';
import { FieldErrors } from './field-errors';
import { FindingsPanel } from './findings-panel';
import { RestrictionsDialog } from './restrictions-dialog';
import { RouteDialog } from './route-dialog';

export interface RoutingTabProps {
  draft: RoutingConfig;
  update: (change: (draft: RoutingConfig) => RoutingConfig) => void;
  /** Field errors from the server, keyed by pointer into the configuration. */
  errors: Record<string, string>;
  findings: readonly Finding[];
  onFix: (finding: Finding) => void;
  readOnly: boolean;
  /** Shown under the advisor: the draft's impact on recorded traffic. */
  impact?: ReactNode;
}

/** The Routing tab of the Internet Mail Service Properties. */
export function RoutingTab({
  draft,
  update,
  errors,
  findings,
  onFix,
  readOnly,
  impact,
}: RoutingTabProps) {
  const id = useId();
  const [selected, setSelected] = useState<number | null>(null);
  const [editing, setEditing] = useState<number | 'new' | null>(null);
  const [restrictionsOpen, setRestrictionsOpen] = useState(false);
  const reroute = draft.rerouteMode === 'reroute';
  const listDisabled = !reroute || readOnly;
  const current = selected !== null && selected < draft.routes.length ? selected : null;
  const routeErrors = fieldsUnder(errors, '/routes');
  const otherErrors = Object.fromEntries(
    Object.entries(errors).filter(
      ([p]) =>
        !p.startsWith('/routes') &&
        !p.startsWith('/restrictions') &&
        p !== '/rejectUnknownRecipients',
    ),
  );
  const restrictionErrors = fieldsUnder(errors, '/restrictions');

  const removeRoute = (index: number) => {
    update((d) => ({ ...d, routes: d.routes.filter((_, i) => i !== index) }));
    setSelected(draft.routes.length > 1 ? Math.min(index, draft.routes.length - 2) : null);
  };

  return (
    <div className="routing-tab">
      <FieldErrors errors={otherErrors} />
      <fieldset disabled={readOnly} className="plain">
        <legend className="visually-hidden">Reroute mode</legend>
        <div className="field-row">
          <input
            id={`${id}-no-reroute`}
            type="radio"
            name="reroute-mode"
            checked={!reroute}
            onChange={() => update((d) => ({ ...d, rerouteMode: 'no-reroute' }))}
          />
          <label htmlFor={`${id}-no-reroute`}>Do not reroute incoming SMTP mail</label>
        </div>
        <div className="field-row">
          <input
            id={`${id}-reroute`}
            type="radio"
            name="reroute-mode"
            checked={reroute}
            onChange={() => update((d) => ({ ...d, rerouteMode: 'reroute' }))}
          />
          <label htmlFor={`${id}-reroute`}>
            Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)
          </label>
        </div>
      </fieldset>

      <div className="routing-list-area">
        <div className="routing-list">
          <p id={`${id}-routes-label`} className={listDisabled ? 'is-disabled-text' : undefined}>
            Routing:
          </p>
          <ListView
            label="Routing"
            columns={[
              { header: 'Sent to', cell: (r) => r.sentTo, width: '50%' },
              { header: 'Route to', cell: (r) => r.routeTo },
            ]}
            rows={draft.routes}
            selected={current}
            onSelect={setSelected}
            onActivate={(i) => setEditing(i)}
            onDelete={removeRoute}
            disabled={listDisabled}
            emptyText="(no routes)"
            height={150}
            invalid={(i) =>
              Object.keys(routeErrors).some((p) => p.startsWith(`/${i}/`) || p === `/${i}`)
            }
          />
          <FieldErrors
            errors={routeErrors}
            describe={(p) => `Routing entry ${Number(p.split('/')[1]) + 1}`}
          />
        </div>
        <div className="list-buttons vertical">
          <button type="button" disabled={listDisabled} onClick={() => setEditing('new')}>
            Add...
          </button>
          <button
            type="button"
            disabled={listDisabled || current === null}
            onClick={() => setEditing(current)}
          >
            Edit...
          </button>
          <button
            type="button"
            disabled={listDisabled || current === null}
            onClick={() => current !== null && removeRoute(current)}
          >
            Remove
          </button>
        </div>
      </div>

      <div className="field-row restrictions-row">
        <button type="button" onClick={() => setRestrictionsOpen(true)} disabled={readOnly}>
          Routing Restrictions...
        </button>
        {Object.keys(restrictionErrors).length > 0 ? (
          <span className="field-error">
            The routing restrictions have errors: open them to see where.
          </span>
        ) : null}
      </div>

      <fieldset disabled={readOnly} className="plain">
        <legend className="visually-hidden">Unknown recipients</legend>
        <div className="field-row">
          <input
            id={`${id}-reject-unknown`}
            type="checkbox"
            checked={draft.rejectUnknownRecipients}
            aria-describedby={`${id}-reject-unknown-help`}
            onChange={(e) => update((d) => ({ ...d, rejectUnknownRecipients: e.target.checked }))}
          />
          <label htmlFor={`${id}-reject-unknown`}>Reject unknown recipients at RCPT time</label>
        </div>
        <p id={`${id}-reject-unknown-help`} className="help indent">
          When ticked, a local recipient that is not in the directory gets{' '}
          <code>{formatReply(REPLIES.unknownRecipient)}</code>, and with "Do not reroute" a
          recipient in any other domain gets <code>{formatReply(REPLIES.relayDenied)}</code>. When
          not ticked, both are accepted and a non-delivery report goes to the sender: that report is
          how the original service could be used to relay spam to any address put in MAIL FROM
          (Q255695).
        </p>
        <FieldErrors errors={fieldsUnder(errors, '/rejectUnknownRecipients')} />
      </fieldset>

      <FindingsPanel findings={findings} onFix={onFix} readOnly={readOnly} />
      {impact}

      {editing !== null ? (
        <RouteDialog
          route={editing === 'new' ? null : (draft.routes[editing] ?? null)}
          others={draft.routes.filter((_, i) => i !== editing)}
          onClose={() => setEditing(null)}
          onSave={(route) => {
            if (editing === 'new') {
              update((d) => ({ ...d, routes: [...d.routes, route] }));
              setSelected(draft.routes.length);
            } else {
              update((d) => ({
                ...d,
                routes: d.routes.map((r, i) => (i === editing ? route : r)),
              }));
            }
            setEditing(null);
          }}
        />
      ) : null}
      {restrictionsOpen ? (
        <RestrictionsDialog
          restrictions={draft.restrictions}
          rerouteMode={draft.rerouteMode}
          errors={restrictionErrors}
          onClose={() => setRestrictionsOpen(false)}
          onSave={(restrictions) => {
            update((d) => ({ ...d, restrictions }));
            setRestrictionsOpen(false);
          }}
        />
      ) : null}
    </div>
  );
}
