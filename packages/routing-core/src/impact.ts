/**
 * Impact preview (issue 14 §1-2): what a draft configuration would change
 * for the traffic the SMTP nodes actually saw. The nodes keep decision
 * records: per client address, server address, authenticated or not and
 * recipient (the address for a local recipient; only the domain otherwise:
 * no external address is kept), the count of RCPT decisions by action.
 * impact() evaluates each record with the running configuration and with
 * the draft, with evaluate() itself (no second implementation), and returns
 * the rows whose action changes, grouped and sorted by count.
 *
 * `before` is what the running configuration decides for the record now,
 * not the action recorded at the time: a change saved earlier in the window
 * is then not reported as the draft's doing, and the preview is the same
 * pure function of (running, draft, records) on every call. The recorded
 * actions stay in the records as the history of what happened.
 *
 * A record of a non-local recipient keeps only the domain, so a draft that
 * makes that domain local evaluates it with a local part no mailbox has
 * (IMPACT_LOCAL_PART): the recipient would be unknown there, which is what
 * the directory says of addresses in a domain that was not local.
 */

import type { Policy } from './compile';
import type { RoutingConfig } from './config';
import { type Directory, directoryLookup, type Envelope } from './decide';
import { type Action, type Decision, evaluate, policyOf } from './evaluate';

/** The actions a record counts, in a fixed order. */
export const ACTIONS: readonly Action[] = ['deliver', 'relay', 'reject', 'accept-ndr'];

/** What a decision record is kept by: never message content, never an external address. */
export interface TrafficKey {
  clientIp: string;
  serverIp: string;
  authenticated: boolean;
  /** A local recipient's address (canonical), `Postmaster`, or a non-local recipient's domain. */
  recipient: string;
  /** Whether the recipient was local when it was recorded (then `recipient` is the address). */
  local: boolean;
}

/** RCPT decisions of one key over the window, by action. */
export interface TrafficRecord extends TrafficKey {
  counts: Record<Action, number>;
}

/** One row of an impact preview: these transactions would get `after` instead of `before`. */
export interface ImpactChange {
  clientIp: string;
  serverIp: string;
  authenticated: boolean;
  recipientDomain: string;
  before: Action;
  after: Action;
  count: number;
}

export interface Impact {
  /** RCPT decisions the records hold in all. */
  transactions: number;
  /** The rows whose action changes, most transactions first. */
  changes: ImpactChange[];
}

/** The local part a domain-only record is evaluated with. */
export const IMPACT_LOCAL_PART = 'impact-preview';

const LOCAL_REASONS = new Set<Decision['reason']>([
  'local-delivery',
  'postmaster',
  'unknown-recipient',
]);

/**
 * The key a decision is recorded under, or undefined for a decision no
 * configuration can change (a malformed recipient or sender path).
 */
export function trafficKeyOf(envelope: Envelope, decision: Decision): TrafficKey | undefined {
  const recipient = decision.recipient;
  if (recipient === undefined) return undefined;
  const local = LOCAL_REASONS.has(decision.reason);
  const at = recipient.lastIndexOf('@');
  if (!local && at < 0) return undefined;
  return {
    clientIp: envelope.clientIp,
    serverIp: envelope.serverIp,
    authenticated: envelope.authenticated === true,
    recipient: local ? recipient : recipient.slice(at + 1),
    local,
  };
}

/** The recipient domain a key stands for ('' for `<Postmaster>`). */
export function recipientDomainOf(key: TrafficKey): string {
  if (!key.local) return key.recipient;
  const at = key.recipient.lastIndexOf('@');
  return at < 0 ? '' : key.recipient.slice(at + 1);
}

/** The envelope a record is evaluated with (the sender never changes an action). */
export function envelopeOf(key: TrafficKey): Envelope {
  return {
    clientIp: key.clientIp,
    serverIp: key.serverIp,
    authenticated: key.authenticated,
    mailFrom: '<>',
    rcptTo: key.local ? `<${key.recipient}>` : `<${IMPACT_LOCAL_PART}@${key.recipient}>`,
  };
}

/** The transactions a record counts. */
export function recordTotal(record: TrafficRecord): number {
  let total = 0;
  for (const action of ACTIONS) {
    const n = record.counts[action];
    if (Number.isSafeInteger(n) && n > 0) total += n;
  }
  return total;
}

function compareChanges(a: ImpactChange, b: ImpactChange): number {
  return (
    b.count - a.count ||
    cmp(a.clientIp, b.clientIp) ||
    cmp(a.serverIp, b.serverIp) ||
    Number(a.authenticated) - Number(b.authenticated) ||
    cmp(a.recipientDomain, b.recipientDomain) ||
    cmp(a.before, b.before) ||
    cmp(a.after, b.after)
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Impacts of several nodes as one: the same rows summed, sorted again. */
export function mergeImpacts(impacts: Iterable<Impact>): Impact {
  const groups = new Map<string, ImpactChange>();
  let transactions = 0;
  for (const one of impacts) {
    transactions += one.transactions;
    for (const c of one.changes) {
      const id = groupId(
        c.clientIp,
        c.serverIp,
        c.authenticated,
        c.recipientDomain,
        c.before,
        c.after,
      );
      const row = groups.get(id);
      if (row) row.count += c.count;
      else groups.set(id, { ...c });
    }
  }
  return { transactions, changes: [...groups.values()].sort(compareChanges) };
}

const groupId = (
  clientIp: string,
  serverIp: string,
  authenticated: boolean,
  recipientDomain: string,
  before: Action,
  after: Action,
) => JSON.stringify([clientIp, serverIp, authenticated, recipientDomain, before, after]);

/**
 * What `after` would change, against `before` (the running configuration),
 * for the recorded traffic. Pass the directory the nodes have, so that an
 * unknown local recipient is judged as on the wire.
 */
export function impact(
  before: RoutingConfig | Policy,
  after: RoutingConfig | Policy,
  records: Iterable<TrafficRecord>,
  directory?: Directory,
): Impact {
  const was = policyOf(before);
  const will = policyOf(after);
  const isKnownRecipient = directory === undefined ? undefined : directoryLookup(directory);
  const options = { trace: false } as const;
  const groups = new Map<string, ImpactChange>();
  let transactions = 0;
  for (const record of records) {
    const count = recordTotal(record);
    if (count === 0) continue;
    transactions += count;
    const envelope = envelopeOf(record);
    const input = isKnownRecipient ? { ...envelope, isKnownRecipient } : envelope;
    const b = evaluate(was, input, options).action;
    const a = evaluate(will, input, options).action;
    if (a === b) continue;
    const recipientDomain = recipientDomainOf(record);
    const id = groupId(
      record.clientIp,
      record.serverIp,
      record.authenticated,
      recipientDomain,
      b,
      a,
    );
    const row = groups.get(id);
    if (row) row.count += count;
    else {
      groups.set(id, {
        clientIp: record.clientIp,
        serverIp: record.serverIp,
        authenticated: record.authenticated,
        recipientDomain,
        before: b,
        after: a,
        count,
      });
    }
  }
  return { transactions, changes: [...groups.values()].sort(compareChanges) };
}
