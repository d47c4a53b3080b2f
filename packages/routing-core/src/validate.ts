/**
 * validate(doc): checks an untrusted routing configuration document and
 * returns it normalised, or every error with a JSON Pointer and a message.
 * Normalising a normalised document changes nothing.
 */

import {
  type AddressList,
  INBOUND,
  type IpEntry,
  MAX_ENTRIES,
  MAX_ROUTES,
  type Restrictions,
  type Route,
  type RoutingConfig,
} from './config';
import { normaliseDomain } from './domain';
import {
  formatIPv4,
  formatIp,
  formatMask,
  hasHostBits,
  type IpAddress,
  networkOf,
  parseIPv4,
  parseIPv6,
  parseIp,
  parseMask,
} from './ip';

export interface ValidationIssue {
  /** JSON Pointer (RFC 6901) to the field, e.g. `/routes/2/sentTo`; `""` for the whole document. */
  pointer: string;
  /** Stable id of the kind of problem, e.g. `invalid-domain`, `required`, `host-bits-set`. */
  code: string;
  /** What is wrong, in words an administrator understands. */
  message: string;
}

export type ValidationResult =
  | {
      ok: true;
      /** The normalised document. */
      config: RoutingConfig;
      /** Things normalisation changed that the administrator should know (e.g. host bits cleared). */
      notices: ValidationIssue[];
    }
  | { ok: false; errors: ValidationIssue[] };

export type RouteTarget =
  | { kind: 'inbound' }
  | { kind: 'host'; host: string; port?: number; hostKind: 'name' | 'ipv4' | 'ipv6' };

/** A scheme such as `smtp://`: someone wrote a URL where a host belongs. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** An address literal in brackets: `[2001:db8::1]`, `[IPv6:2001:db8::1]` or `[192.0.2.1]`. */
function parseBracketedHost(
  inner: string,
): { host: string; hostKind: 'ipv4' | 'ipv6' } | { error: string } {
  const v4 = parseIPv4(inner);
  if (v4 !== null) return { host: formatIPv4(v4), hostKind: 'ipv4' };
  const text = /^ipv6:/i.test(inner) ? inner.slice(5) : inner;
  const v6 = parseIPv6(text);
  if (!v6) return { error: `"${inner}" is not an IPv6 or IPv4 address.` };
  return { host: formatIp({ family: 6, words: v6 }), hostKind: 'ipv6' };
}

/**
 * Parses a "Route to" value: `<inbound>`, `host`, `host:port`,
 * `192.0.2.1:25`, `[2001:db8::1]:25`, or an address literal as SMTP writes it
 * (`[192.0.2.1]:25`, `[IPv6:2001:db8::1]`). Literals are normalised: IPv4
 * without brackets, IPv6 in brackets, RFC 5952 text.
 */
export function parseRouteTarget(text: string): RouteTarget | { error: string } {
  const t = text.trim();
  if (t.toLowerCase() === INBOUND) return { kind: 'inbound' };
  if (URL_SCHEME.test(t)) {
    return { error: 'Write a host name or address, with an optional :port, not a URL.' };
  }
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0)
      return { error: 'An IPv6 host is written in brackets: [2001:db8::1] or [2001:db8::1]:25.' };
    const rest = t.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':'))
      return { error: `Unexpected text after "]": "${rest}".` };
    const host = parseBracketedHost(t.slice(1, close));
    if ('error' in host) return host;
    const port = parsePort(rest === '' ? undefined : rest.slice(1));
    if (typeof port === 'string') return { error: port };
    return withPort({ kind: 'host', ...host }, port);
  }
  let hostText = t;
  let portText: string | undefined;
  const colon = t.lastIndexOf(':');
  if (colon >= 0) {
    if (t.indexOf(':') !== colon) {
      return { error: 'Write an IPv6 host in brackets, such as [2001:db8::1]:25.' };
    }
    hostText = t.slice(0, colon);
    portText = t.slice(colon + 1);
  }
  const port = parsePort(portText);
  if (typeof port === 'string') return { error: port };
  const v4 = parseIPv4(hostText);
  if (v4 !== null) return withPort({ kind: 'host', host: hostText, hostKind: 'ipv4' }, port);
  const name = normaliseDomain(hostText);
  if (!name.ok) {
    return {
      error: `Route to must be <inbound>, or a host name or IP address with an optional :port. ${name.message}`,
    };
  }
  return withPort({ kind: 'host', host: name.value, hostKind: 'name' }, port);
}

function withPort(target: RouteTarget & { kind: 'host' }, port: number | undefined): RouteTarget {
  return port === undefined ? target : { ...target, port };
}

function parsePort(text: string | undefined): number | undefined | string {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    return `The port must be a number from 1 to 65535, not "${text}".`;
  }
  return Number(text);
}

/** The stored text of a route target. */
export function formatRouteTarget(target: RouteTarget): string {
  if (target.kind === 'inbound') return INBOUND;
  const host = target.hostKind === 'ipv6' ? `[${target.host}]` : target.host;
  return target.port === undefined ? host : `${host}:${target.port}`;
}

/** Parses a "Sent to" value: `domain` or `#domain`. */
export function parseSentTo(text: string): { exact: boolean; domain: string } | { error: string } {
  const t = text.trim();
  const exact = t.startsWith('#');
  const result = normaliseDomain(exact ? t.slice(1) : t);
  if (!result.ok) return { error: result.message };
  return { exact, domain: result.value };
}

export interface ParsedIpEntry {
  network: IpAddress;
  prefix: number;
  /** Normalised entry. */
  entry: IpEntry;
  /** Set when the given address had host bits or was an IPv4-mapped IPv6 address. */
  notice?: { code: string; message: string };
}

/** Parses one IP + mask entry (mask defaults to a single host). */
export function parseIpEntry(
  ipText: string,
  maskText?: string,
): ParsedIpEntry | { error: string; field: 'ip' | 'mask' } {
  const ip = parseIp(ipText.trim());
  if (!ip) return { error: `"${ipText}" is not an IPv4 or IPv6 address.`, field: 'ip' };
  const mask =
    maskText === undefined || maskText.trim() === ''
      ? { ok: true as const, prefix: ip.family === 4 ? 32 : 128 }
      : parseMask(maskText, ip.family);
  if (!mask.ok) return { error: mask.message, field: 'mask' };
  let address = ip;
  let prefix = mask.prefix;
  let notice: ParsedIpEntry['notice'];
  // An IPv4-mapped IPv6 range stands for IPv4 clients, which are matched as IPv4.
  const [a, b, c, d] = ip.words;
  if (ip.family === 6 && a === 0 && b === 0 && c === 0xffff && prefix >= 96) {
    address = { family: 4, words: [d ?? 0] };
    prefix -= 96;
    notice = {
      code: 'ipv4-mapped',
      message: `${ipText} is an IPv4-mapped IPv6 address; stored as the IPv4 entry it stands for.`,
    };
  }
  const network = networkOf(address, prefix);
  const entry = { ip: formatIp(network), mask: formatMask(prefix, address.family) };
  if (hasHostBits(address, prefix)) {
    notice = {
      code: 'host-bits-set',
      message: `${formatIp(address)} has host bits set for mask ${entry.mask}; stored as the network ${entry.ip}.`,
    };
  }
  return notice ? { network, prefix, entry, notice } : { network, prefix, entry };
}

/** What the web shows for a field as soon as it is entered: the stored form, or why it cannot be stored. */
export type Normalized<T> =
  | { ok: true; value: T; notice?: string }
  | { ok: false; errors: { field: string; message: string }[] };

/**
 * An address-list entry as validate() would store it (network address, dotted
 * IPv4 mask or IPv6 prefix length, IPv4-mapped read as IPv4), with the notice
 * it would get; or the error of the field that is wrong.
 */
export function normalizeEntry(entry: { ip: string; mask?: string }): Normalized<IpEntry> {
  const parsed = parseIpEntry(entry.ip, entry.mask);
  if ('error' in parsed)
    return { ok: false, errors: [{ field: parsed.field, message: parsed.error }] };
  return parsed.notice
    ? { ok: true, value: parsed.entry, notice: parsed.notice.message }
    : { ok: true, value: parsed.entry };
}

/**
 * A routing-table entry as validate() would store it (lower-case domains
 * without a trailing dot, IDNs as A-labels, literals normalised); or the
 * error of each field that is wrong.
 */
export function normalizeRoute(route: { sentTo: string; routeTo: string }): Normalized<Route> {
  const sent = parseSentTo(route.sentTo);
  const target = parseRouteTarget(route.routeTo);
  const errors: { field: string; message: string }[] = [];
  if ('error' in sent) errors.push({ field: 'sentTo', message: sent.error });
  if ('error' in target) errors.push({ field: 'routeTo', message: target.error });
  if ('error' in sent || 'error' in target) return { ok: false, errors };
  return {
    ok: true,
    value: {
      sentTo: sent.exact ? `#${sent.domain}` : sent.domain,
      routeTo: formatRouteTarget(target),
    },
  };
}

type Json = unknown;

class Checker {
  readonly errors: ValidationIssue[] = [];
  readonly notices: ValidationIssue[] = [];

  error(pointer: string, code: string, message: string): void {
    this.errors.push({ pointer, code, message });
  }

  // A missing required field is reported once, by the object that lacks it;
  // the checks below then pass over `undefined` silently.
  object(
    value: Json,
    pointer: string,
    keys: readonly string[],
    optional: readonly string[] = [],
  ): Record<string, Json> | null {
    if (value === undefined && pointer !== '') return null;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.error(pointer, 'type', 'Must be an object.');
      return null;
    }
    const record = value as Record<string, Json>;
    for (const key of Object.keys(record)) {
      if (!keys.includes(key) && !optional.includes(key)) {
        this.error(`${pointer}/${escapePointer(key)}`, 'unknown-field', `Unknown field "${key}".`);
      }
    }
    for (const key of keys) {
      if (record[key] === undefined)
        this.error(`${pointer}/${key}`, 'required', `"${key}" is required.`);
    }
    return record;
  }

  boolean(value: Json, pointer: string): boolean {
    if (value === undefined) return false;
    if (typeof value !== 'boolean') {
      this.error(pointer, 'type', 'Must be true or false.');
      return false;
    }
    return value;
  }

  string(value: Json, pointer: string, maxLength: number): string | null {
    return this.sized(value, pointer, typeof value === 'string', maxLength, [
      'Must be a string.',
      `At most ${maxLength} characters.`,
    ]) as string | null;
  }

  array(value: Json, pointer: string, maxItems: number): Json[] | null {
    return this.sized(value, pointer, Array.isArray(value), maxItems, [
      'Must be a list.',
      `At most ${maxItems} entries.`,
    ]) as Json[] | null;
  }

  /** A string or a list: present, of the right type, and not longer than `max`. */
  private sized(
    value: Json,
    pointer: string,
    typeOk: boolean,
    max: number,
    [typeMessage, lengthMessage]: [string, string],
  ): Json | null {
    if (value === undefined) return null;
    if (!typeOk) {
      this.error(pointer, 'type', typeMessage);
      return null;
    }
    if ((value as string | Json[]).length > max) {
      this.error(pointer, typeof value === 'string' ? 'too-long' : 'too-many', lengthMessage);
      return null;
    }
    return value;
  }

  ipEntry(value: Json, pointer: string): IpEntry | null {
    const o = this.object(value, pointer, ['ip'], ['mask']);
    if (!o) return null;
    const ip = this.string(o.ip, `${pointer}/ip`, 64);
    const mask = o.mask === undefined ? undefined : this.string(o.mask, `${pointer}/mask`, 16);
    if (ip === null || mask === null) return null;
    const parsed = parseIpEntry(ip, mask);
    if ('error' in parsed) {
      this.error(
        `${pointer}/${parsed.field}`,
        parsed.field === 'ip' ? 'invalid-ip' : 'invalid-mask',
        parsed.error,
      );
      return null;
    }
    if (parsed.notice) this.notices.push({ pointer, ...parsed.notice });
    return parsed.entry;
  }

  ipEntries(value: Json, pointer: string): IpEntry[] {
    const list = this.array(value, pointer, MAX_ENTRIES);
    if (!list) return [];
    const out: IpEntry[] = [];
    list.forEach((item, i) => {
      const entry = this.ipEntry(item, `${pointer}/${i}`);
      if (entry) out.push(entry);
    });
    return out;
  }

  addressList(value: Json, pointer: string): AddressList {
    const o = this.object(value, pointer, ['enabled', 'entries']);
    if (!o) return { enabled: false, entries: [] };
    return {
      enabled: this.boolean(o.enabled, `${pointer}/enabled`),
      entries: this.ipEntries(o.entries, `${pointer}/entries`),
    };
  }

  route(value: Json, pointer: string): Route | null {
    const o = this.object(value, pointer, ['sentTo', 'routeTo']);
    if (!o) return null;
    const sentTo = this.string(o.sentTo, `${pointer}/sentTo`, 256);
    const routeTo = this.string(o.routeTo, `${pointer}/routeTo`, 270);
    let result: Route | null = { sentTo: '', routeTo: '' };
    if (sentTo !== null) {
      const parsed = parseSentTo(sentTo);
      if ('error' in parsed) {
        this.error(`${pointer}/sentTo`, 'invalid-domain', parsed.error);
        result = null;
      } else if (result) {
        result.sentTo = parsed.exact ? `#${parsed.domain}` : parsed.domain;
      }
    } else {
      result = null;
    }
    if (routeTo !== null) {
      const target = parseRouteTarget(routeTo);
      if ('error' in target) {
        this.error(`${pointer}/routeTo`, 'invalid-route-target', target.error);
        result = null;
      } else if (result) {
        result.routeTo = formatRouteTarget(target);
      }
    } else {
      result = null;
    }
    return result;
  }
}

/** RFC 6901 escaping of one reference token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Checks and normalises an untrusted routing configuration document. */
export function validate(doc: unknown): ValidationResult {
  const c = new Checker();
  const root = c.object(doc, '', [
    'siteDomain',
    'rerouteMode',
    'routes',
    'restrictions',
    'rejectUnknownRecipients',
  ]);
  if (!root) return { ok: false, errors: c.errors };

  let siteDomain = '';
  const siteText = c.string(root.siteDomain, '/siteDomain', 255);
  if (siteText !== null) {
    const d = normaliseDomain(siteText.trim());
    if (d.ok) siteDomain = d.value;
    else c.error('/siteDomain', 'invalid-domain', d.message);
  }

  const mode = root.rerouteMode;
  if (mode !== undefined && mode !== 'reroute' && mode !== 'no-reroute') {
    c.error('/rerouteMode', 'invalid-mode', 'Must be "reroute" or "no-reroute".');
  }

  const routes: Route[] = [];
  const routeList = c.array(root.routes, '/routes', MAX_ROUTES);
  routeList?.forEach((item, i) => {
    const route = c.route(item, `/routes/${i}`);
    if (route) routes.push(route);
  });

  let restrictions: Restrictions = {
    authenticated: false,
    clientAddresses: { enabled: false, entries: [] },
    internalAddresses: { enabled: false, entries: [] },
    neverRoute: [],
  };
  const r = c.object(root.restrictions, '/restrictions', [
    'authenticated',
    'clientAddresses',
    'internalAddresses',
    'neverRoute',
  ]);
  if (r) {
    restrictions = {
      authenticated: c.boolean(r.authenticated, '/restrictions/authenticated'),
      clientAddresses: c.addressList(r.clientAddresses, '/restrictions/clientAddresses'),
      internalAddresses: c.addressList(r.internalAddresses, '/restrictions/internalAddresses'),
      neverRoute: c.ipEntries(r.neverRoute, '/restrictions/neverRoute'),
    };
  }
  const rejectUnknownRecipients = c.boolean(
    root.rejectUnknownRecipients,
    '/rejectUnknownRecipients',
  );

  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return {
    ok: true,
    config: {
      siteDomain,
      rerouteMode: mode as RoutingConfig['rerouteMode'],
      routes,
      restrictions,
      rejectUnknownRecipients,
    },
    notices: c.notices,
  };
}
