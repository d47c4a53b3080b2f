/**
 * compile(config): builds, once per configuration version, the lookup
 * structures evaluate() uses: one hash table for the routing table (exact
 * `#domain` entries and plain suffix entries, keyed by the domain's hash) and
 * a prefix trie per address list.
 */

import type { IpEntry, Route, RoutingConfig } from './config';
import { IpPrefixTable } from './ip-table';
import {
  parseIpEntry,
  parseRouteTarget,
  parseSentTo,
  type RouteTarget,
  type ValidationIssue,
  validate,
} from './validate';

/** The address lists of the Routing Restrictions dialog. */
export type AddressListName = 'clientAddresses' | 'internalAddresses' | 'neverRoute';

export type NextHop =
  | { kind: 'host'; host: string; port?: number }
  /** No routing-table entry: the smart host or the domain's MX. */
  | { kind: 'outbound'; domain: string };

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
  /** For a host entry: where it reroutes to. */
  nextHop?: NextHop;
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
  internalAddresses: 'Hosts and clients connecting to these internal addresses',
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

/** JSON Pointer of entry `index` of an address list. */
export function listPointer(list: AddressListName, index: number): string {
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
    const parsed = parseIpEntry(entry.ip, entry.mask);
    // The constructor validated the document, so every entry parses.
    if ('error' in parsed) throw new Error(`unreadable entry ${entry.ip}/${entry.mask}`);
    table.insert(parsed.network, parsed.prefix, {
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

/** The hash findRoute() computes for a domain: characters taken right to left. */
function domainHash(domain: string): number {
  let h = 0;
  for (let i = domain.length - 1; i >= 0; i--) h = (Math.imul(h, 31) + domain.charCodeAt(i)) | 0;
  return h;
}

// Scratch space for findRoute(): at most one candidate per label (a domain has < 128),
// with the length of the suffix whose hash found it.
// Grown (rarely: a domain is at most 255 characters) to the length of the text searched.
let candidates = new Int32Array(256);
let candidateLengths = new Int32Array(256);

/** Whether `text` ends at `end` with `suffix` (compared from the end, without allocating). */
function endsWithText(text: string, end: number, suffix: string): boolean {
  const offset = end - suffix.length;
  if (offset < 0) return false;
  for (let i = suffix.length - 1; i >= 0; i--) {
    if (text.charCodeAt(offset + i) !== suffix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The entry of the bucket starting at `rules[start]` (and ending at the next
 * hole) whose domain is the `length` characters of `text` before `end`, and
 * whose kind (`#domain` or plain) is `exact`.
 */
function pick(
  rules: readonly (RouteRule | undefined)[],
  start: number,
  text: string,
  end: number,
  length: number,
  exact: boolean,
): RouteRule | undefined {
  for (let k = start; ; k++) {
    const rule = rules[k];
    if (rule === undefined) return undefined;
    if (
      rule.exact === exact &&
      rule.domain.length === length &&
      endsWithText(text, end, rule.domain)
    ) {
      return rule;
    }
  }
}

/**
 * Route entries (`#domain` and plain alike) by domainHash(). Collected in a
 * Map, then sealed: the entries sharing a hash (a bucket) lie next to each
 * other in one array, each bucket followed by a hole, and an open-addressing
 * table (Fibonacci hashing, linear probing, at most half full) holds
 * (key, where its bucket starts + 1) pairs in one Int32Array. A lookup, hit
 * or miss, usually reads one cache line of the table, and a hit one more to
 * reach the entry: no Map.get(), no array per bucket.
 */
class RouteIndex {
  private readonly map = new Map<number, RouteRule[]>();
  /** Slot i is table[2i] (the key) and table[2i + 1] (its bucket's start in `rules` plus one; 0 when empty). */
  private table = new Int32Array(2);
  private rules: (RouteRule | undefined)[] = [undefined];
  /** 32 minus log2 of the number of slots: the hash's top bits pick the slot. */
  private shift = 31;

  /** Adds an entry; false (and nothing added) when the same entry (domain and kind) is there. Call seal() after the last. */
  add(rule: RouteRule): boolean {
    const key = domainHash(rule.domain);
    const bucket = this.map.get(key);
    if (!bucket) {
      this.map.set(key, [rule]);
      return true;
    }
    if (bucket.some((r) => r.domain === rule.domain && r.exact === rule.exact)) return false;
    bucket.push(rule);
    return true;
  }

  /** Builds the lookup table from the entries added. */
  seal(): void {
    let bits = 1;
    while (1 << bits < this.map.size * 2) bits++;
    const table = new Int32Array(2 << bits);
    const mask = (1 << bits) - 1;
    const rules: (RouteRule | undefined)[] = [];
    for (const [key, bucket] of this.map) {
      let i = Math.imul(key, 0x9e3779b1) >>> (32 - bits);
      while (table[2 * i + 1] !== 0) i = (i + 1) & mask;
      table[2 * i] = key;
      table[2 * i + 1] = rules.length + 1;
      for (const rule of bucket) rules.push(rule);
      rules.push(undefined);
    }
    this.table = table;
    this.rules = rules;
    this.shift = 32 - bits;
  }

  /** The entries, for pick(). */
  get entries(): readonly (RouteRule | undefined)[] {
    return this.rules;
  }

  /** Where the bucket of `key` starts in `entries`; -1 for none. */
  find(key: number): number {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const start = table[2 * i + 1] as number;
      if (start === 0) return -1;
      if (table[2 * i] === key) return start - 1;
      i = (i + 1) & mask;
    }
  }
}

/**
 * A copy of `text` held as one flat string. normaliseDomain() returns slices
 * of the text it was given, and reading characters of a slice goes through
 * its parent each time: findRoute() compares rule domains on every lookup.
 */
function flatCopy(text: string): string {
  return text.split('').join('');
}

/** The rule for routing-table entry `index`; undefined when the entry does not parse. */
export function routeRuleOf(route: Route, index: number): RouteRule | undefined {
  const sent = parseSentTo(route.sentTo);
  const target = parseRouteTarget(route.routeTo);
  if ('error' in sent || 'error' in target) return undefined;
  const rule: RouteRule = {
    kind: 'route',
    index,
    pointer: `/routes/${index}`,
    sentTo: route.sentTo,
    routeTo: route.routeTo,
    exact: sent.exact,
    domain: flatCopy(sent.domain),
    target,
  };
  if (target.kind === 'host') {
    rule.nextHop =
      target.port === undefined
        ? { kind: 'host', host: target.host }
        : { kind: 'host', host: target.host, port: target.port };
  }
  return rule;
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
  /** `postmaster@` the site domain: where postmaster mail is delivered. */
  readonly postmaster: string;
  // Route entries keyed by domainHash(domain): integer keys, so a lookup
  // hashes the recipient's domain once, right to left, and never slices it.
  private readonly routes = new RouteIndex();

  /**
   * Validates (throwing InvalidConfigError with every error) and compiles.
   * The policy keeps the normalised document, not the one passed in.
   */
  constructor(document: RoutingConfig) {
    const checked = validate(document);
    if (!checked.ok) throw new InvalidConfigError(checked.errors);
    const config = checked.config;
    this.config = config;
    this.reroute = config.rerouteMode === 'reroute';
    this.siteDomain = config.siteDomain;
    this.postmaster = `postmaster@${config.siteDomain}`;
    const r = config.restrictions;
    this.anyCriterion = r.authenticated || r.clientAddresses.enabled || r.internalAddresses.enabled;
    this.neverRoute = buildTable('neverRoute', r.neverRoute);
    this.clientAddresses = buildTable('clientAddresses', r.clientAddresses.entries);
    this.internalAddresses = buildTable('internalAddresses', r.internalAddresses.entries);
    config.routes.forEach((route, index) => {
      const rule = routeRuleOf(route, index);
      if (!rule) return; // cannot happen for a validated document
      // A duplicate "Sent to" is not added: the first entry is the one used.
      this.routes.add(rule);
    });
    this.routes.seal();
  }

  /**
   * The routing-table entry for a (normalised) domain: an exact `#domain`
   * entry first, then the most specific plain entry by whole labels. One
   * right-to-left pass hashes each label-boundary suffix (`com`, `sea.com`,
   * `x.sea.com`) and looks it up: the cost grows with the domain's length,
   * not with the number of entries.
   */
  findRoute(domain: string): RouteRule | undefined {
    return this.findRouteIn(domain, 0, domain.length);
  }

  /**
   * findRoute() for the (normalised) domain that is `text`'s characters
   * [from, to): the SMTP path as received, so that the hot path reads a flat
   * string rather than a slice of it.
   */
  findRouteIn(text: string, from: number, to: number): RouteRule | undefined {
    const routes = this.routes;
    const rules = routes.entries;
    if (to - from > candidates.length) {
      candidates = new Int32Array(to - from);
      candidateLengths = new Int32Array(to - from);
    }
    // Candidates by hash and length; verified (string compare) only at the end,
    // most specific first, so a typical lookup compares strings once.
    const found = candidates;
    let count = 0;
    let h = 0;
    for (let i = to - 1; i >= from; i--) {
      const c = text.charCodeAt(i);
      if (c === 46) {
        const start = routes.find(h);
        if (start >= 0) {
          candidateLengths[count] = to - i - 1;
          found[count++] = start;
        }
      }
      h = (Math.imul(h, 31) + c) | 0;
    }
    const len = to - from;
    const whole = routes.find(h);
    if (whole >= 0) {
      const rule =
        pick(rules, whole, text, to, len, true) ?? pick(rules, whole, text, to, len, false);
      if (rule) return rule;
    }
    for (let k = count - 1; k >= 0; k--) {
      // The suffix after a dot, of exactly the length that was hashed.
      const rule = pick(rules, found[k] as number, text, to, candidateLengths[k] as number, false);
      if (rule) return rule;
    }
    return undefined;
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
  return new Policy(config);
}
