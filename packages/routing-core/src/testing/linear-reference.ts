/**
 * evaluateLinear(config, input): a deliberately plain implementation of the
 * semantics of evaluate() (docs/design.md §2), used as a test oracle and as the
 * peer of the benchmark. Nothing is compiled or cached: every call re-parses
 * the routing table and scans it, and scans each address list entry by entry.
 *
 * It returns the same action, reason, rule, route, recipient, mailbox,
 * nextHop, ndrTo and detail as evaluate(); it builds no trace (`trace: []`).
 *
 * The config is taken as given: it must already be normalised by validate().
 */

import {
  type AddressListName,
  type AddressRule,
  type CriterionRule,
  listPointer,
  type RouteRule,
  type Rule,
  routeRuleOf,
} from '../compile';
import type { IpEntry, RoutingConfig } from '../config';
import { isDomainAtOrBelow } from '../domain';
import type { Decision, EvaluateInput, NextHop, Reason } from '../evaluate';
import { type IpAddress, parseIp, parseMask, parsePeerIp, prefixContains } from '../ip';
import { parsePath } from '../path';
import { parseSentTo } from '../validate';

/**
 * The routing-table entry for `domain`: the first `#domain` entry naming it
 * exactly; else the plain entry with the longest matching suffix (whole
 * labels), the first listed among equals; else none.
 */
function findRouteLinear(config: RoutingConfig, domain: string): RouteRule | undefined {
  let exactIndex = -1;
  let plainIndex = -1;
  let plainLength = -1;
  for (let index = 0; index < config.routes.length; index++) {
    const route = config.routes[index];
    if (!route) continue;
    const sent = parseSentTo(route.sentTo);
    if ('error' in sent) continue;
    if (sent.exact) {
      if (sent.domain === domain) {
        exactIndex = index; // an exact entry wins outright
        break;
      }
    } else if (isDomainAtOrBelow(domain, sent.domain)) {
      // Every entry that matches is a suffix of the same domain: the longer, the more labels.
      if (sent.domain.length > plainLength) {
        plainIndex = index;
        plainLength = sent.domain.length;
      }
    }
  }
  const index = exactIndex >= 0 ? exactIndex : plainIndex;
  if (index < 0) return undefined;
  const route = config.routes[index];
  if (!route) return undefined;
  return routeRuleOf(route, index);
}

/**
 * The entry of `entries` whose network contains `ip` with the longest prefix;
 * the first listed among identical network/prefix pairs.
 */
function findAddressLinear(
  list: AddressListName,
  entries: readonly IpEntry[],
  ip: IpAddress,
): AddressRule | undefined {
  let best: AddressRule | undefined;
  let bestPrefix = -1;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    if (!entry) continue;
    const network = parseIp(entry.ip);
    if (!network) continue;
    const mask = parseMask(entry.mask, network.family);
    if (!mask.ok) continue;
    if (!prefixContains(network, mask.prefix, ip)) continue;
    if (mask.prefix > bestPrefix) {
      bestPrefix = mask.prefix;
      best = {
        kind: 'address',
        list,
        index,
        pointer: listPointer(list, index),
        ip: entry.ip,
        mask: entry.mask,
      };
    }
  }
  return best;
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  if (a.family !== b.family || a.words.length !== b.words.length) return false;
  for (let i = 0; i < a.words.length; i++) if (a.words[i] !== b.words[i]) return false;
  return true;
}

/** evaluate() with linear scans and no precompiled state. Returns `trace: []`. */
export function evaluateLinear(config: RoutingConfig, input: EvaluateInput): Decision {
  const from = parsePath(input.mailFrom, { allowNull: true });
  if (!from.ok) return { action: 'reject', reason: 'bad-sender', trace: [], detail: from.error };
  const rcpt = parsePath(input.rcptTo, { allowPostmaster: true });
  if (!rcpt.ok) return { action: 'reject', reason: 'bad-address', trace: [], detail: rcpt.error };

  const postmaster = `postmaster@${config.siteDomain}`;
  if (rcpt.kind !== 'mailbox') {
    return {
      action: 'deliver',
      reason: 'postmaster',
      trace: [],
      recipient: 'Postmaster',
      mailbox: postmaster,
    };
  }
  const mailbox = rcpt.mailbox;
  const recipient = mailbox.address;
  const ndrTo = from.kind === 'mailbox' ? from.mailbox.address : null;
  const reroute = config.rerouteMode === 'reroute';

  // Is the recipient local?
  let local = false;
  let localAddress = mailbox.address;
  let route: RouteRule | undefined;
  let nextHop: NextHop = { kind: 'outbound', domain: mailbox.domain };
  if (mailbox.domainKind === 'ipv4' || mailbox.domainKind === 'ipv6') {
    const server = parsePeerIp(input.serverIp);
    const literal = parsePeerIp(mailbox.domain);
    if (server && literal && sameAddress(server, literal)) {
      local = true;
      localAddress = `${mailbox.localPart}@${config.siteDomain}`;
    }
  } else if (reroute) {
    route = findRouteLinear(config, mailbox.domain);
    if (route) {
      if (route.target.kind === 'inbound') {
        local = true;
      } else if (route.target.port === undefined) {
        nextHop = { kind: 'host', host: route.target.host };
      } else {
        nextHop = { kind: 'host', host: route.target.host, port: route.target.port };
      }
    }
  } else {
    local = mailbox.domain === config.siteDomain;
  }

  // Local delivery is never restricted.
  if (local) {
    // The matching routing-table entry is both the rule that decided and the route.
    const withRule = route ? { rule: route as Rule, route } : {};
    if (mailbox.localPart.toLowerCase() === 'postmaster') {
      return {
        action: 'deliver',
        reason: 'postmaster',
        trace: [],
        recipient,
        ...withRule,
        mailbox: postmaster,
      };
    }
    if (input.isKnownRecipient !== undefined && !input.isKnownRecipient(localAddress)) {
      if (config.rejectUnknownRecipients) {
        return { action: 'reject', reason: 'unknown-recipient', trace: [], recipient, ...withRule };
      }
      return {
        action: 'accept-ndr',
        reason: 'unknown-recipient',
        trace: [],
        recipient,
        ...withRule,
        ndrTo,
      };
    }
    return {
      action: 'deliver',
      reason: 'local-delivery',
      trace: [],
      recipient,
      ...withRule,
      mailbox: localAddress,
    };
  }

  // Not local, and "Do not reroute": never relayed.
  if (!reroute) {
    if (config.rejectUnknownRecipients) {
      return { action: 'reject', reason: 'no-reroute', trace: [], recipient };
    }
    return { action: 'accept-ndr', reason: 'no-reroute', trace: [], recipient, ndrTo };
  }

  // Relaying: never-route first, then any ticked criterion. The routing-table
  // entry that matched (a host entry, if any) goes with every decision.
  const withRoute = route ? { route } : {};
  const relay = (reason: Reason, rule: Rule): Decision => ({
    action: 'relay',
    reason,
    rule,
    ...withRoute,
    trace: [],
    recipient,
    nextHop,
  });
  const deny = (reason: Reason, rule?: Rule): Decision => ({
    action: 'reject',
    reason,
    ...(rule ? { rule } : {}),
    ...withRoute,
    trace: [],
    recipient,
  });
  const r = config.restrictions;
  const client = parsePeerIp(input.clientIp);
  if (!client) return deny('relay-denied');

  const never = findAddressLinear('neverRoute', r.neverRoute, client);
  if (never) return deny('never-route', never);

  if (!r.authenticated && !r.clientAddresses.enabled && !r.internalAddresses.enabled) {
    const rule: CriterionRule = {
      kind: 'criterion',
      criterion: 'no-restrictions',
      pointer: '/restrictions',
    };
    return relay('relay-unrestricted', rule);
  }
  if (r.authenticated && input.authenticated === true) {
    const rule: CriterionRule = {
      kind: 'criterion',
      criterion: 'authenticated',
      pointer: '/restrictions/authenticated',
    };
    return relay('relay-authenticated', rule);
  }
  if (r.clientAddresses.enabled) {
    const hit = findAddressLinear('clientAddresses', r.clientAddresses.entries, client);
    if (hit) return relay('relay-client-address', hit);
  }
  if (r.internalAddresses.enabled) {
    const server = parsePeerIp(input.serverIp);
    const hit = server
      ? findAddressLinear('internalAddresses', r.internalAddresses.entries, server)
      : undefined;
    if (hit) return relay('relay-internal-address', hit);
  }
  return deny('relay-denied');
}
