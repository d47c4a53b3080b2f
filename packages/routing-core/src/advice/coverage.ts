/**
 * What each allow list covers in total: entries judged one by one miss an open relay split into pieces. Entries are judged
 * together, not one by one: `0.0.0.0/1` + `128.0.0.0/1`, or 256 entries
 * `N.0.0.0/8`, are as open as `0.0.0.0/0`.
 *
 * Per address family, with interval arithmetic (ip-ranges.ts, O(n log n)):
 * - client list: the addresses it covers, minus never-route (which is checked
 *   first and wins), as a share of the routable (public unicast) space;
 * - internal list: the server addresses it covers, as a share of the routable
 *   space. Never-route is about clients, not server addresses, so it counts on
 *   the other side: the list is open only if never-route also leaves more
 *   than the same share of the routable clients free to connect.
 *
 * More than OPEN_RELAY_SHARE: the critical `open-relay` finding (critical only
 * when the box is ticked in reroute mode, as `allow-everything`; a warning
 * otherwise). More than BROAD_LIST_SHARE: a `broad-allow-list` warning.
 * A family with a /0 entry is left to `allow-everything`, which offers the one
 * fix; a warning is not repeated for a family with a `broad-allow-entry`.
 */

import { type AddressListName, RESTRICTION_LABELS } from '../compile';
import type { IpFamily } from '../ip';
import {
  difference,
  type IpRangeSet,
  intersection,
  prefixRange,
  ROUTABLE,
  sizeOf,
  unionOf,
  unionOfV4,
} from '../ip-ranges';
import {
  broadPrefix,
  type Check,
  type CheckContext,
  type Finding,
  finding,
  isReroute,
  type ParsedEntry,
} from './finding';

export interface Share {
  /** Addresses of the routable space covered. */
  covered: bigint;
  /** Addresses of the routable space. */
  total: bigint;
}

/**
 * An allow list that lets more than 1/16 of the routable space relay is an
 * open relay. 1/16 of public IPv4 is about 230 million addresses, more than
 * any one organisation holds (the largest holders have about 5%), and spam is
 * sent from botnets spread over the whole space: a list this broad relays for
 * a large part of them. No legitimate "these clients may relay" list is
 * anywhere near it.
 */
export const OPEN_RELAY_SHARE = { numerator: 1n, denominator: 16n } as const;

/**
 * More than 1/256 of the routable space (about a /8 of IPv4, an IPv6 /11) is
 * still "a large share of the Internet": a warning, as a single entry broader
 * than a /8 already gets.
 */
export const BROAD_LIST_SHARE = { numerator: 1n, denominator: 256n } as const;

/** Whether a share is more than `limit`. */
export function exceeds(share: Share, limit: { numerator: bigint; denominator: bigint }): boolean {
  return share.covered * limit.denominator > share.total * limit.numerator;
}

// The ranges of a list, kept per list (each advise() parses its lists once),
// so that never-route is merged once however many checks subtract it.
const rangeCache = new WeakMap<readonly ParsedEntry[], Partial<Record<IpFamily, IpRangeSet>>>();

function rangesOf(entries: readonly ParsedEntry[], family: IpFamily): IpRangeSet {
  const cached = rangeCache.get(entries) ?? {};
  rangeCache.set(entries, cached);
  const hit = cached[family];
  if (hit) return hit;
  const computed = mergedRanges(entries, family);
  cached[family] = computed;
  return computed;
}

function mergedRanges(entries: readonly ParsedEntry[], family: IpFamily): IpRangeSet {
  const mine = entries.filter((e) => e.network.family === family);
  if (family === 4) return unionOfV4(mine);
  return unionOf(mine.map((e) => prefixRange(e.network, e.prefix)));
}

function shareOf(set: IpRangeSet, family: IpFamily): Share {
  return { covered: sizeOf(intersection(set, ROUTABLE[family])), total: sizeOf(ROUTABLE[family]) };
}

/** The share of the routable space of `family` that never-route leaves free. */
export function freeShare(never: readonly ParsedEntry[], family: IpFamily): Share {
  return shareOf(difference(ROUTABLE[family], rangesOf(never, family)), family);
}

/**
 * The share of the routable space of `family` a list lets relay: for the
 * client list, its entries minus never-route; for the internal list, the
 * server addresses it covers, or none when never-route leaves at most
 * OPEN_RELAY_SHARE of the routable clients free.
 */
export function listShare(
  name: 'clientAddresses' | 'internalAddresses',
  lists: CheckContext['lists'],
  family: IpFamily,
): Share {
  const never = rangesOf(lists.neverRoute, family);
  const covered = rangesOf(lists[name], family);
  if (name === 'clientAddresses') return shareOf(difference(covered, never), family);
  const servers = shareOf(covered, family);
  const clients = freeShare(lists.neverRoute, family);
  return exceeds(clients, OPEN_RELAY_SHARE) ? servers : { covered: 0n, total: servers.total };
}

function percent(share: Share): string {
  if (share.covered === share.total) return '100%';
  const tenths = Number((share.covered * 1000n) / share.total);
  return `${Math.min(tenths, 999) / 10}%`;
}

interface FamilyVerdict {
  family: IpFamily;
  share: Share;
  open: boolean;
}

function verdicts(name: 'clientAddresses' | 'internalAddresses', context: CheckContext) {
  const out: FamilyVerdict[] = [];
  for (const family of [4, 6] as const) {
    const entries = context.lists[name].filter((e) => e.network.family === family);
    if (entries.length === 0 || entries.some((e) => e.prefix === 0)) continue;
    const share = listShare(name, context.lists, family);
    if (exceeds(share, OPEN_RELAY_SHARE)) out.push({ family, share, open: true });
    else if (
      exceeds(share, BROAD_LIST_SHARE) &&
      !(name === 'clientAddresses' && entries.some(broadPrefix))
    ) {
      out.push({ family, share, open: false });
    }
  }
  return out;
}

function describe(list: readonly FamilyVerdict[]): string {
  return list.map((v) => `${percent(v.share)} of public IPv${v.family}`).join(' and ');
}

function coverageFinding(
  name: 'clientAddresses' | 'internalAddresses',
  found: readonly FamilyVerdict[],
  live: boolean,
): Finding | undefined {
  const label = RESTRICTION_LABELS[name];
  const pointer = `/restrictions/${name as AddressListName}`;
  const open = found.filter((v) => v.open);
  const after = name === 'clientAddresses' ? ' (after never-route)' : '';
  const who =
    name === 'clientAddresses'
      ? 'any client there may relay'
      : 'every client that connects to an address in it may relay';
  if (open.length > 0) {
    return finding(
      {
        code: 'open-relay',
        severity: live ? 'critical' : 'warning',
        message: `Together, the entries of "${label}" cover ${describe(open)}${after}: ${who}${live ? '' : ' as soon as the box is ticked in reroute mode'}, an open relay.`,
        reference: 'Q260562',
        pointer,
      },
      pointer,
    );
  }
  if (found.length === 0 || !live) return undefined;
  return finding(
    {
      code: 'broad-allow-list',
      severity: 'warning',
      message: `Together, the entries of "${label}" cover ${describe(found)}${after}: ${who}.`,
      reference: 'Q260562',
      pointer,
    },
    pointer,
  );
}

export const allowListCoverage: Check = (config, context) => {
  const out: Finding[] = [];
  for (const name of ['clientAddresses', 'internalAddresses'] as const) {
    const live = config.restrictions[name].enabled && isReroute(config);
    const f = coverageFinding(name, verdicts(name, context), live);
    if (f) out.push(f);
  }
  return out;
};
