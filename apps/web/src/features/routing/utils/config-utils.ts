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
 * Re-applies a draft on top of a newer saved version (after a 412): every
 * part the user changed (compared with the version the draft was based on)
 * takes the user's value; every part they did not touch takes the newer
 * version's, so the other person's changes there are kept.
 */
export function rebaseDraft(
  base: RoutingConfig,
  mine: RoutingConfig,
  theirs: RoutingConfig,
): RoutingConfig {
  const pick = <T>(b: T, m: T, t: T): T => structuredClone(sameJson(b, m) ? t : m);
  const r = {
    authenticated: pick(
      base.restrictions.authenticated,
      mine.restrictions.authenticated,
      theirs.restrictions.authenticated,
    ),
    clientAddresses: pick(
      base.restrictions.clientAddresses,
      mine.restrictions.clientAddresses,
      theirs.restrictions.clientAddresses,
    ),
    internalAddresses: pick(
      base.restrictions.internalAddresses,
      mine.restrictions.internalAddresses,
      theirs.restrictions.internalAddresses,
    ),
    neverRoute: pick(
      base.restrictions.neverRoute,
      mine.restrictions.neverRoute,
      theirs.restrictions.neverRoute,
    ),
  };
  return {
    siteDomain: pick(base.siteDomain, mine.siteDomain, theirs.siteDomain),
    rerouteMode: pick(base.rerouteMode, mine.rerouteMode, theirs.rerouteMode),
    routes: pick(base.routes, mine.routes, theirs.routes),
    restrictions: r,
    rejectUnknownRecipients: pick(
      base.rejectUnknownRecipients,
      mine.rejectUnknownRecipients,
      theirs.rejectUnknownRecipients,
    ),
  };
}
