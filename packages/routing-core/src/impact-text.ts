/**
 * The impact preview in words, the same in the web console and the CLI:
 * "12 transactions in the last 7 days would change: 127.0.0.2 →
 * partner.example: relayed 9 times, would now get 550 5.7.1 Relaying is
 * prohibited".
 */

import type { Policy } from './compile';
import type { RoutingConfig } from './config';
import { type Action, locateDomain } from './evaluate';
import type { ImpactChange } from './impact';
import { formatReply, REPLIES } from './replies';

const DAY_MS = 86_400_000;

const DONE: Record<Action, string> = {
  deliver: 'delivered here',
  relay: 'relayed',
  reject: 'refused',
  'accept-ndr': 'accepted, then returned with an NDR',
};

const times = (n: number) => (n === 1 ? 'once' : `${n} times`);

/** What the draft would answer a row: the reply line of a refusal, else the action in words. */
export function impactOutcome(draft: RoutingConfig | Policy, change: ImpactChange): string {
  if (change.after === 'reject') {
    // A local domain refuses an unknown mailbox; any other refusal is a denied relay.
    const local =
      change.recipientDomain !== '' && locateDomain(draft, change.recipientDomain).local;
    return `get ${formatReply(local ? REPLIES.unknownRecipient : REPLIES.relayDenied)}`;
  }
  if (change.after === 'deliver') return 'be delivered here';
  if (change.after === 'relay') return 'be relayed';
  return 'be accepted, then returned with an NDR';
}

/** One row: `127.0.0.2 → partner.example: relayed 9 times, would now get 550 5.7.1 …`. */
export function describeImpactChange(draft: RoutingConfig | Policy, change: ImpactChange): string {
  const who = `${change.clientIp}${change.authenticated ? ' (authenticated)' : ''}`;
  const to = change.recipientDomain === '' ? 'Postmaster' : change.recipientDomain;
  return `${who} → ${to}: ${DONE[change.before]} ${times(change.count)}, would now ${impactOutcome(draft, change)}`;
}

/** The headline: how many of the window's transactions would change. */
export function describeImpactSummary(
  impact: { since: string; transactions: number; changes: readonly ImpactChange[] },
  now: number,
): string {
  const changed = impact.changes.reduce((n, c) => n + c.count, 0);
  const days = Math.max(1, Math.floor((now - Date.parse(impact.since)) / DAY_MS));
  const window = `in the last ${days === 1 ? 'day' : `${days} days`}`;
  if (impact.transactions === 0) return `No transactions recorded ${window}.`;
  if (changed === 0)
    return `None of the ${impact.transactions} transactions ${window} would change.`;
  return `${changed} of ${impact.transactions} transaction${impact.transactions === 1 ? '' : 's'} ${window} would change:`;
}
