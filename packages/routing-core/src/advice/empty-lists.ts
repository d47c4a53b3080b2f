/**
 * A ticked criterion whose list is empty never lets anyone relay. The fix
 * (untick it) is offered only when another criterion that can hold stays
 * ticked: unticking the last ticked criterion would let everyone relay
 * (docs/design.md §2 rule 5).
 */

import { RESTRICTION_LABELS } from '../compile';
import { type Check, type Finding, finding } from './finding';

export const emptyLists: Check = (config, { lists }) => {
  const r = config.restrictions;
  const out: Finding[] = [];
  for (const name of ['clientAddresses', 'internalAddresses'] as const) {
    if (!r[name].enabled || lists[name].length > 0) continue;
    const label = RESTRICTION_LABELS[name];
    const other = name === 'clientAddresses' ? 'internalAddresses' : 'clientAddresses';
    const others = r.authenticated || (r[other].enabled && r[other].entries.length > 0);
    const pointer = `/restrictions/${name}`;
    out.push(
      finding(
        {
          code: 'criterion-empty-list',
          severity: 'warning',
          message: `"${label}" is ticked but its list is empty, so it never lets anyone relay.`,
          reference: 'Q260562',
          pointer,
          ...(others
            ? {
                fix: {
                  description: `Untick "${label}"`,
                  patch: [{ op: 'replace', path: `${pointer}/enabled`, value: false }],
                },
              }
            : {}),
        },
        pointer,
      ),
    );
  }
  return out;
};
