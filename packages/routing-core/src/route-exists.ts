/**
 * Whether the routing table has an entry for a "Sent to" already, compared
 * as validate() stores it (`Sales.Example.` is `sales.example`; `#x` and `x`
 * are different entries). The web's Add dialog and `ims route add` refuse
 * such a second entry with the same sentence.
 */

import type { Route } from './config';
import { parseSentTo } from './validate';

/** `#sales.example.com` or `sales.example.com`, normalised; the text itself when it does not parse. */
export function sentToKey(sentTo: string): string {
  const parsed = parseSentTo(sentTo);
  if ('error' in parsed) return sentTo.trim().toLowerCase();
  return parsed.exact ? `#${parsed.domain}` : parsed.domain;
}

/** The entry of `routes` for the same "Sent to" (its index and the route), if there is one. */
export function findRoute(
  routes: readonly Route[],
  sentTo: string,
): { index: number; route: Route } | undefined {
  const key = sentToKey(sentTo);
  const index = routes.findIndex((r) => sentToKey(r.sentTo) === key);
  const route = routes[index];
  return route === undefined ? undefined : { index, route };
}

/** The sentence that names the mistake: the entry that is there already. */
export function routeExistsMessage(route: Route): string {
  return `The routing table already has an entry for ${route.sentTo} (→ ${route.routeTo}).`;
}
