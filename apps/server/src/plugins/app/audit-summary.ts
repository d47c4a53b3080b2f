/**
 * One line a person reads for each audit entry. The server is the one owner
 * of these sentences: the Audit tab and `ims audit` print them and never
 * derive them again. A configuration change is told with routing-core's
 * diff summaries, the sentences the History tab shows ("Added route
 * partner.example → mx.partner.example").
 */

/** What the summary is written from: an entry as it is stored. */
export interface SummarySource {
  action: string;
  target?: string;
  details?: unknown;
}

type Details = Record<string, unknown>;

const asDetails = (value: unknown): Details =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Details) : {};

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** `mailbox:alice@example.com` → `alice@example.com`; a target without a kind as it is. */
const named = (target: string | undefined, kind: string): string =>
  target?.startsWith(`${kind}:`) ? target.slice(kind.length + 1) : (target ?? '(unknown)');

/** The change summaries a save recorded (`details.changes[].summary`). */
function changeSummaries(details: Details): string[] {
  const changes = Array.isArray(details.changes) ? details.changes : [];
  return changes
    .map((c) => str(asDetails(c).summary))
    .filter((s): s is string => s !== undefined && s !== '');
}

/** "Added route a → b; Removed route c → d", or that nothing changed. */
function changesText(details: Details): string {
  const summaries = changeSummaries(details);
  return summaries.length > 0 ? summaries.join('; ') : 'no changes';
}

function versionOf(details: Details, target: string | undefined): string {
  const to = num(details.to);
  if (to !== undefined) return String(to);
  const m = /^routing:v(\d+)$/.exec(target ?? '');
  return m?.[1] ?? '?';
}

type Summarizer = (details: Details, target: string | undefined) => string;

function mailboxUpdated(d: Details, target: string | undefined): string {
  const parts: string[] = [];
  const name = asDetails(d.displayName);
  if (d.displayName !== undefined) {
    parts.push(`display name "${str(name.from) ?? ''}" → "${str(name.to) ?? ''}"`);
  }
  if (d.passwordChanged === true) parts.push('password changed');
  return `Mailbox ${named(target, 'mailbox')} updated${parts.length ? `: ${parts.join('; ')}` : ''}`;
}

/** "the message from a@x to b@y on node local", from a queue action's details. */
function queuedMessage(d: Details): string {
  const recipients = Array.isArray(d.recipients)
    ? d.recipients.filter((r) => typeof r === 'string')
    : [];
  const to = recipients.length > 0 ? ` to ${recipients.join(', ')}` : '';
  return `the message from ${str(d.from) || '<>'}${to} on node ${str(d.node) ?? '?'}`;
}

function relayTest(d: Details, target: string | undefined): string {
  const failed = Array.isArray(d.failed) ? d.failed.length : 0;
  const verdict = d.passed === true ? 'passed' : `failed (${failed} case(s) not as expected)`;
  return `Relay test of node ${named(target, 'node')} from ${str(d.from) ?? '?'}: ${verdict}`;
}

const SUMMARIES: Record<string, Summarizer> = {
  'routing.seeded': () => 'Version 1 created for a new install',
  'routing.saved': (d, t) => `Saved version ${versionOf(d, t)}: ${changesText(d)}`,
  'routing.restored': (d, t) => {
    const from = num(d.restoredFrom);
    const restored = from === undefined ? '' : ` (version ${from} restored)`;
    return `Saved version ${versionOf(d, t)}${restored}: ${changesText(d)}`;
  },
  'routing.rolled-back': (d, t) => {
    const from = num(d.restoredFrom);
    const back = num(d.rolledBack);
    const what = back === undefined ? '' : ` (rolling back version ${back})`;
    return `Rolled back to version ${from ?? '?'} as version ${versionOf(d, t)}${what}: ${changesText(d)}; every node restarted onto it`;
  },
  'service.restart': (d, t) => {
    const rolling = d.strategy === 'rolling';
    const order = Array.isArray(d.order) ? d.order.filter((n) => typeof n === 'string') : [];
    const how = rolling ? ` one node at a time (${order.join(', ')})` : '';
    return `Restart requested: the nodes are to run version ${versionOf(d, t)}${how}`;
  },
  'service.relay-test': relayTest,
  'mailbox.created': (d, t) => {
    const name = str(d.displayName);
    return `Mailbox ${named(t, 'mailbox')} created${name ? ` (${name})` : ''}`;
  },
  'mailbox.updated': mailboxUpdated,
  'mailbox.deleted': (_d, t) => `Mailbox ${named(t, 'mailbox')} deleted`,
  'user.created': (_d, t) => `User ${t ?? '(unknown)'} created`,
  'token.created': (d, t) => {
    const scope = str(d.scope);
    return `Token ${named(t, 'token')} created${scope ? ` (${scope} access)` : ''}`;
  },
  'token.revoked': (_d, t) => `Token ${named(t, 'token')} revoked`,
  'password.changed': (d, t) => {
    const n = num(d.revokedSessions) ?? 0;
    return `Password of ${t ?? '(unknown)'} changed; ${n} other session(s) signed out`;
  },
  'password.failed': (_d, t) =>
    `Password change of ${t ?? '(unknown)'} refused: wrong current password`,
  'session.revoked': (d, t) => {
    const n = num(d.revokedTokens) ?? 0;
    return `Session of ${str(d.username) ?? '(unknown)'} revoked (${t ?? '?'})${
      n > 0 ? `, with ${n} token(s) created in it` : ''
    }`;
  },
  'backup.taken': (d) => {
    const bytes = num(d.bytes);
    return `Backup of the console database taken${bytes === undefined ? '' : ` (${bytes} bytes)`}`;
  },
  'node.registered': (d, t) =>
    `Node ${named(t, 'node')} registered${d.embedded === true ? ' (the embedded local node)' : ''}`,
  'node.removed': (_d, t) => `Node ${named(t, 'node')} removed`,
  'node.attached': (d, t) => {
    const running = num(d.runningVersion);
    return `Node ${named(t, 'node')} attached${running === undefined ? '' : `, running version ${running}`}`;
  },
  'node.failed': (d, t) =>
    `Node ${named(t, 'node')} failed to load a version${str(d.error) ? `: ${str(d.error)}` : ''}`,
  'node.exited': (d, t) =>
    `Node ${named(t, 'node')} exited unasked${str(d.reason) ? ` (${str(d.reason)})` : ''}`,
  'node.crash-loop': (d, t) =>
    `Node ${named(t, 'node')} is crash-looping${str(d.reason) ? ` (last: ${str(d.reason)})` : ''}`,
  'queue.retried': (d) => `Retried ${queuedMessage(d)} now`,
  'queue.deleted': (d) =>
    `Deleted ${queuedMessage(d)} from the queue${
      d.ndrSent === true
        ? ', with a non-delivery report to its sender'
        : d.ndr === true
          ? ' (a non-delivery report was asked for, but none was sent)'
          : ''
    }`,
  login: () => 'Signed in',
  'login.failed': () => 'Sign-in refused: wrong user name or password',
  logout: () => 'Signed out',
};

/** The sentence for an entry; an action this table does not know reads as action and target. */
export function summarizeAudit(entry: SummarySource): string {
  const summarize = SUMMARIES[entry.action];
  if (summarize) return summarize(asDetails(entry.details), entry.target);
  return entry.target === undefined ? entry.action : `${entry.action} ${entry.target}`;
}

/** Who, for reading: "admin", or "admin via token deploy" for a token with its creator known. */
export function auditBy(actor: string, person: string | undefined): string {
  if (!actor.startsWith('token:')) return actor;
  const token = actor.slice('token:'.length);
  return person === undefined ? `token ${token}` : `${person} via token ${token}`;
}
