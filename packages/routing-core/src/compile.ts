/**
 * compile(config): builds, once per configuration version, the lookup
 * structures evaluate() uses: two maps for the routing table (exact `#domain`
 * entries and plain suffix entries) and a prefix trie per address list.
 */

import type { IpEntry, RoutingConfig } from './config';
import { parseIp } from './ip';
import { IpPrefixTable } from './ip-table';
import {
  parseRouteTarget,
  parseSentTo,
  type RouteTarget,
  type ValidationIssue,
  validate,
} from './validate';

/** The address lists of the Routing Restrictions dialog. */
export type AddressListName = 'clientAddresses' | 'internalAddresses' | 'neverRoute';

/** The routing-table entry that decided. */
export interface RouteRule {
  kind: 'route';
  /** Index in `routes`. */
  index: number;
  pointer: string;
  sentTo: string;
  routeTo: string;
  /** True for a `#domain` entry (that domain only). */
  exact: boolean;
  domain: string;
  target: RouteTarget;
}

/** The restriction address entry that decided. */
export interface AddressRule {
  kind: 'address';
  list: AddressListName;
  index: number;
  pointer: string;
  ip: string;
  mask: string;
}

/** The restriction checkbox that decided (or that none is ticked). */
export interface CriterionRule {
  kind: 'criterion';
  criterion: 'authenticated' | 'no-restrictions';
  pointer: string;
}

export type Rule = RouteRule | AddressRule | CriterionRule;

/** The dialog's own words for each restriction, for traces and findings. */
export const RESTRICTION_LABELS = {
  authenticated: 'Hosts and clients that successfully authenticate',
  clientAddresses: 'Hosts and clients with these IP addresses',
  internalAddresses: 'Hosts and clients connecting to these internal IP addresses',
  neverRoute: 'Hosts and clients that can never route mail',
} as const;

export class InvalidConfigError extends Error {
  constructor(readonly errors: ValidationIssue[]) {
    super(
      `Invalid routing configuration: ${errors.map((e) => `${e.pointer || '/'}: ${e.message}`).join('; ')}`,
    );
    this.name = 'InvalidConfigError';
  }
}

function listPointer(list: AddressListName, index: number): string {
  return list === 'neverRoute'
    ? `/restrictions/neverRoute/${index}`
    : `/restrictions/${list}/entries/${index}`;
}

function buildTable(
  list: AddressListName,
  entries: readonly IpEntry[],
): IpPrefixTable<AddressRule> {
  const table = new IpPrefixTable<AddressRule>();
  entries.forEach((entry, index) => {
    const ip = parseIp(entry.ip);
    if (!ip) return; // cannot happen for a validated document
    const prefix = ip.family === 4 ? maskBits(entry.mask) : Number(entry.mask);
    table.insert(ip, prefix, {
      kind: 'address',
      list,
      index,
      pointer: listPointer(list, index),
      ip: entry.ip,
      mask: entry.mask,
    });
  });
  return table;
}

function maskBits(dotted: string): number {
  let bits = 0;
  for (const part of dotted.split('.')) {
    let v = Number(part);
    while (v & 0x80) {
      bits++;
      v = (v << 1) & 0xff;
    }
  }
  return bits;
}

/** A compiled configuration: build it once per version, evaluate many times. */
export class Policy {
  readonly config: RoutingConfig;
  readonly reroute: boolean;
  readonly siteDomain: string;
  readonly anyCriterion: boolean;
  readonly neverRoute: IpPrefixTable<AddressRule>;
  readonly clientAddresses: IpPrefixTable<AddressRule>;
  readonly internalAddresses: IpPrefixTable<AddressRule>;
  private readonly exactRoutes = new Map<string, RouteRule>();
  private readonly plainRoutes = new Map<string, RouteRule>();

  /** Use compile(): it validates first. */
  constructor(config: RoutingConfig) {
    this.config = config;
    this.reroute = config.rerouteMode === 'reroute';
    this.siteDomain = config.siteDomain;
    const r = config.restrictions;
    this.anyCriterion = r.authenticated || r.clientAddresses.enabled || r.internalAddresses.enabled;
    this.neverRoute = buildTable('neverRoute', r.neverRoute);
    this.clientAddresses = buildTable('clientAddresses', r.clientAddresses.entries);
    this.internalAddresses = buildTable('internalAddresses', r.internalAddresses.entries);
    config.routes.forEach((route, index) => {
      const sent = parseSentTo(route.sentTo);
      const target = parseRouteTarget(route.routeTo);
      if ('error' in sent || 'error' in target) return; // cannot happen for a validated document
      const map = sent.exact ? this.exactRoutes : this.plainRoutes;
      if (map.has(sent.domain)) return; // a duplicate: the first entry is the one used
      map.set(sent.domain, {
        kind: 'route',
        index,
        pointer: `/routes/${index}`,
        sentTo: route.sentTo,
        routeTo: route.routeTo,
        exact: sent.exact,
        domain: sent.domain,
        target,
      });
    });
  }

  /**
   * The routing-table entry for a (normalised) domain: an exact `#domain`
   * entry first, then the most specific plain entry by whole labels, found by
   * walking the domain's labels from the left (cost: one map lookup a label).
   */
  findRoute(domain: string): RouteRule | undefined {
    const exact = this.exactRoutes.get(domain);
    if (exact) return exact;
    if (this.plainRoutes.size === 0) return undefined;
    let d = domain;
    for (;;) {
      const found = this.plainRoutes.get(d);
      if (found) return found;
      const dot = d.indexOf('.');
      if (dot < 0) return undefined;
      d = d.slice(dot + 1);
    }
  }

  /** Whether the table routes `domain` to local delivery. */
  isInbound(domain: string): boolean {
    return this.findRoute(domain)?.target.kind === 'inbound';
  }
}

/**
 * Validates and compiles a configuration. Throws InvalidConfigError (with
 * every error) for an invalid one: a node never runs a config it cannot check.
 */
export function compile(config: RoutingConfig): Policy {
  const result = validate(config);
  if (!result.ok) throw new InvalidConfigError(result.errors);
  return new Policy(result.config);
}
