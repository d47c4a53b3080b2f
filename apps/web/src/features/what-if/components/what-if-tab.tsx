import type { EvaluateBody, EvaluateResult } from '@ims/api-client';
import type { RoutingConfig } from '@ims/routing-core';
import { type FormEvent, useId, useState } from 'react';
import { messageOf } from '../../../lib/problem';
import { useEvaluate } from '../api/evaluate';

type Against = EvaluateBody['against'];

interface RuleLike {
  kind?: string;
  sentTo?: string;
  routeTo?: string;
  ip?: string;
  mask?: string;
  list?: string;
  criterion?: string;
  pointer?: string;
}

/** The deciding rule, in words, and a test for the trace line that names it. */
function describeRule(rule: unknown): { text: string; matches: (line: string) => boolean } | null {
  if (!rule || typeof rule !== 'object') return null;
  const r = rule as RuleLike;
  if (r.kind === 'route' && r.sentTo) {
    return {
      text: `Routing entry ${r.sentTo} → ${r.routeTo}`,
      matches: (l) => l.includes(r.sentTo!),
    };
  }
  if (r.kind === 'address' && r.ip) {
    return {
      text: `${r.list === 'neverRoute' ? 'Never-route' : 'Address'} entry ${r.ip} / ${r.mask}`,
      matches: (l) => l.includes(r.ip!),
    };
  }
  if (r.kind === 'criterion') {
    return {
      text:
        r.criterion === 'authenticated'
          ? 'Hosts and clients that successfully authenticate'
          : 'No restriction is ticked',
      matches: (l) =>
        r.criterion === 'authenticated'
          ? /authenticat/i.test(l)
          : /no restriction|none is ticked|not ticked/i.test(l),
    };
  }
  return null;
}

function Result({ result }: { result: EvaluateResult }) {
  const rule = describeRule(result.decision.rule);
  const trace = result.decision.trace;
  let decisive = trace.length - 1;
  if (rule) {
    for (let i = trace.length - 1; i >= 0; i--) {
      if (rule.matches(trace[i] ?? '')) {
        decisive = i;
        break;
      }
    }
  }
  return (
    <section className="what-if-result" aria-label="Result" aria-live="polite">
      <p>
        Decision:{' '}
        <strong className={`decision ${result.decision.action}`}>{result.decision.action}</strong> (
        {result.decision.reason})
        {result.version !== undefined ? <> — version {result.version}</> : null}
      </p>
      <p>
        SMTP reply: <code className="smtp-reply">{result.reply.line}</code>
      </p>
      {rule ? <p>Deciding rule: {rule.text}</p> : null}
      <ol className="sunken-panel trace" aria-label="Trace">
        {trace.map((line, i) => (
          <li
            key={i}
            className={i === decisive ? 'trace-decisive' : undefined}
            aria-current={i === decisive ? 'step' : undefined}
          >
            {line}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** "Test a recipient": what the service would answer, against the draft, saved or running configuration. */
export function WhatIfTab({ draft }: { draft: RoutingConfig | null }) {
  const id = useId();
  const evaluate = useEvaluate();
  const [form, setForm] = useState({
    clientIp: '203.0.113.9',
    serverIp: '127.0.0.1',
    authenticated: false,
    mailFrom: '<someone@remote.example>',
    rcptTo: '<someone@elsewhere.example>',
    against: 'draft' as Against,
  });
  const set = <K extends keyof typeof form>(key: K, value: (typeof form)[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { against, ...input } = form;
    evaluate.mutate({
      ...input,
      against,
      ...(against === 'draft' && draft ? { config: draft } : {}),
    });
  };
  const text = (key: 'clientIp' | 'serverIp' | 'mailFrom' | 'rcptTo', label: string) => (
    <div className="field-row-stacked">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input
        id={`${id}-${key}`}
        type="text"
        value={form[key]}
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => set(key, e.target.value)}
      />
    </div>
  );
  return (
    <div className="what-if">
      <form onSubmit={submit} className="what-if-form">
        <div className="grid-2">
          {text('clientIp', 'Client IP address:')}
          {text('serverIp', 'Server IP address (connected to):')}
          {text('mailFrom', 'MAIL FROM:')}
          {text('rcptTo', 'RCPT TO:')}
        </div>
        <div className="field-row">
          <input
            id={`${id}-auth`}
            type="checkbox"
            checked={form.authenticated}
            onChange={(e) => set('authenticated', e.target.checked)}
          />
          <label htmlFor={`${id}-auth`}>The client authenticated (SMTP AUTH)</label>
        </div>
        <fieldset>
          <legend>Test against</legend>
          {(
            [
              ['draft', 'The draft (unsaved changes)'],
              ['saved', 'The saved configuration'],
              ['running', 'What the service runs now'],
            ] as const
          ).map(([value, label]) => (
            <div className="field-row" key={value}>
              <input
                id={`${id}-against-${value}`}
                type="radio"
                name={`${id}-against`}
                checked={form.against === value}
                onChange={() => set('against', value)}
              />
              <label htmlFor={`${id}-against-${value}`}>{label}</label>
            </div>
          ))}
        </fieldset>
        <button type="submit" disabled={evaluate.isPending}>
          Test
        </button>
      </form>
      {evaluate.isPending ? <p role="status">Testing…</p> : null}
      {evaluate.error ? (
        <p role="alert" className="field-error">
          {messageOf(evaluate.error)}
        </p>
      ) : null}
      {evaluate.data && !evaluate.isPending ? <Result result={evaluate.data} /> : null}
    </div>
  );
}
