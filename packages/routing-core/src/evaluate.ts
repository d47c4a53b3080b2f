/**
 * evaluate(policy, input): what happens to one recipient (docs/design.md §2).
 * Returns a decision, never an SMTP code: the SMTP node maps decisions to
 * replies in one table of its own.
 */

import {
  type AddressRule,
  type CriterionRule,
  compile,
  type NextHop,
  Policy,
  RESTRICTION_LABELS,
  type RouteRule,
  type Rule,
} from './compile';
import type { RoutingConfig } from './config';
import { formatIp, type IpAddress, parsePeerIp } from './ip';
import { lastPlainDomain, type Mailbox, type ParsedPath, parsePath } from './path';

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

export type { NextHop };

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

/**
 * The compiled policy of a config. A plain document is compiled on every
 * call (it may have been changed since): compile() once per version and pass
 * the Policy where speed matters.
 */
export function policyOf(configOrPolicy: RoutingConfig | Policy): Policy {
  return configOrPolicy instanceof Policy ? configOrPolicy : compile(configOrPolicy);
}

function describeAddressRule(rule: AddressRule): string {
  return `${rule.ip}/${rule.mask} (${RESTRICTION_LABELS[rule.list]}, entry ${rule.index + 1})`;
}

function describeHop(hop: NextHop): string {
  if (hop.kind === 'host') return hop.port === undefined ? hop.host : `${hop.host}:${hop.port}`;
  return `${hop.domain} by the smart host or its MX`;
}

function sameIp(ip: IpAddress, literal: string): boolean {
  const other = parsePeerIp(literal);
  return !!other && other.family === ip.family && other.words.every((w, i) => w === ip.words[i]);
}

// Shared by every untraced decision: frozen, so no caller can write into another's trace.
const NO_TRACE: string[] = Object.freeze([]) as unknown as string[];
const NULL_SENDER = 'nobody (null sender)';
const AUTHENTICATED_RULE: CriterionRule = {
  kind: 'criterion',
  criterion: 'authenticated',
  pointer: '/restrictions/authenticated',
};
const UNRESTRICTED_RULE: CriterionRule = {
  kind: 'criterion',
  criterion: 'no-restrictions',
  pointer: '/restrictions',
};

// Every recipient of a message shares its MAIL FROM: the last one parsed is kept.
let lastFromText: string | undefined;
let lastFrom: ParsedPath | undefined;

function parseMailFrom(text: string): ParsedPath {
  if (text !== lastFromText || lastFrom === undefined) {
    lastFrom = parsePath(text, { allowNull: true });
    lastFromText = text;
  }
  return lastFrom;
}

// Every recipient of a session shares its server address (for address literals).
let lastServerText: string | undefined;
let lastServer: IpAddress | null = null;

function serverAddress(text: string): IpAddress | null {
  if (text !== lastServerText) {
    lastServer = parsePeerIp(text);
    lastServerText = text;
  }
  return lastServer;
}

// Decisions are built as whole object literals, never grown by assignment
// afterwards: a literal holds exactly its own properties in the object, and
// every property added later goes to a backing store allocated per decision
// (and gives the decision one more hidden class for callers to meet).

function relayDecision(
  reason: Reason,
  rule: Rule,
  trace: string[],
  recipient: string,
  nextHop: NextHop,
  route: RouteRule | undefined,
): Decision {
  if (trace !== NO_TRACE) trace.push(`Relay allowed: it goes to ${describeHop(nextHop)}.`);
  return route
    ? { action: 'relay', reason, rule, trace, recipient, nextHop, route }
    : { action: 'relay', reason, rule, trace, recipient, nextHop };
}

function denyDecision(
  reason: Reason,
  rule: Rule | undefined,
  trace: string[],
  recipient: string,
  route: RouteRule | undefined,
): Decision {
  if (rule && route) return { action: 'reject', reason, trace, recipient, rule, route };
  if (rule) return { action: 'reject', reason, trace, recipient, rule };
  if (route) return { action: 'reject', reason, trace, recipient, route };
  return { action: 'reject', reason, trace, recipient };
}

/** A delivery; the keys in the order evaluate() has always given them. */
function deliverDecision(
  reason: Reason,
  trace: string[],
  recipient: string,
  mailbox: string,
  route: RouteRule | undefined,
): Decision {
  return route
    ? { action: 'deliver', reason, trace, recipient, mailbox, rule: route, route }
    : { action: 'deliver', reason, trace, recipient, mailbox };
}

/**
 * Where mail for a (normalised) domain name goes under a policy: delivered
 * here (`local`), or onward, by the routing-table entry that matched if any.
 * "Do not reroute" knows only the site domain. The SMTP node uses this for
 * mail it originates itself (non-delivery reports), which no restriction
 * applies to.
 */
export function locateDomain(
  configOrPolicy: RoutingConfig | Policy,
  domain: string,
): { local: boolean; route?: RouteRule } {
  const policy = policyOf(configOrPolicy);
  if (!policy.reroute) return { local: domain === policy.siteDomain };
  const route = policy.findRoute(domain);
  if (!route) return { local: false };
  return { local: route.target.kind === 'inbound', route };
}

// Where the recipient of the current call is (set by locateRecipient(), read
// at once by evaluate()): module scratch, so that no object is allocated per call.
let foundLocal = false;
let foundAddress = '';
let foundRoute: RouteRule | undefined;
// Where the recipient's domain is in input.rcptTo (set by evaluate() right
// after parsing it; -1 when the domain is not the input's own text).
let plainFrom = -1;
let plainTo = -1;

/** Step 1: is the recipient local? Sets foundLocal, foundAddress and foundRoute. */
function locateRecipient(
  policy: Policy,
  input: EvaluateInput,
  mailbox: Mailbox,
  trace: string[],
  tracing: boolean,
): void {
  foundLocal = false;
  foundAddress = mailbox.address;
  foundRoute = undefined;
  if (mailbox.domainKind !== 'name') {
    const server = serverAddress(input.serverIp);
    if (server && sameIp(server, mailbox.domain)) {
      foundLocal = true;
      foundAddress = `${mailbox.localPart}@${policy.siteDomain}`;
      if (tracing) {
        trace.push(
          `[${mailbox.domain}] is this server's own address: treated as ${policy.siteDomain}.`,
        );
      }
    } else if (tracing) {
      trace.push(`[${mailbox.domain}] is an address literal for another host: not local.`);
    }
    return;
  }
  // locateDomain()'s answer, without its result object.
  if (!policy.reroute) {
    foundLocal = mailbox.domain === policy.siteDomain;
  } else {
    // The domain in the RCPT TO text when it is that text's own (see lastPlainDomain).
    foundRoute =
      plainFrom >= 0
        ? policy.findRouteIn(input.rcptTo, plainFrom, plainTo)
        : policy.findRoute(mailbox.domain);
    foundLocal = foundRoute !== undefined && foundRoute.target.kind === 'inbound';
  }
  if (tracing) {
    const route = foundRoute;
    trace.push(
      !policy.reroute
        ? `"Do not reroute": the routing table is not used; ${mailbox.domain} is ${foundLocal ? '' : 'not '}the site domain ${policy.siteDomain}.`
        : !route
          ? `Routing table: no entry matches ${mailbox.domain}; it would go outbound.`
          : `Routing table: ${mailbox.domain} matches "${route.sentTo}" → ${route.routeTo} (entry ${route.index + 1}${route.exact ? ', exact' : ', most specific'}).`,
    );
  }
}

/** Step 2: a local recipient. Local delivery is never restricted (rule 1). */
function localDecision(
  policy: Policy,
  input: EvaluateInput,
  mailbox: Mailbox,
  ndrTo: string | null,
  trace: string[],
  tracing: boolean,
): Decision {
  const recipient = mailbox.address;
  // Read the scratch before calling out (isKnownRecipient could evaluate again).
  const localAddress = foundAddress;
  const route = foundRoute;
  const postmaster = policy.postmaster;
  const lp = mailbox.localPart;
  if (lp.length === 10 && lp.toLowerCase() === 'postmaster') {
    if (tracing)
      trace.push(`Postmaster of a local domain is always accepted: delivered to ${postmaster}.`);
    return deliverDecision('postmaster', trace, recipient, postmaster, route);
  }
  if (input.isKnownRecipient && !input.isKnownRecipient(localAddress)) {
    if (policy.config.rejectUnknownRecipients) {
      if (tracing) trace.push(`${localAddress} is not in the directory: rejected at RCPT time.`);
      return denyDecision('unknown-recipient', route, trace, recipient, route);
    }
    if (tracing) {
      trace.push(
        `${localAddress} is not in the directory, and unknown recipients are not rejected: accepted, then a non-delivery report goes to ${ndrTo ?? NULL_SENDER}.`,
      );
    }
    const reason = 'unknown-recipient';
    return route
      ? { action: 'accept-ndr', reason, trace, recipient, ndrTo, rule: route, route }
      : { action: 'accept-ndr', reason, trace, recipient, ndrTo };
  }
  if (tracing)
    trace.push(`Local recipient: delivered to ${localAddress}. Restrictions do not apply.`);
  return deliverDecision('local-delivery', trace, recipient, localAddress, route);
}

/** Step 3: not local, and "Do not reroute": never relayed (rule 4). */
function noRerouteDecision(
  policy: Policy,
  recipient: string,
  ndrTo: string | null,
  trace: string[],
  tracing: boolean,
): Decision {
  if (policy.config.rejectUnknownRecipients) {
    if (tracing) trace.push('Not local, and this service does not reroute: rejected at RCPT time.');
    return { action: 'reject', reason: 'no-reroute', trace, recipient };
  }
  if (tracing) {
    trace.push(
      `Not local, and this service does not reroute: accepted, then a non-delivery report goes to ${ndrTo ?? NULL_SENDER} (Q255695).`,
    );
  }
  return { action: 'accept-ndr', reason: 'no-reroute', trace, recipient, ndrTo };
}

/** Step 4: relaying, when this client may relay (rules 5, 6). */
function relayOrDeny(
  policy: Policy,
  input: EvaluateInput,
  mailbox: Mailbox,
  trace: string[],
  tracing: boolean,
): Decision {
  const route = foundRoute;
  const recipient = mailbox.address;
  const nextHop: NextHop = route
    ? (route.nextHop as NextHop)
    : { kind: 'outbound', domain: mailbox.domain };
  const verdict = relayVerdict(policy, input, tracing);
  if (tracing) {
    trace.push('Not local, so this is relaying: the routing restrictions apply.');
    for (const step of verdict.steps) trace.push(step);
  }
  if (verdict.allowed) {
    return relayDecision(verdict.reason, verdict.rule as Rule, trace, recipient, nextHop, route);
  }
  return denyDecision(verdict.reason, verdict.rule, trace, recipient, route);
}

/** Decides what happens to one recipient of one message. */
export function evaluate(
  configOrPolicy: RoutingConfig | Policy,
  input: EvaluateInput,
  options?: EvaluateOptions,
): Decision {
  const policy = policyOf(configOrPolicy);
  const tracing = options?.trace !== false;
  const trace: string[] = tracing ? [] : NO_TRACE;

  const from = parseMailFrom(input.mailFrom);
  if (!from.ok) {
    if (tracing) trace.push(`MAIL FROM ${input.mailFrom} is not a valid path: ${from.message}`);
    return { action: 'reject', reason: 'bad-sender', trace, detail: from.error };
  }
  const rcpt = parsePath(input.rcptTo, RCPT_OPTIONS);
  plainFrom = lastPlainDomain.from;
  plainTo = lastPlainDomain.to;
  if (!rcpt.ok) {
    if (tracing) trace.push(`RCPT TO ${input.rcptTo} is not a valid address: ${rcpt.message}`);
    return { action: 'reject', reason: 'bad-address', trace, detail: rcpt.error };
  }
  if (rcpt.kind !== 'mailbox') {
    // Only 'postmaster' can reach here: the null path is not accepted for RCPT.
    const postmaster = policy.postmaster;
    if (tracing) {
      trace.push(`<Postmaster> is always accepted (RFC 5321 §4.5.1): delivered to ${postmaster}.`);
    }
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
  locateRecipient(policy, input, mailbox, trace, tracing);
  const ndrTo = from.kind === 'mailbox' ? from.mailbox.address : null;
  if (foundLocal) return localDecision(policy, input, mailbox, ndrTo, trace, tracing);
  if (!policy.reroute) return noRerouteDecision(policy, mailbox.address, ndrTo, trace, tracing);
  return relayOrDeny(policy, input, mailbox, trace, tracing);
}

/** Whether a client may relay: it depends on the session only, never on the recipient. */
interface RelayVerdict {
  allowed: boolean;
  reason: Reason;
  rule: Rule | undefined;
  /** Trace lines (empty when computed without a trace). */
  steps: string[];
  traced: boolean;
}

// Every recipient of a session gets the same verdict: the last one is kept.
let lastVerdict: RelayVerdict | undefined;
let lastVerdictPolicy: Policy | undefined;
let lastVerdictClient: string | undefined;
let lastVerdictServer: string | undefined;
let lastVerdictAuth = false;

function relayVerdict(policy: Policy, input: EvaluateInput, tracing: boolean): RelayVerdict {
  if (
    lastVerdict !== undefined &&
    lastVerdictPolicy === policy &&
    lastVerdictClient === input.clientIp &&
    lastVerdictServer === input.serverIp &&
    lastVerdictAuth === (input.authenticated === true) &&
    (lastVerdict.traced || !tracing)
  ) {
    return lastVerdict;
  }
  const verdict = decideRelay(policy, input, tracing);
  lastVerdict = verdict;
  lastVerdictPolicy = policy;
  lastVerdictClient = input.clientIp;
  lastVerdictServer = input.serverIp;
  lastVerdictAuth = input.authenticated === true;
  return verdict;
}

function makeVerdict(
  allowed: boolean,
  reason: Reason,
  rule: Rule | undefined,
  steps: string[],
  traced: boolean,
): RelayVerdict {
  return { allowed, reason, rule, steps, traced };
}

/** Never-route first, then the ticked criteria, OR-ed (rules 5, 6). */
function decideRelay(policy: Policy, input: EvaluateInput, tracing: boolean): RelayVerdict {
  const steps: string[] = tracing ? [] : NO_TRACE;
  const client = parsePeerIp(input.clientIp);
  if (!client) {
    if (tracing) steps.push(`The client address "${input.clientIp}" cannot be read: relay denied.`);
    return makeVerdict(false, 'relay-denied', undefined, steps, tracing);
  }
  const never = policy.neverRoute.lookup(client);
  if (never) {
    if (tracing) {
      steps.push(
        `Client ${formatIp(client)} matches never-route entry ${describeAddressRule(never)}: relay denied.`,
      );
    }
    return makeVerdict(false, 'never-route', never, steps, tracing);
  }
  const r = policy.config.restrictions;
  if (!policy.anyCriterion) {
    if (tracing) {
      steps.push('No restriction is ticked, so every client may relay (open relay, Q260562).');
    }
    return makeVerdict(true, 'relay-unrestricted', UNRESTRICTED_RULE, steps, tracing);
  }
  if (r.authenticated) {
    // Only a real `true` counts: never a truthy string from a form or query.
    if (input.authenticated === true) {
      if (tracing) {
        steps.push(`The session authenticated: "${RESTRICTION_LABELS.authenticated}" holds.`);
      }
      return makeVerdict(true, 'relay-authenticated', AUTHENTICATED_RULE, steps, tracing);
    }
    if (tracing) steps.push('The session did not authenticate.');
  }
  if (r.clientAddresses.enabled) {
    const hit = policy.clientAddresses.lookup(client);
    if (hit) {
      if (tracing) steps.push(`Client ${formatIp(client)} matches ${describeAddressRule(hit)}.`);
      return makeVerdict(true, 'relay-client-address', hit, steps, tracing);
    }
    if (tracing) {
      steps.push(`Client ${formatIp(client)} is not on "${RESTRICTION_LABELS.clientAddresses}".`);
    }
  }
  if (r.internalAddresses.enabled) {
    // Parsed once per server address (address literals use the same), not per session.
    const server = serverAddress(input.serverIp);
    const hit = server ? policy.internalAddresses.lookup(server) : undefined;
    if (hit && server) {
      if (tracing) {
        steps.push(
          `The client connected to ${formatIp(server)}, which matches ${describeAddressRule(hit)}.`,
        );
      }
      return makeVerdict(true, 'relay-internal-address', hit, steps, tracing);
    }
    if (tracing) {
      steps.push(
        `Server address ${input.serverIp} is not on "${RESTRICTION_LABELS.internalAddresses}".`,
      );
    }
  }
  if (tracing) steps.push('No ticked restriction holds: relay denied.');
  return makeVerdict(false, 'relay-denied', undefined, steps, tracing);
}

const RCPT_OPTIONS = { allowPostmaster: true } as const;
