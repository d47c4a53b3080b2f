/**
 * A deterministic, realistic routing workload: a configuration of about
 * 10,000 routes and 10,000 restriction entries, normalised by validate(), and
 * a set of what-if queries against it. Everything comes from one seeded PRNG,
 * so every run (and every machine) measures the same thing.
 */

import {
  type EvaluateInput,
  formatIp,
  INBOUND,
  type IpAddress,
  type IpEntry,
  parseIp,
  parseMask,
  type RoutingConfig,
  validate,
} from '@ims/routing-core';

/** mulberry32: a tiny 32-bit PRNG, good enough to draw a workload. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** An unsigned 32-bit integer. */
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let x = this.next() * total;
    for (const k of keys) {
      x -= weights[k];
      if (x < 0) return k;
    }
    return keys[keys.length - 1] as K;
  }
}

export interface WorkloadOptions {
  seed?: number;
  routes?: number;
  ipEntries?: number;
  queries?: number;
}

export interface Workload {
  /** The configuration after validate(): what a node would compile. */
  config: RoutingConfig;
  queries: EvaluateInput[];
  /** Local mailboxes (the directory), as `isKnownRecipient` sees them. */
  directory: ReadonlySet<string>;
  /** validate() notices on the raw document (host bits cleared, IPv4-mapped entries). */
  notices: number;
  /** Query count per recipient category, for the report. */
  categories: Record<string, number>;
}

export const SITE_DOMAIN = 'example.com';
/** The addresses this server listens on (what a query's serverIp usually is). */
const SERVER_ADDRESSES = ['192.0.2.25', '198.51.100.25', '::ffff:192.0.2.25', '2001:db8:ffff::25'];

const TLDS = ['com', 'net', 'org', 'de', 'fr', 'nl', 'se', 'co.uk', 'com.au', 'co.jp'];
const UNROUTED_TLDS = ['biz', 'info', 'ch', 'at', 'es', 'it', 'com', 'net', 'org'];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
const LABEL_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUB_LABELS = ['mail', 'sales', 'eu', 'us', 'hq', 'dev', 'corp', 'lists', 'ops', 'x'];
const USER_NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan'];

function label(rng: Rng): string {
  const n = rng.int(3, 10);
  let s = rng.pick(ALPHABET.split(''));
  for (let i = 1; i < n; i++) s += LABEL_CHARS[rng.int(0, LABEL_CHARS.length - 1)];
  if (rng.chance(0.1)) s += `-${rng.pick(ALPHABET.split(''))}${rng.int(0, 99)}`;
  return s;
}

function labelCount(domain: string): number {
  return domain.split('.').length;
}

function formatV4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function formatV6Raw(words: readonly number[]): string {
  // Uncompressed text, as a careless administrator might paste it; validate() canonicalises it.
  const groups: string[] = [];
  for (const w of words) groups.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  return groups.join(':');
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The words of `words` with every bit past `prefix` cleared. */
function maskTo(words: readonly number[], prefix: number): number[] {
  return words.map((w, i) => {
    const bits = prefix - i * 32;
    return bits <= 0 ? 0 : bits >= 32 ? w : (w & v4Mask(bits)) >>> 0;
  });
}

/** A random address inside `network/prefix`. */
function addressInside(rng: Rng, network: IpAddress, prefix: number): IpAddress {
  const words = network.words.map((w, i) => {
    const bits = prefix - i * 32;
    const keep = bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : v4Mask(bits);
    return ((w & keep) | (rng.u32() & ~keep)) >>> 0;
  });
  return { family: network.family, words };
}

interface RouteDraft {
  sentTo: string;
  routeTo: string;
}

function routeTarget(rng: Rng, n: number): string {
  const kind = rng.weighted({ inbound: 45, name: 40, namePort: 8, ipv4: 5, ipv6: 2 });
  switch (kind) {
    case 'inbound':
      return rng.chance(0.1) ? '<Inbound>' : INBOUND;
    case 'name':
      return `mx${n % 7}.${label(rng)}.net`;
    case 'namePort':
      return `relay${n % 5}.${label(rng)}.net:${rng.pick([25, 587, 2525])}`;
    case 'ipv4':
      return `198.51.100.${rng.int(1, 254)}${rng.chance(0.5) ? ':25' : ''}`;
    default:
      return `[2001:db8:0:${rng.int(1, 255).toString(16)}::${rng.int(1, 255).toString(16)}]:25`;
  }
}

function buildRoutes(rng: Rng, count: number): RouteDraft[] {
  const routes: RouteDraft[] = [
    { sentTo: SITE_DOMAIN, routeTo: INBOUND },
    { sentTo: `#sales.${SITE_DOMAIN}`, routeTo: INBOUND },
    { sentTo: `chicago.${SITE_DOMAIN}`, routeTo: 'mail2.example.com:2525' },
    // As broad as a whole top-level domain (docs/design.md §2 rule 2).
    { sentTo: 'io', routeTo: 'io-gateway.example.net' },
  ];
  const seen = new Set(routes.map((r) => r.sentTo));
  const bases: string[] = [];
  while (routes.length < count) {
    const n = routes.length;
    let domain: string;
    if (bases.length < 50 || rng.chance(0.55)) {
      domain = `${label(rng)}.${rng.pick(TLDS)}`;
      bases.push(domain);
    } else {
      domain = rng.pick(bases);
      const extra = rng.int(1, 2);
      for (let i = 0; i < extra && labelCount(domain) < 4; i++) {
        domain = `${rng.chance(0.5) ? rng.pick(SUB_LABELS) : label(rng)}.${domain}`;
      }
      if (labelCount(domain) > 4) continue;
    }
    let sentTo = rng.chance(0.15) ? `#${domain}` : domain;
    if (seen.has(sentTo) && !rng.chance(0.05)) continue; // a few duplicates stay: the first wins
    seen.add(sentTo);
    // Some entries as typed by hand: upper case, a trailing dot (validate() normalises them).
    const typed = rng.weighted({ clean: 96, upper: 2, trailingDot: 2 });
    if (typed === 'upper') sentTo = sentTo.toUpperCase();
    else if (typed === 'trailingDot') sentTo = `${sentTo}.`;
    routes.push({ sentTo, routeTo: routeTarget(rng, n) });
  }
  return routes;
}

type RawIpEntry = { ip: string; mask?: string };

function ipv4Prefix(rng: Rng): number {
  switch (rng.weighted({ p8: 1, p12to16: 9, p17to23: 20, p24: 30, p25to31: 15, p32: 25 })) {
    case 'p8':
      return 8;
    case 'p12to16':
      return rng.int(12, 16);
    case 'p17to23':
      return rng.int(17, 23);
    case 'p24':
      return 24;
    case 'p25to31':
      return rng.int(25, 31);
    default:
      return 32;
  }
}

function rawIpEntry(
  rng: Rng,
  blocks: readonly number[],
  v6Blocks: readonly number[],
  minV4Prefix: number,
): RawIpEntry {
  const kind = rng.weighted({ v4: 89, v6: 10, mapped: 1 });
  if (kind === 'v6') {
    const prefix = rng.pick([32, 48, 48, 56, 64, 64, 64, 96, 112, 128, 128]);
    const words = [
      0x20010db8,
      (rng.pick(v6Blocks) | (rng.u32() & 0xffff)) >>> 0,
      rng.u32(),
      rng.u32(),
    ];
    const network = maskTo(words, prefix);
    const text = rng.chance(0.5) ? formatV6Raw(network) : formatIp({ family: 6, words: network });
    return { ip: text, mask: rng.chance(0.2) ? `/${prefix}` : String(prefix) };
  }
  const prefix = Math.max(minV4Prefix, ipv4Prefix(rng));
  // Most entries cluster in a few hundred /16 blocks, so that ranges nest and overlap.
  const base = rng.chance(0.7) ? (rng.pick(blocks) | (rng.u32() & 0xffff)) >>> 0 : rng.u32();
  const hostBits = prefix < 32 && rng.chance(0.2); // left for validate() to clear
  const ip = hostBits ? base : (base & v4Mask(prefix)) >>> 0;
  if (kind === 'mapped') {
    return { ip: `::ffff:${formatV4(ip)}`, mask: String(prefix + 96) };
  }
  if (prefix === 32 && rng.chance(0.5)) return { ip: formatV4(ip) }; // mask defaults to one host
  const maskStyle = rng.weighted({ dotted: 6, length: 3, slash: 1 });
  const mask =
    maskStyle === 'dotted'
      ? formatV4(v4Mask(prefix))
      : maskStyle === 'length'
        ? String(prefix)
        : `/${prefix}`;
  return { ip: formatV4(ip), mask };
}

interface ParsedEntry {
  network: IpAddress;
  prefix: number;
}

function parseEntries(entries: readonly IpEntry[]): ParsedEntry[] {
  const out: ParsedEntry[] = [];
  for (const e of entries) {
    const network = parseIp(e.ip);
    if (!network) continue;
    const mask = parseMask(e.mask, network.family);
    if (mask.ok) out.push({ network, prefix: mask.prefix });
  }
  return out;
}

/** Builds the workload; the same options give the same workload on every machine. */
export function buildWorkload(options: WorkloadOptions = {}): Workload {
  const rng = new Rng(options.seed ?? 0x1a5e_5e7);
  const routeCount = options.routes ?? 10_000;
  const ipCount = options.ipEntries ?? 10_000;
  const queryCount = options.queries ?? 20_000;

  // ---- The configuration document, as an administrator would submit it ----
  const routes = buildRoutes(rng, routeCount);
  const blocks: number[] = [];
  for (let i = 0; i < 300; i++) blocks.push((rng.u32() & 0xffff0000) >>> 0);
  const v6Blocks: number[] = [];
  for (let i = 0; i < 40; i++) v6Blocks.push((rng.u32() & 0xffff0000) >>> 0);
  const clientCount = Math.round(ipCount * 0.5);
  const internalCount = Math.round(ipCount * 0.2);
  const neverCount = ipCount - clientCount - internalCount;
  const rawList = (n: number, minV4Prefix: number) =>
    Array.from({ length: n }, () => rawIpEntry(rng, blocks, v6Blocks, minV4Prefix));
  const clientEntries = rawList(clientCount, 8);
  const internalEntries = rawList(internalCount, 16);
  // The server's own addresses are internal addresses.
  internalEntries.push({ ip: '192.0.2.25' }, { ip: '2001:db8:ffff::', mask: '64' });
  // Blocked hosts and small ranges: a never-route list rarely blocks more than a /20.
  const neverEntries = rawList(neverCount, 20);

  const doc = {
    siteDomain: SITE_DOMAIN,
    rerouteMode: 'reroute',
    routes,
    restrictions: {
      authenticated: true,
      clientAddresses: { enabled: true, entries: clientEntries },
      internalAddresses: { enabled: true, entries: internalEntries },
      neverRoute: neverEntries,
    },
    rejectUnknownRecipients: true,
  };
  const result = validate(doc);
  if (!result.ok) {
    const first = result.errors
      .slice(0, 5)
      .map((e) => `${e.pointer}: ${e.message}`)
      .join('\n  ');
    throw new Error(`The generated workload config is invalid:\n  ${first}`);
  }
  const config = result.config;

  // ---- The directory ----
  const routedPlain: string[] = [];
  const routedExact: string[] = [];
  const inboundDomains: string[] = [SITE_DOMAIN];
  for (const r of config.routes) {
    const exact = r.sentTo.startsWith('#');
    const domain = exact ? r.sentTo.slice(1) : r.sentTo;
    (exact ? routedExact : routedPlain).push(domain);
    if (r.routeTo === INBOUND && domain !== SITE_DOMAIN) inboundDomains.push(domain);
  }
  const directory = new Set<string>();
  const remoteMailboxes: string[] = [];
  const siteUsers: string[] = [];
  for (let i = 0; i < 500; i++) {
    const user = `${rng.pick(USER_NAMES)}.${label(rng)}`;
    siteUsers.push(user);
    directory.add(`${user}@${SITE_DOMAIN}`);
  }
  for (let i = 0; i < 2000; i++) {
    const address = `${rng.pick(USER_NAMES)}@${rng.pick(inboundDomains)}`;
    directory.add(address);
    remoteMailboxes.push(address);
  }

  // ---- The queries ----
  const clientList = parseEntries(config.restrictions.clientAddresses.entries);
  const neverList = parseEntries(config.restrictions.neverRoute);
  const internalList = parseEntries(config.restrictions.internalAddresses.entries);
  const v4Of = (list: ParsedEntry[]) => list.filter((e) => e.network.family === 4);
  const v6Of = (list: ParsedEntry[]) => list.filter((e) => e.network.family === 6);
  const clientV4 = v4Of(clientList);
  const clientV6 = v6Of(clientList);
  const neverV4 = v4Of(neverList);
  const internalV4 = v4Of(internalList);
  const inside = (list: ParsedEntry[]): IpAddress => {
    const e = rng.pick(list);
    return addressInside(rng, e.network, e.prefix);
  };

  const categories: Record<string, number> = {};
  const queries: EvaluateInput[] = [];
  const isKnownRecipient = (address: string) => directory.has(address);

  for (let q = 0; q < queryCount; q++) {
    // Client address.
    let clientIp: string;
    switch (rng.weighted({ client: 34, never: 10, random: 36, v6: 8, mapped: 7, odd: 5 })) {
      case 'client':
        clientIp = formatIp(inside(clientV4));
        break;
      case 'never':
        clientIp = formatIp(inside(neverV4));
        break;
      case 'random':
        clientIp = formatV4(rng.u32());
        break;
      case 'v6':
        clientIp = rng.chance(0.6)
          ? formatIp(inside(clientV6))
          : formatIp({ family: 6, words: [0x2a001450, rng.u32(), rng.u32(), rng.u32()] });
        break;
      case 'mapped':
        clientIp = `::ffff:${formatIp(inside(rng.chance(0.5) ? clientV4 : neverV4))}`;
        break;
      default:
        clientIp = rng.pick(['127.0.0.1', '::1', '10.0.0.7', 'not-an-ip', '192.0.2.25']);
    }
    const serverIp = rng.chance(0.7)
      ? rng.pick(SERVER_ADDRESSES)
      : rng.chance(0.5)
        ? formatIp(inside(internalV4))
        : formatV4(rng.u32());

    // Recipient.
    const category = rng.weighted({
      routed: 30,
      subdomain: 18,
      unrouted: 20,
      localKnown: 12,
      localUnknown: 6,
      postmaster: 3,
      literal: 3,
      mixedCase: 5,
      badRecipient: 2,
      badSender: 1,
    });
    categories[category] = (categories[category] ?? 0) + 1;
    const user = rng.pick(USER_NAMES);
    let rcptTo: string;
    switch (category) {
      case 'routed':
        if (rng.chance(0.3)) rcptTo = `<${rng.pick(remoteMailboxes)}>`;
        else
          rcptTo = `<${user}@${rng.chance(0.8) ? rng.pick(routedPlain) : rng.pick(routedExact)}>`;
        break;
      case 'subdomain':
        rcptTo = `<${user}@${rng.pick(SUB_LABELS)}.${
          rng.chance(0.8) ? rng.pick(routedPlain) : rng.pick(routedExact)
        }>`;
        break;
      case 'unrouted':
        rcptTo = `<${user}@${label(rng)}.${rng.pick(UNROUTED_TLDS)}>`;
        break;
      case 'localKnown':
        rcptTo = `<${rng.pick(siteUsers)}@${SITE_DOMAIN}>`;
        break;
      case 'localUnknown':
        rcptTo = `<nobody.${label(rng)}@${SITE_DOMAIN}>`;
        break;
      case 'postmaster':
        rcptTo = rng.pick(['<Postmaster>', `<postmaster@${SITE_DOMAIN}>`, '<POSTMASTER@io>']);
        break;
      case 'literal':
        rcptTo = rng.pick([
          `<${user}@[192.0.2.25]>`,
          `<${rng.pick(siteUsers)}@[192.0.2.25]>`,
          `<${user}@[IPv6:2001:db8:ffff::25]>`,
          `<${user}@[198.51.100.7]>`,
          `<postmaster@[192.0.2.25]>`,
        ]);
        break;
      case 'mixedCase':
        rcptTo = `<${user.toUpperCase()}@${rng.pick(routedPlain).toUpperCase()}.>`;
        break;
      case 'badRecipient':
        rcptTo = rng.pick(['<a@b@c.com>', '<no-domain>', '<x@-bad-.com>', '<x@[999.1.1.1]>', '']);
        break;
      default:
        rcptTo = `<${user}@${rng.pick(routedPlain)}>`;
    }

    // Sender.
    let mailFrom: string;
    const sender = rng.weighted({ remote: 80, null: 10, local: 10 });
    if (category === 'badSender') mailFrom = rng.pick(['<a b@c.com>', '<@:x@y.com>', '<x@>']);
    else if (sender === 'null') mailFrom = '<>';
    else if (sender === 'local') mailFrom = `<${rng.pick(siteUsers)}@${SITE_DOMAIN}>`;
    else mailFrom = `<sender${q % 97}@${label(rng)}.${rng.pick(TLDS)}>`;

    queries.push({
      clientIp,
      serverIp,
      authenticated: rng.chance(0.3),
      mailFrom,
      rcptTo,
      isKnownRecipient,
    });
  }

  return { config, queries, directory, notices: result.notices.length, categories };
}
