/**
 * What "Do not reroute" ignores. In that mode nothing is relayed (docs/design.md §2
 * rule 4), so neither the routing table nor the Routing Restrictions change
 * anything: the table applies only to rerouted mail, and the restrictions
 * only decide who may relay.
 *
 * Both findings are info, not warnings: the configuration is no less safe for
 * them (no mail can relay at all), and nothing needs changing; they correct a
 * belief the screen would otherwise leave, e.g. that a never-route entry
 * blocks a host. They offer no fix: the settings matter again as soon as
 * reroute is chosen, so removing them would be wrong.
 */

import { type Check, type Finding, finding, isReroute } from './finding';

export const unusedInNoReroute: Check = (config) => {
  if (isReroute(config)) return [];
  const out: Finding[] = [];
  if (config.routes.some((route) => route.sentTo !== config.siteDomain)) {
    out.push(
      finding({
        code: 'routing-table-unused',
        severity: 'info',
        message: 'The routing table is kept but not used while "Do not reroute" is chosen.',
        reference: 'Q169683',
        pointer: '/routes',
      }),
    );
  }
  const r = config.restrictions;
  const set =
    (r.clientAddresses.enabled && r.clientAddresses.entries.length > 0) ||
    (r.internalAddresses.enabled && r.internalAddresses.entries.length > 0) ||
    r.neverRoute.length > 0;
  if (set) {
    out.push(
      finding({
        code: 'restrictions-unused',
        severity: 'info',
        message:
          'These restrictions apply only when rerouting: with "Do not reroute" no mail is relayed, so the address lists and the never-route list change nothing until "Reroute incoming SMTP mail" is chosen.',
        reference: 'Q260562',
        pointer: '/restrictions',
      }),
    );
  }
  return out;
};
