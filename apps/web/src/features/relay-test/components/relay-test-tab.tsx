import type { RelayTestCase } from '@ims/api-client';
import { useId, useState } from 'react';
import { isApiProblem, messageOf } from '../../../lib/problem';
import { useRunRelayTest } from '../api/run-relay-test';

/** A case's verdict: a relay from a source that may relay is as configured, not a failure. */
function verdictOf(c: RelayTestCase, sourceMayRelay: boolean): string {
  if (!c.passed) return 'FAIL';
  return sourceMayRelay && c.relayed ? 'Relayed (allowed)' : 'Pass';
}

/** Relay test: relay attempts against the running service, with what each got; the verdict first. */
export function RelayTestTab() {
  const id = useId();
  const run = useRunRelayTest();
  const [from, setFrom] = useState('');
  const result = run.data;
  return (
    <div className="relay-test">
      <form
        className="field-row"
        onSubmit={(e) => {
          e.preventDefault();
          run.mutate(from.trim() || undefined);
        }}
      >
        <label htmlFor={`${id}-from`}>Test from address (optional):</label>
        <input
          id={`${id}-from`}
          type="text"
          value={from}
          onChange={(e) => setFrom(e.target.value)}
        />
        <button type="submit" disabled={run.isPending}>
          Run relay test
        </button>
      </form>
      {run.isPending ? <p role="status">Running the relay test…</p> : null}
      {run.error ? (
        <p role="alert" className="field-error">
          {isApiProblem(run.error, 404)
            ? 'This console has no relay test yet.'
            : `The relay test failed: ${messageOf(run.error)}`}
        </p>
      ) : null}
      {result && !run.isPending ? (
        <section aria-label="Relay test results">
          {result.sourceMayRelay ? (
            <p className="relay-source-may-relay" role="note">
              <strong>The test's source address may relay.</strong> {result.sourceMayRelay}
            </p>
          ) : null}
          <p className={result.passed ? 'relay-passed' : 'relay-failed'}>
            {result.passed ? 'Passed' : 'Failed'}: {result.summary}
          </p>
          <p className="help">
            From {result.from} to {result.target.host}:{result.target.port}.
          </p>
          <section
            className="sunken-panel"
            aria-label="Relay test results table"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable from the keyboard (axe scrollable-region-focusable)
            tabIndex={0}
          >
            <table aria-label="Relay test cases" className="relay-cases">
              <colgroup>
                <col className="relay-col-result" />
                <col className="relay-col-case" />
                <col className="relay-col-path" />
                <col className="relay-col-path" />
                <col className="relay-col-expected" />
                <col className="relay-col-reply" />
              </colgroup>
              <thead>
                <tr>
                  <th scope="col">Result</th>
                  <th scope="col">Case</th>
                  <th scope="col">MAIL FROM</th>
                  <th scope="col">RCPT TO</th>
                  <th scope="col">Expected</th>
                  <th scope="col">Reply</th>
                </tr>
              </thead>
              <tbody>
                {result.cases.map((c) => (
                  <tr key={c.id} className={c.passed ? undefined : 'row-invalid'}>
                    <td>{verdictOf(c, result.sourceMayRelay !== undefined)}</td>
                    <td title={c.family}>{c.description}</td>
                    <td>{c.mailFrom}</td>
                    <td>{c.rcptTo}</td>
                    <td>{c.expected}</td>
                    <td>
                      <code>{c.reply}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </section>
      ) : null}
    </div>
  );
}
