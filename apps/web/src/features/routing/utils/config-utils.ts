import type { RoutingConfig } from '@ims/routing-core';

/** Structural equality of two JSON documents (key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

export const cloneConfig = (c: RoutingConfig): RoutingConfig => structuredClone(c);

/**
 * A three-way merge of a list: the newer version's entries, less those the
 * user removed, plus those the user added (an edit is both), in the newer
 * version's order with the user's additions after.
 */
export function mergeList<T>(base: readonly T[], mine: readonly T[], theirs: readonly T[]): T[] {
  const has = (list: readonly T[], item: T) => list.some((x) => sameJson(x, item));
  const removed = base.filter((item) => !has(mine, item));
  const added = mine.filter((item) => !has(base, item));
  const kept = theirs.filter((item) => !has(removed, item));
  return structuredClone([...kept, ...added.filter((item) => !has(kept, item))]);
}

/**
 * Routes are merged like other lists, but one domain keeps one entry: when
 * both sides changed the entry for the same "Sent to", the user's wins (it
 * is their change being re-applied). Two entries for one domain would leave
 * the user's silently unused.
 */
export function mergeRoutes(
  base: RoutingConfig['routes'],
  mine: RoutingConfig['routes'],
  theirs: RoutingConfig['routes'],
): RoutingConfig['routes'] {
  const key = (r: RoutingConfig['routes'][number]) =>
    r.sentTo.trim().replace(/\.$/, '').toLowerCase();
  const merged = mergeList(base, mine, theirs);
  // The user's additions come last: keep the last entry for each domain.
  const seen = new Set<string>();
  const kept: RoutingConfig['routes'] = [];
  for (let i = merged.length - 1; i >= 0; i--) {
    const route = merged[i];
    if (!route || seen.has(key(route))) continue;
    seen.add(key(route));
    kept.unshift(route);
  }
  return kept;
}

/**
 * Re-applies a draft on top of a newer saved version (after a 412): every
 * setting the user changed (compared with the version the draft was based
 * on) takes the user's value and every other keeps the newer version's;
 * lists are merged entry by entry, so both people's additions survive.
 */
export function rebaseDraft(
  base: RoutingConfig,
  mine: RoutingConfig,
  theirs: RoutingConfig,
): RoutingConfig {
  const pick = <T>(b: T, m: T, t: T): T => structuredClone(sameJson(b, m) ? t : m);
  const list = (name: 'clientAddresses' | 'internalAddresses') => ({
    enabled: pick(
      base.restrictions[name].enabled,
      mine.restrictions[name].enabled,
      theirs.restrictions[name].enabled,
    ),
    entries: mergeList(
      base.restrictions[name].entries,
      mine.restrictions[name].entries,
      theirs.restrictions[name].entries,
    ),
  });
  return {
    siteDomain: pick(base.siteDomain, mine.siteDomain, theirs.siteDomain),
    rerouteMode: pick(base.rerouteMode, mine.rerouteMode, theirs.rerouteMode),
    routes: mergeRoutes(base.routes, mine.routes, theirs.routes),
    restrictions: {
      authenticated: pick(
        base.restrictions.authenticated,
        mine.restrictions.authenticated,
        theirs.restrictions.authenticated,
      ),
      clientAddresses: list('clientAddresses'),
      internalAddresses: list('internalAddresses'),
      neverRoute: mergeList(
        base.restrictions.neverRoute,
        mine.restrictions.neverRoute,
        theirs.restrictions.neverRoute,
      ),
    },
    rejectUnknownRecipients: pick(
      base.rejectUnknownRecipients,
      mine.rejectUnknownRecipients,
      theirs.rejectUnknownRecipients,
    ),
  };
}
