/**
 * The site's own domain must be routed <inbound> (docs/design.md §2 rule 3, Q169683),
 * or its users' mail is not delivered here.
 */

import { INBOUND } from '../config';
import { type Check, type Fix, finding, isReroute } from './finding';

export const siteDomain: Check = (config, { policy }) => {
  if (!isReroute(config) || policy.isInbound(config.siteDomain)) return [];
  // The entry that decides the site domain now (an exact `#` entry wins):
  // rerouting exactly that one to <inbound> fixes it in one step.
  const deciding = policy.findRoute(config.siteDomain);
  const existing = deciding && deciding.domain === config.siteDomain ? deciding.index : -1;
  const fix: Fix =
    existing >= 0
      ? {
          description: `Route ${config.routes[existing]?.sentTo} to <inbound>`,
          patch: [{ op: 'replace', path: `/routes/${existing}/routeTo`, value: INBOUND }],
        }
      : {
          description: `Add ${config.siteDomain} → <inbound>`,
          patch: [
            {
              op: 'add',
              path: '/routes/0',
              value: { sentTo: config.siteDomain, routeTo: INBOUND },
            },
          ],
        };
  return [
    finding({
      code: 'site-domain-not-inbound',
      severity: 'critical',
      message: `The site domain ${config.siteDomain} is not routed <inbound>, so mail for this site's own users is not delivered here.`,
      reference: 'Q169683',
      pointer: existing >= 0 ? `/routes/${existing}/routeTo` : '/routes',
      fix,
    }),
  ];
};
