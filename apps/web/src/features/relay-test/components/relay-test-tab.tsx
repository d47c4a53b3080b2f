import { useId, useState } from 'react';
import { isApiProblem, messageOf } from '../../../lib/problem';
import { useRunRelayTest } from '../api/run-relay-test';

/** Relay test: relay attempts against the running service, with what each got. */
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
          <p className={result.passed ? 'relay-passed' : 'relay-failed'}>
            {result.passed ? 'Passed' : 'Failed'}: {result.cases.filter((c) => c.passed).length} of{' '}
            {result.cases.length} cases as expected, from {result.from} to {result.target.host}:
            {result.target.port}.
          </p>
          <section
            className="sunken-panel"
            aria-label="Relay test results table"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable from the keyboard (axe scrollable-region-focusable)
            tabIndex={0}
          >
            <table aria-label="Relay test cases">
              <thead>
                <tr>
                  <th scope="col">Case</th>
                  <th scope="col">MAIL FROM</th>
                  <th scope="col">RCPT TO</th>
                  <th scope="col">Expected</th>
                  <th scope="col">Reply</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {result.cases.map((c) => (
                  <tr key={c.id} className={c.passed ? undefined : 'row-invalid'}>
                    <td title={c.family}>{c.description}</td>
                    <td>{c.mailFrom}</td>
                    <td>{c.rcptTo}</td>
                    <td>{c.expected}</td>
                    <td>
                      <code>{c.reply}</code>
                    </td>
                    <td>{c.passed ? 'Pass' : 'FAIL'}</td>
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
