/**
 * The open relay of Q260562: reroute on and no restriction ticked, so every
 * client may relay, except those on never-route. Critical when what
 * never-route leaves free is more than OPEN_RELAY_SHARE of the routable space
 * of either family (as coverage.ts judges allow lists); a warning when
 * never-route shuts out nearly every client, which is unusual but not open.
 * (Allow lists that cover the Internet are checked by coverage.ts.)
 */

import { RESTRICTION_LABELS } from '../compile';
import { exceeds, freeShare, OPEN_RELAY_SHARE } from './coverage';
import { anyCriterion, type Check, type Fix, finding, isReroute } from './finding';

export const TICK_AUTHENTICATED: Fix = {
  description: `Tick "${RESTRICTION_LABELS.authenticated}"`,
  patch: [{ op: 'replace', path: '/restrictions/authenticated', value: true }],
};

export const openRelay: Check = (config, { lists }) => {
  if (!isReroute(config) || anyCriterion(config)) return [];
  const open = ([4, 6] as const).some((family) =>
    exceeds(freeShare(lists.neverRoute, family), OPEN_RELAY_SHARE),
  );
  return [
    finding({
      code: 'open-relay',
      severity: open ? 'critical' : 'warning',
      message:
        'Reroute is on and no routing restriction is ticked, so any host on the Internet may relay mail through this server: an open relay.',
      reference: 'Q260562',
      pointer: '/restrictions',
      fix: TICK_AUTHENTICATED,
    }),
  ];
};
