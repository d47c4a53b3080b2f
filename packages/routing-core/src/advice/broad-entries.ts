/**
 * Allow-list entries that are too broad on their own: one that covers every
 * address (critical when its box is ticked in reroute mode, Q260562), and a
 * client entry broader than an IPv4 /8 or an IPv6 /16 (a warning). What the
 * entries of a list cover together is coverage.ts's concern.
 */

import { RESTRICTION_LABELS } from '../compile';
import { broadPrefix, type Check, cidr, type Finding, finding, isReroute } from './finding';

export const broadEntries: Check = (config, { lists }) => {
  const out: Finding[] = [];
  for (const name of ['clientAddresses', 'internalAddresses'] as const) {
    const enabled = config.restrictions[name].enabled;
    const label = RESTRICTION_LABELS[name];
    const later = enabled ? '' : ' as soon as the box is ticked';
    for (const e of lists[name]) {
      if (e.prefix === 0) {
        out.push(
          finding(
            {
              code: 'allow-everything',
              severity: enabled && isReroute(config) ? 'critical' : 'warning',
              message:
                name === 'clientAddresses'
                  ? `${cidr(e)} on "${label}" covers every address: every client may relay${later}.`
                  : `${cidr(e)} on "${label}" covers every server address: every client that connects may relay${later}.`,
              reference: 'Q260562',
              pointer: e.pointer,
              fix: { description: `Remove ${cidr(e)}`, patch: [{ op: 'remove', path: e.pointer }] },
            },
            e.pointer,
          ),
        );
      } else if (name === 'clientAddresses' && broadPrefix(e)) {
        out.push(
          finding(
            {
              code: 'broad-allow-entry',
              severity: 'warning',
              message: `${cidr(e)} on "${label}" covers a large share of the Internet: all of it may relay.`,
              reference: 'Q260562',
              pointer: e.pointer,
            },
            e.pointer,
          ),
        );
      }
    }
  }
  return out;
};
