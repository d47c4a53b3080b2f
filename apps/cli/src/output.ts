/** Plain-text rendering for people; `--json` output is the API's own documents. */

import type {
  ImpactResult,
  NodeView,
  Problem,
  QueueList,
  RoutingState,
  Service,
} from '@ims/api-client';
import {
  describeImpactChange,
  describeImpactSummary,
  RESTRICTION_LABELS,
  type RoutingConfig,
} from '@ims/routing-core';

type Finding = RoutingState['findings'][number];

/** A left-aligned table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const box = (on: boolean) => (on ? '[x]' : '[ ]');
const entries = (list: { ip: string; mask: string }[]) =>
  list.length === 0 ? '(none)' : list.map((e) => `${e.ip}/${e.mask}`).join(', ');

export function describeConfig(config: RoutingConfig): string {
  const r = config.restrictions;
  const lines = [
    `Site domain:   ${config.siteDomain}`,
    `Mode:          ${
      config.rerouteMode === 'reroute'
        ? 'Reroute incoming SMTP mail (reroute)'
        : 'Do not reroute incoming SMTP mail (no-reroute)'
    }`,
    'Routing table:',
    ...(config.routes.length === 0
      ? ['  (empty)']
      : config.routes.map((route) => `  ${route.sentTo} → ${route.routeTo}`)),
    'Routing restrictions (a client may relay if any ticked one holds):',
    `  ${box(r.authenticated)} ${RESTRICTION_LABELS.authenticated}`,
    `  ${box(r.clientAddresses.enabled)} ${RESTRICTION_LABELS.clientAddresses}: ${entries(r.clientAddresses.entries)}`,
    `  ${box(r.internalAddresses.enabled)} ${RESTRICTION_LABELS.internalAddresses}: ${entries(r.internalAddresses.entries)}`,
    `  Never route mail from: ${entries(r.neverRoute)}`,
    `Reject unknown recipients at RCPT time: ${config.rejectUnknownRecipients ? 'yes' : 'no'}`,
  ];
  return lines.join('\n');
}

export function describeFindings(findings: Finding[]): string {
  if (findings.length === 0) return 'No findings.';
  return findings
    .map(
      (f) =>
        `  ${f.severity.toUpperCase().padEnd(8)} ${f.id}: ${f.message} (${f.reference})${
          f.fix ? `\n           fix: ${f.fix.description}` : ''
        }`,
    )
    .join('\n');
}

/** The impact preview: the headline, then one line per changed row (the same words as the web). */
export function describeImpact(
  result: ImpactResult,
  draft: RoutingConfig,
  now = Date.now(),
): string {
  return [
    describeImpactSummary(result, now),
    ...result.changes.map((c) => `  ${describeImpactChange(draft, c)}`),
  ].join('\n');
}

export function describeState(state: RoutingState): string {
  return [
    `Version ${state.version}, saved by ${state.savedBy} at ${state.savedAt}`,
    describeConfig(state.config),
    'Findings:',
    describeFindings(state.findings),
  ].join('\n');
}

const count = (n: number | undefined) => (n === undefined ? '-' : String(n));

/** 1536 → "1.5 KB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The nodes' outbound queues: one row per queued message. */
export function describeQueue(q: QueueList): string {
  const rows = q.nodes.flatMap((n) =>
    n.messages.map((m) => [
      n.name,
      m.id,
      m.from === '' ? '<>' : m.from,
      m.recipients.join(','),
      bytes(m.size),
      m.queuedAt,
      String(m.attempts),
      m.nextAttemptAt,
      m.lastError ?? '',
    ]),
  );
  const nodes = q.nodes.length === 1 ? '1 online node' : `${q.nodes.length} online nodes`;
  if (rows.length === 0) return `No message is queued (${nodes}).`;
  return [
    table(
      [
        'NODE',
        'ID',
        'FROM',
        'RECIPIENTS',
        'SIZE',
        'QUEUED',
        'ATTEMPTS',
        'NEXT ATTEMPT',
        'LAST ERROR',
      ],
      rows,
    ),
    `${rows.length} queued message${rows.length === 1 ? '' : 's'} on ${nodes}.`,
  ].join('\n');
}

export function describeNodes(nodes: NodeView[]): string {
  if (nodes.length === 0) return 'No SMTP node is registered.';
  return table(
    ['ID', 'NODE', 'STATE', 'ONLINE', 'RUNS', 'QUEUED', 'DEFERRED', 'LISTEN', 'LAST ERROR'],
    nodes.map((n) => [
      String(n.id),
      n.name,
      n.state,
      n.online ? 'yes' : 'no',
      n.runningVersion === null ? '-' : `v${n.runningVersion}`,
      // The node's own counters (it reports them with its status).
      count(n.counters.queueMessages),
      count(n.counters.queueDeferred),
      n.listen.join(',') || '-',
      n.lastError ?? '',
    ]),
  );
}

export function describeService(s: Service): string {
  return [
    `Saved version ${s.savedVersion}; nodes were last told to run version ${s.targetVersion}.`,
    s.restart.summary,
    ...(s.restart.state === 'pending' || s.restart.state === 'failed'
      ? ['Restart pending: the saved configuration is not applied yet (ims restart --wait).']
      : []),
    describeNodes(s.nodes),
  ].join('\n');
}

export function describeProblem(p: Problem & { [k: string]: unknown }): string {
  const lines = [`error: ${p.title}${p.detail && p.detail !== p.title ? `: ${p.detail}` : ''}`];
  for (const e of p.errors ?? []) lines.push(`  ${e.pointer || '/'}: ${e.detail}`);
  const findings = p.findings as Finding[] | undefined;
  if (findings?.length) lines.push(describeFindings(findings));
  return lines.join('\n');
}
