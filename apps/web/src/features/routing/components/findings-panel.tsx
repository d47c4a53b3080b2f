import type { Finding } from '@ims/routing-core';

const SEVERITY_LABEL = { critical: 'Critical', warning: 'Warning', info: 'Info' } as const;

/** Findings for the draft, most severe first; each fix is one click. */
export function FindingsPanel({
  findings,
  onFix,
  readOnly = false,
}: {
  findings: readonly Finding[];
  onFix: (finding: Finding) => void;
  readOnly?: boolean;
}) {
  return (
    <section className="findings" aria-labelledby="findings-title">
      <h2 id="findings-title" className="group-title">
        Security advisor
      </h2>
      <div className="sunken-panel findings-list" aria-live="polite">
        {findings.length === 0 ? (
          <p className="finding-none">No findings for this configuration.</p>
        ) : (
          <ul>
            {findings.map((f) => (
              <li key={f.id} className={`finding ${f.severity}`} data-finding={f.id}>
                <span className="finding-severity">{SEVERITY_LABEL[f.severity]}:</span>{' '}
                <span className="finding-message">{f.message}</span>{' '}
                <span className="finding-reference">({f.reference})</span>
                {f.fix && !readOnly ? (
                  <button type="button" className="finding-fix" onClick={() => onFix(f)}>
                    Fix: {f.fix.description}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
