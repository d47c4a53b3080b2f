/**
 * "Internal addresses" against the addresses the service listens on (the
 * context's `listenAddresses` and the hosts of `listen`): a list that covers
 * every one of them lets every client that connects relay (critical); an
 * entry that covers none of them never applies (a warning). Nothing is said
 * when the listen addresses are unknown or one is a wildcard.
 */

import { RESTRICTION_LABELS } from '../compile';
import { type IpAddress, parsePeerIp, prefixContains } from '../ip';
import { splitHostPort } from '../self-target';
import {
  type AdviceContext,
  type Check,
  cidr,
  type Finding,
  finding,
  isReroute,
  type ParsedEntry,
} from './finding';

/** The listen addresses the context names, parsed (null for one that is not an address). */
export function listenHosts(context: AdviceContext): (IpAddress | null)[] {
  const hosts = [...(context.listenAddresses ?? [])];
  for (const pair of context.listen ?? []) hosts.push(splitHostPort(pair)?.host ?? pair);
  return hosts.map((a) => parsePeerIp(a));
}

function covers(entries: readonly ParsedEntry[], a: IpAddress | null): boolean {
  return !!a && entries.some((e) => prefixContains(e.network, e.prefix, a));
}

export const internalAddresses: Check = (config, context) => {
  const internal = config.restrictions.internalAddresses;
  const listen = listenHosts(context);
  const wildcard = listen.some((a) => !a || a.words.every((w) => w === 0));
  if (!internal.enabled || listen.length === 0 || wildcard) return [];
  const entries = context.lists.internalAddresses;
  const label = RESTRICTION_LABELS.internalAddresses;
  const out: Finding[] = [];
  if (isReroute(config) && listen.every((a) => covers(entries, a))) {
    out.push(
      finding({
        code: 'internal-covers-every-listen-address',
        severity: 'critical',
        message: `"${label}" lists every address this service listens on, so every client that connects may relay.`,
        reference: 'Q260562',
        pointer: '/restrictions/internalAddresses',
      }),
    );
  }
  for (const e of entries) {
    if (listen.some((a) => a && prefixContains(e.network, e.prefix, a))) continue;
    out.push(
      finding(
        {
          code: 'internal-address-not-listening',
          severity: 'warning',
          message: `The service does not listen on any address in ${cidr(e)}, so no client can connect to it and this entry never applies.`,
          reference: 'Q260562',
          pointer: e.pointer,
        },
        e.pointer,
      ),
    );
  }
  return out;
};
