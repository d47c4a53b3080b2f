import type { ConfigChange } from '@ims/api-client';

/** A difference between two configurations, in the dialog's words. */
export function ChangesList({
  changes,
  label,
}: {
  changes: readonly ConfigChange[];
  label: string;
}) {
  if (changes.length === 0) return <p className="help">{label}: no changes.</p>;
  return (
    <div className="changes">
      <p className="changes-label">{label}:</p>
      <ul className="sunken-panel changes-list">
        {changes.map((c) => (
          <li key={`${c.kind}:${c.pointer}`} className={`change ${c.kind}`}>
            <span className="change-kind">
              {c.kind === 'add' ? '+' : c.kind === 'remove' ? '−' : '~'}
            </span>{' '}
            {c.summary}
          </li>
        ))}
      </ul>
    </div>
  );
}
