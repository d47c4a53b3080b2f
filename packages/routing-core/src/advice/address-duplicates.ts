/**
 * Duplicates and shadowing in the address lists: an entry listed twice, or an
 * entry inside a broader entry of the same list (docs/design.md §2 rule 6: order does
 * not matter, so either changes nothing).
 *
 * An entry inside an entry that is itself a finding (one that covers every
 * address, or a client entry broad enough to be flagged) is not reported:
 * the broad entry is the mistake, and its finding offers the one fix (remove
 * it), rather than one fix per legitimate entry.
 */

import { type AddressListName, RESTRICTION_LABELS } from '../compile';
import { prefixContains } from '../ip';
import { broadPrefix, type Check, cidr, type Finding, finding, type ParsedEntry } from './finding';

/** Lists longer than this (per family) skip the quadratic "inside" check. */
const CONTAINMENT_CHECK_LIMIT = 2000;

function suspect(name: AddressListName, e: ParsedEntry): boolean {
  return e.prefix === 0 || (name === 'clientAddresses' && broadPrefix(e));
}

function duplicates(name: AddressListName, byPrefix: readonly ParsedEntry[]): Finding[] {
  const label = RESTRICTION_LABELS[name];
  const out: Finding[] = [];
  const seen = new Map<string, ParsedEntry>();
  for (const e of byPrefix) {
    const key = cidr(e);
    const dup = seen.get(key);
    if (!dup) {
      seen.set(key, e);
      continue;
    }
    const [keep, drop] = dup.index < e.index ? [dup, e] : [e, dup];
    out.push(
      finding(
        {
          code: 'duplicate-address',
          severity: 'info',
          message: `${key} is listed twice on "${label}" (entries ${keep.index + 1} and ${drop.index + 1}).`,
          // A plain duplicate: no knowledge-base article is about it.
          reference: 'docs/design.md §2',
          pointer: drop.pointer,
          fix: {
            description: `Remove the second ${key}`,
            patch: [{ op: 'remove', path: drop.pointer }],
          },
        },
        drop.pointer,
      ),
    );
  }
  return out;
}

/** Entries inside a broader entry of the same list: a sorted sweep per family. */
function contained(name: AddressListName, byPrefix: readonly ParsedEntry[]): Finding[] {
  const label = RESTRICTION_LABELS[name];
  const out: Finding[] = [];
  for (const family of [4, 6] as const) {
    const list = byPrefix.filter((e) => e.network.family === family);
    if (list.length > CONTAINMENT_CHECK_LIMIT) continue;
    for (let i = 0; i < list.length; i++) {
      const inner = list[i] as ParsedEntry;
      let outer: ParsedEntry | undefined;
      for (let j = 0; j < i && !outer; j++) {
        const o = list[j] as ParsedEntry;
        if (o.prefix < inner.prefix && !suspect(name, o)) {
          if (prefixContains(o.network, o.prefix, inner.network)) outer = o;
        }
      }
      if (!outer) continue;
      out.push(
        finding(
          {
            code: 'redundant-address',
            severity: 'info',
            message: `${cidr(inner)} lies inside ${cidr(outer)} on "${label}": it changes nothing.`,
            reference: 'Q260562',
            pointer: inner.pointer,
            fix: {
              description: `Remove ${cidr(inner)}`,
              patch: [{ op: 'remove', path: inner.pointer }],
            },
          },
          inner.pointer,
        ),
      );
    }
  }
  return out;
}

export const addressDuplicates: Check = (_config, { lists }) =>
  (['clientAddresses', 'internalAddresses', 'neverRoute'] as const).flatMap((name) => {
    // Sorted by prefix, so each entry is compared only with broader ones before it.
    const byPrefix = [...lists[name]].sort((a, b) => a.prefix - b.prefix || a.index - b.index);
    return [...duplicates(name, byPrefix), ...contained(name, byPrefix)];
  });
