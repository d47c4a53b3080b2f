import type { ImpactChange, ImpactResult } from '@ims/api-client';
import { describeImpactChange, describeImpactSummary, type RoutingConfig } from '@ims/routing-core';
import type { UseQueryResult } from '@tanstack/react-query';
import { messageOf } from '../../../lib/problem';

/** Rows shown before "and N more". */
const SHOWN = 10;

/** The headline and the changed rows, in the words the CLI prints too. */
export function ImpactSummary({
  impact,
  draft,
  changes = impact.changes,
}: {
  impact: ImpactResult;
  draft: RoutingConfig;
  /** The rows to list (default: every changed row). */
  changes?: readonly ImpactChange[];
}) {
  const rest = changes.length - SHOWN;
  return (
    <>
      <p className="impact-summary">{describeImpactSummary(impact, Date.now())}</p>
      {changes.length > 0 ? (
        <ul className="impact-changes" aria-label="Changes">
          {changes.slice(0, SHOWN).map((c) => (
            <li
              key={`${c.clientIp}|${c.serverIp}|${c.authenticated}|${c.recipientDomain}|${c.before}|${c.after}`}
              className={c.after === 'reject' ? 'finding critical' : 'finding info'}
            >
              {describeImpactChange(draft, c)}
            </li>
          ))}
          {rest > 0 ? <li className="muted">and {rest} more</li> : null}
        </ul>
      ) : null}
    </>
  );
}

/**
 * Under the advisor: what the draft would change for the traffic the nodes
 * recorded (running version vs the draft, judged by routing-core on the console).
 */
export function ImpactPanel({
  query,
  draft,
  pending,
}: {
  query: UseQueryResult<ImpactResult>;
  draft: RoutingConfig;
  /** The draft changed since the preview shown was asked for, or the answer is on its way. */
  pending: boolean;
}) {
  return (
    <section className="findings impact" aria-labelledby="impact-title">
      <h2 id="impact-title" className="group-title">
        Impact on recorded traffic
      </h2>
      <div className="sunken-panel findings-list" aria-live="polite" aria-busy={pending}>
        {query.data ? (
          <ImpactSummary impact={query.data} draft={draft} />
        ) : query.error ? (
          <p className="notice muted">Impact preview unavailable: {messageOf(query.error)}</p>
        ) : (
          <p className="finding-none">Checking the traffic the nodes recorded…</p>
        )}
      </div>
    </section>
  );
}
