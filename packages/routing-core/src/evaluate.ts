/**
 * evaluate(policy, input): what happens to one recipient (DESIGN.md §2).
 * Returns a decision, never an SMTP code: the SMTP node maps decisions to
 * replies in one table of its own.
 */

import {
  type AddressRule,
  type CriterionRule,
  compile,
  Policy,
  RESTRICTION_LABELS,
  type RouteRule,
  type Rule,
} from './compile';
import type { RoutingConfig } from './config';
import { formatIp, type IpAddress, parsePeerIp } from './ip';
import { parsePath } from './path';

export interface EvaluateInput {
  /** The client's IP address, as the socket reports it (IPv4-mapped IPv6 is read as IPv4). */
  clientIp: string;
  /** The server address the client connected to. */
  serverIp: string;
  /** Whether the session authenticated (SMTP AUTH). */
  authenticated: boolean;
  /** The MAIL FROM reverse-path, `<a@b.example>` or `<>`. Never grants relay. */
  mailFrom: string;
  /** The RCPT TO forward-path, `<a@b.example>` or `<Postmaster>`. */
  rcptTo: string;
  /** Whether a local address is a mailbox in the directory; when absent, every local address is taken to exist. */
  isKnownRecipient?: (address: string) => boolean;
}

export type Action = 'deliver' | 'relay' | 'reject' | 'accept-ndr';

/** Stable ids of what decided. */
export type Reason =
  /** deliver: a local recipient. */
  | 'local-delivery'
  /** deliver: postmaster, always accepted (RFC 5321 §4.5.1). */
  | 'postmaster'
  /** reject, or accept-ndr without recipient rejection: a local domain, no such mailbox. */
  | 'unknown-recipient'
  /** relay: the session authenticated and that criterion is ticked. */
  | 'relay-authenticated'
  /** relay: the client's address is on the ticked client list. */
  | 'relay-client-address'
  /** relay: the client connected to an address on the ticked internal list. */
  | 'relay-internal-address'
  /** relay: reroute on and no restriction ticked, so everyone may relay (an open relay). */
  | 'relay-unrestricted'
  /** reject: relaying, and no ticked criterion holds. */
  | 'relay-denied'
  /** reject: relaying, and the client is on the never-route list. */
  | 'never-route'
  /** "Do not reroute": not local, so rejected (with recipient rejection) or accepted and NDR'd (Q255695). */
  | 'no-reroute'
  /** reject: the recipient path is malformed. */
  | 'bad-address'
  /** reject: the MAIL FROM path is malformed. */
  | 'bad-sender';

export type NextHop =
  | { kind: 'host'; host: string; port?: number }
  /** No routing-table entry: the smart host or the domain's MX. */
  | { kind: 'outbound'; domain: string };

export interface Decision {
  action: Action;
  reason: Reason;
  /** The routing-table entry, restriction entry or checkbox that decided. */
  rule?: Rule;
  /** The routing-table entry that matched the recipient's domain, if any (for a relay, where it goes). */
  route?: RouteRule;
  /** The steps taken, in words an administrator understands. */
  trace: string[];
  /** The recipient, canonical (lower-case domain), when it could be parsed. */
  recipient?: string;
  /** deliver: the local mailbox that receives it. */
  mailbox?: string;
  /** relay: where it goes next. */
  nextHop?: NextHop;
  /** accept-ndr: where the non-delivery report goes (null for the null sender: none is sent). */
  ndrTo?: string | null;
  /** bad-address / bad-sender: why the path was refused. */
  detail?: string;
}

export interface EvaluateOptions {
  /** Build the trace (default true). Turn off on a hot path that does not log it. */
  trace?: boolean;
}

const compiled = new WeakMap<RoutingConfig, Policy>();

/** The compiled policy of a config, compiled once per config object. */
export function policyOf(configOrPolicy: RoutingConfig | Policy): Policy {
  if (configOrPolicy instanceof Policy) return configOrPolicy;
  let policy = compiled.get(configOrPolicy);
  if (!policy) {
    policy = compile(configOrPolicy);
    compiled.set(configOrPolicy, policy);
  }
  return policy;
}

function describeAddressRule(rule: AddressRule): string {
  return `${rule.ip}/${rule.mask} (${RESTRICTION_LABELS[rule.list]}, entry ${rule.index + 1})`;
}

const NO_TRACE: string[] = [];

/** Decides what happens to one recipient of one message. */
export function evaluate(
  configOrPolicy: RoutingConfig | Policy,
  input: EvaluateInput,
  options?: EvaluateOptions,
): Decision {
  const policy = policyOf(configOrPolicy);
  const tracing = options?.trace !== false;
  const trace: string[] = tracing ? [] : NO_TRACE;

  const from = parsePath(input.mailFrom, { allowNull: true });
  if (!from.ok) {
    if (tracing) trace.push(`MAIL FROM ${input.mailFrom} is not a valid path: ${from.message}`);
    return { action: 'reject', reason: 'bad-sender', trace, detail: from.error };
  }
  const rcpt = parsePath(input.rcptTo, { allowPostmaster: true });
  if (!rcpt.ok) {
    if (tracing) trace.push(`RCPT TO ${input.rcptTo} is not a valid address: ${rcpt.message}`);
    return { action: 'reject', reason: 'bad-address', trace, detail: rcpt.error };
  }
  const postmaster = `postmaster@${policy.siteDomain}`;
  if (rcpt.kind !== 'mailbox') {
    // Only 'postmaster' can reach here: the null path is not accepted for RCPT.
    if (tracing)
      trace.push(`<Postmaster> is always accepted (RFC 5321 §4.5.1): delivered to ${postmaster}.`);
    return {
      action: 'deliver',
      reason: 'postmaster',
      trace,
      recipient: 'Postmaster',
      mailbox: postmaster,
    };
  }
  const mailbox = rcpt.mailbox;
  if (tracing && rcpt.sourceRoute.length > 0) {
    trace.push(
      `Source route @${rcpt.sourceRoute.join(',@')} ignored (RFC 5321 §3.6.1); judged as ${mailbox.address}.`,
    );
  }
  const ndrTo = from.kind === 'mailbox' ? from.mailbox.address : null;

  // 1. Is the recipient local?
  let local = false;
  let localAddress = mailbox.address;
  let route: RouteRule | undefined;
  let nextHop: NextHop = { kind: 'outbound', domain: mailbox.domain };
  if (mailbox.domainKind !== 'name') {
    const server = parsePeerIp(input.serverIp);
    if (server && sameIp(server, mailbox.domain)) {
      local = true;
      localAddress = `${mailbox.localPart}@${policy.siteDomain}`;
      if (tracing)
        trace.push(
          `[${mailbox.domain}] is this server's own address: treated as ${policy.siteDomain}.`,
        );
    } else if (tracing) {
      trace.push(`[${mailbox.domain}] is an address literal for another host: not local.`);
    }
  } else if (policy.reroute) {
    const found = policy.findRoute(mailbox.domain);
    if (!found) {
      if (tracing)
        trace.push(`Routing table: no entry matches ${mailbox.domain}; it would go outbound.`);
    } else {
      route = found;
      if (tracing) {
        trace.push(
          `Routing table: ${mailbox.domain} matches "${found.sentTo}" → ${found.routeTo} (entry ${found.index + 1}${found.exact ? ', exact' : ', most specific'}).`,
        );
      }
      if (found.target.kind === 'inbound') local = true;
      else {
        nextHop =
          found.target.port === undefined
            ? { kind: 'host', host: found.target.host }
            : { kind: 'host', host: found.target.host, port: found.target.port };
      }
    }
  } else {
    local = mailbox.domain === policy.siteDomain;
    if (tracing) {
      trace.push(
        `"Do not reroute": the routing table is not used; ${mailbox.domain} is ${local ? '' : 'not '}the site domain ${policy.siteDomain}.`,
      );
    }
  }

  // 2. Local delivery is never restricted (rule 1).
  if (local) {
    const base: Pick<Decision, 'recipient' | 'rule' | 'route'> = route
      ? { recipient: mailbox.address, rule: route, route }
      : { recipient: mailbox.address };
    const at = localAddress.lastIndexOf('@');
    if (localAddress.slice(0, at).toLowerCase() === 'postmaster') {
      if (tracing)
        trace.push(`Postmaster of a local domain is always accepted: delivered to ${postmaster}.`);
      return { action: 'deliver', reason: 'postmaster', trace, ...base, mailbox: postmaster };
    }
    if (input.isKnownRecipient && !input.isKnownRecipient(localAddress)) {
      if (policy.config.rejectUnknownRecipients) {
        if (tracing) trace.push(`${localAddress} is not in the directory: rejected at RCPT time.`);
        return { action: 'reject', reason: 'unknown-recipient', trace, ...base };
      }
      if (tracing) {
        trace.push(
          `${localAddress} is not in the directory, and unknown recipients are not rejected: accepted, then a non-delivery report goes to ${ndrTo ?? 'nobody (null sender)'}.`,
        );
      }
      return { action: 'accept-ndr', reason: 'unknown-recipient', trace, ...base, ndrTo };
    }
    if (tracing)
      trace.push(`Local recipient: delivered to ${localAddress}. Restrictions do not apply.`);
    return { action: 'deliver', reason: 'local-delivery', trace, ...base, mailbox: localAddress };
  }

  // 3. Not local. "Do not reroute": never relayed (rule 4).
  if (!policy.reroute) {
    if (policy.config.rejectUnknownRecipients) {
      if (tracing)
        trace.push('Not local, and this service does not reroute: rejected at RCPT time.');
      return { action: 'reject', reason: 'no-reroute', trace, recipient: mailbox.address };
    }
    if (tracing) {
      trace.push(
        `Not local, and this service does not reroute: accepted, then a non-delivery report goes to ${ndrTo ?? 'nobody (null sender)'} (Q255695).`,
      );
    }
    return { action: 'accept-ndr', reason: 'no-reroute', trace, recipient: mailbox.address, ndrTo };
  }

  // 4. Relaying: never-route first, then the ticked criteria, OR-ed (rules 5, 6).
  const relay = (reason: Reason, rule: Rule): Decision => {
    if (tracing) trace.push(`Relay allowed: it goes to ${describeHop(nextHop)}.`);
    const d: Decision = {
      action: 'relay',
      reason,
      rule,
      trace,
      recipient: mailbox.address,
      nextHop,
    };
    if (route) d.route = route;
    return d;
  };
  const deny = (reason: Reason, rule?: Rule): Decision => {
    const d: Decision = { action: 'reject', reason, trace, recipient: mailbox.address };
    if (rule) d.rule = rule;
    if (route) d.route = route;
    return d;
  };

  if (tracing) trace.push('Not local, so this is relaying: the routing restrictions apply.');
  const client = parsePeerIp(input.clientIp);
  if (!client) {
    if (tracing) trace.push(`The client address "${input.clientIp}" cannot be read: relay denied.`);
    return deny('relay-denied');
  }
  const never = policy.neverRoute.lookup(client);
  if (never) {
    if (tracing)
      trace.push(
        `Client ${formatIp(client)} matches never-route entry ${describeAddressRule(never.value)}: relay denied.`,
      );
    return deny('never-route', never.value);
  }
  const r = policy.config.restrictions;
  if (!policy.anyCriterion) {
    if (tracing)
      trace.push('No restriction is ticked, so every client may relay (open relay, Q260562).');
    return relay('relay-unrestricted', {
      kind: 'criterion',
      criterion: 'no-restrictions',
      pointer: '/restrictions',
    });
  }
  if (r.authenticated) {
    if (input.authenticated) {
      if (tracing)
        trace.push(`The session authenticated: "${RESTRICTION_LABELS.authenticated}" holds.`);
      const rule: CriterionRule = {
        kind: 'criterion',
        criterion: 'authenticated',
        pointer: '/restrictions/authenticated',
      };
      return relay('relay-authenticated', rule);
    }
    if (tracing) trace.push('The session did not authenticate.');
  }
  if (r.clientAddresses.enabled) {
    const hit = policy.clientAddresses.lookup(client);
    if (hit) {
      if (tracing)
        trace.push(`Client ${formatIp(client)} matches ${describeAddressRule(hit.value)}.`);
      return relay('relay-client-address', hit.value);
    }
    if (tracing)
      trace.push(`Client ${formatIp(client)} is not on "${RESTRICTION_LABELS.clientAddresses}".`);
  }
  if (r.internalAddresses.enabled) {
    const server = parsePeerIp(input.serverIp);
    const hit = server ? policy.internalAddresses.lookup(server) : undefined;
    if (hit && server) {
      if (tracing)
        trace.push(
          `The client connected to ${formatIp(server)}, which matches ${describeAddressRule(hit.value)}.`,
        );
      return relay('relay-internal-address', hit.value);
    }
    if (tracing)
      trace.push(
        `Server address ${input.serverIp} is not on "${RESTRICTION_LABELS.internalAddresses}".`,
      );
  }
  if (tracing) trace.push('No ticked restriction holds: relay denied.');
  return deny('relay-denied');
}

function describeHop(hop: NextHop): string {
  if (hop.kind === 'host') return hop.port === undefined ? hop.host : `${hop.host}:${hop.port}`;
  return `${hop.domain} by the smart host or its MX`;
}

function sameIp(ip: IpAddress, literal: string): boolean {
  const other = parsePeerIp(literal);
  return !!other && other.family === ip.family && other.words.every((w, i) => w === ip.words[i]);
}
