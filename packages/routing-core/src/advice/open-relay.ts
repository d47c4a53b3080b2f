/**
 * The open relay of Q260562: reroute on and no restriction ticked, so every
 * client may relay. (Allow lists that cover the Internet are checked by
 * coverage.ts.)
 */

import { RESTRICTION_LABELS } from '../compile';
import { anyCriterion, type Check, type Fix, finding, isReroute } from './finding';

export const TICK_AUTHENTICATED: Fix = {
  description: `Tick "${RESTRICTION_LABELS.authenticated}"`,
  patch: [{ op: 'replace', path: '/restrictions/authenticated', value: true }],
};

export const openRelay: Check = (config) => {
  if (!isReroute(config) || anyCriterion(config)) return [];
  return [
    finding({
      code: 'open-relay',
      severity: 'critical',
      message:
        'Reroute is on and no routing restriction is ticked, so any host on the Internet may relay mail through this server: an open relay.',
      reference: 'Q260562',
      pointer: '/restrictions',
      fix: TICK_AUTHENTICATED,
    }),
  ];
};
