/**
 * diffConfigs(from, to): what changed between two configuration documents,
 * entry by entry and in the dialog's words, for a history view or the
 * "saved vs running" banner. Routes are matched by "Sent to" and address
 * entries by address and mask, so reordering a list is not a change.
 */

import { RESTRICTION_LABELS } from './compile';
import type { IpEntry, Route, RoutingConfig } from './config';

export interface ConfigChange {
  /** JSON Pointer into `from` (remove, change) or `to` (add). */
  pointer: string;
  kind: 'add' | 'remove' | 'change';
  summary: string;
  before?: unknown;
  after?: unknown;
}

const MODE_LABELS = {
  reroute: 'Reroute incoming SMTP mail',
  'no-reroute': 'Do not reroute incoming SMTP mail',
} as const;

const onOff = (v: boolean) => (v ? 'ticked' : 'unticked');

function diffEntries(
  changes: ConfigChange[],
  label: string,
  pointerOf: (index: number) => string,
  from: readonly IpEntry[],
  to: readonly IpEntry[],
): void {
  const key = (e: IpEntry) => `${e.ip}/${e.mask}`;
  // Entries of one list that the other does not have: removed from `from`, added in `to`.
  const missing = (
    list: readonly IpEntry[],
    other: readonly IpEntry[],
    change: (e: IpEntry, i: number) => ConfigChange,
  ) => {
    const keys = new Set(other.map(key));
    list.forEach((e, i) => {
      if (!keys.has(key(e))) changes.push(change(e, i));
    });
  };
  missing(from, to, (e, i) => ({
    pointer: pointerOf(i),
    kind: 'remove',
    summary: `Removed ${key(e)} from "${label}"`,
    before: e,
  }));
  missing(to, from, (e, i) => ({
    pointer: pointerOf(i),
    kind: 'add',
    summary: `Added ${key(e)} to "${label}"`,
    after: e,
  }));
}

function diffRoutes(changes: ConfigChange[], from: readonly Route[], to: readonly Route[]): void {
  const fromRoutes = new Map(from.map((r, i) => [r.sentTo, { r, i }]));
  const toRoutes = new Map(to.map((r, i) => [r.sentTo, { r, i }]));
  for (const [sentTo, { r, i }] of fromRoutes) {
    const now = toRoutes.get(sentTo);
    if (!now) {
      changes.push({
        pointer: `/routes/${i}`,
        kind: 'remove',
        summary: `Removed route ${sentTo} → ${r.routeTo}`,
        before: r,
      });
    } else if (now.r.routeTo !== r.routeTo) {
      changes.push({
        pointer: `/routes/${now.i}/routeTo`,
        kind: 'change',
        summary: `Route ${sentTo}: ${r.routeTo} → ${now.r.routeTo}`,
        before: r.routeTo,
        after: now.r.routeTo,
      });
    }
  }
  for (const [sentTo, { r, i }] of toRoutes) {
    if (!fromRoutes.has(sentTo)) {
      changes.push({
        pointer: `/routes/${i}`,
        kind: 'add',
        summary: `Added route ${sentTo} → ${r.routeTo}`,
        after: r,
      });
    }
  }
}

export function diffConfigs(from: RoutingConfig, to: RoutingConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const scalar = <T>(pointer: string, a: T, b: T, summary: string) => {
    if (a !== b) changes.push({ pointer, kind: 'change', summary, before: a, after: b });
  };
  scalar(
    '/siteDomain',
    from.siteDomain,
    to.siteDomain,
    `Site domain ${from.siteDomain} → ${to.siteDomain}`,
  );
  scalar(
    '/rerouteMode',
    from.rerouteMode,
    to.rerouteMode,
    `"${MODE_LABELS[to.rerouteMode]}" chosen`,
  );
  scalar(
    '/rejectUnknownRecipients',
    from.rejectUnknownRecipients,
    to.rejectUnknownRecipients,
    `Reject unknown recipients at RCPT time: ${onOff(to.rejectUnknownRecipients)}`,
  );

  diffRoutes(changes, from.routes, to.routes);

  const a = from.restrictions;
  const b = to.restrictions;
  scalar(
    '/restrictions/authenticated',
    a.authenticated,
    b.authenticated,
    `"${RESTRICTION_LABELS.authenticated}" ${onOff(b.authenticated)}`,
  );
  for (const list of ['clientAddresses', 'internalAddresses'] as const) {
    scalar(
      `/restrictions/${list}/enabled`,
      a[list].enabled,
      b[list].enabled,
      `"${RESTRICTION_LABELS[list]}" ${onOff(b[list].enabled)}`,
    );
    diffEntries(
      changes,
      RESTRICTION_LABELS[list],
      (i) => `/restrictions/${list}/entries/${i}`,
      a[list].entries,
      b[list].entries,
    );
  }
  diffEntries(
    changes,
    RESTRICTION_LABELS.neverRoute,
    (i) => `/restrictions/neverRoute/${i}`,
    a.neverRoute,
    b.neverRoute,
  );
  return changes;
}
