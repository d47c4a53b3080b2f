/**
 * The lookup tables a rendering writes, built from routing-core's compiled
 * routing table so that Postfix's first-match order gives routing-core's
 * answer: an exact `#domain` entry first, then the most specific plain entry
 * by whole labels (docs/design.md §2 rule 2). Only formats that need no
 * postmap: regexp, cidr and texthash.
 */

import {
  INBOUND,
  type IpEntry,
  parseIp,
  parseMask,
  parseRouteTarget,
  parseSentTo,
  type Route,
} from '@ims/routing-core';

/** A routing-table entry as the tables need it. */
export interface TableRoute {
  domain: string;
  exact: boolean;
  inbound: boolean;
  /** `smtp:[host]:port` for a host route. */
  transport?: string;
  /** The entry's index in the document (for error pointers). */
  index: number;
}

/** Escapes a domain for a POSIX extended regular expression. */
export function escapeRegexp(text: string): string {
  return text.replace(/[.\\+*?()|[\]{}^$/-]/g, (c) => `\\${c}`);
}

function labels(domain: string): number {
  let n = 1;
  for (let i = 0; i < domain.length; i++) if (domain.charCodeAt(i) === 46) n++;
  return n;
}

/** Postfix's next hop for a host route: `smtp:[host]` or `smtp:[host]:port` (no MX lookup). */
export function smtpNextHop(host: string, port?: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return port === undefined ? `smtp:[${bare}]` : `smtp:[${bare}]:${port}`;
}

/**
 * The routing table in Postfix's first-match order: more labels first, and
 * `#d` before `d`. Duplicates keep the first entry, as routing-core does.
 * Among entries with as many labels only one can match a given domain, so
 * this order makes the first matching entry the one routing-core picks.
 */
export function orderedRoutes(routes: readonly Route[]): TableRoute[] {
  const seen = new Set<string>();
  const out: TableRoute[] = [];
  routes.forEach((route, index) => {
    const sent = parseSentTo(route.sentTo);
    const target = parseRouteTarget(route.routeTo);
    if ('error' in sent || 'error' in target) return;
    const key = `${sent.exact ? '#' : ''}${sent.domain}`;
    if (seen.has(key)) return;
    seen.add(key);
    const inbound = target.kind === 'inbound' || route.routeTo === INBOUND;
    const row: TableRoute = { domain: sent.domain, exact: sent.exact, inbound, index };
    if (target.kind === 'host') row.transport = smtpNextHop(target.host, target.port);
    out.push(row);
  });
  return out
    .map((row, i) => ({ row, i }))
    .sort(
      (a, b) =>
        labels(b.row.domain) - labels(a.row.domain) ||
        Number(b.row.exact) - Number(a.row.exact) ||
        a.i - b.i,
    )
    .map(({ row }) => row);
}

/** The pattern of an entry against a domain name or a whole address (`user@domain`). */
function entryPattern(row: TableRoute): string {
  const d = escapeRegexp(row.domain);
  return row.exact ? `/(^|@)${d}$/` : `/(^|[.@])${d}$/`;
}

/**
 * virtual_mailbox_domains as a regexp table: a domain is listed when the
 * entry that routing-core picks for it is `<inbound>`. A more specific
 * non-inbound entry guards everything after it with `if !/…/`, so a less
 * specific inbound entry cannot claim its domains (Postfix's own domain
 * lists match exact names only, and would turn subdomains into relaying).
 */
export function inboundDomainsTable(ordered: readonly TableRoute[]): string {
  const lines: string[] = ["# Domains delivered here: the routing table's <inbound> entries."];
  let lastInbound = -1;
  ordered.forEach((row, i) => {
    if (row.inbound) lastInbound = i;
  });
  let depth = 0;
  ordered.forEach((row, i) => {
    if (i > lastInbound) return;
    // No indentation: a line starting with white space continues the one before.
    if (row.inbound) {
      lines.push(`${entryPattern(row)} OK`);
    } else {
      lines.push(`if !${entryPattern(row)}`);
      depth++;
    }
  });
  for (; depth > 0; depth--) lines.push('endif');
  return `${lines.join('\n')}\n`;
}

/** transport_maps as a regexp table: the first match is routing-core's entry. */
export function transportTable(ordered: readonly TableRoute[]): string {
  const lines: string[] = [
    '# Where each routed domain goes: the first match is the entry that decides.',
  ];
  for (const row of ordered) {
    lines.push(`${entryPattern(row)} ${row.inbound ? 'virtual:' : row.transport}`);
  }
  return `${lines.join('\n')}\n`;
}

/** An address entry as a cidr table key (`192.168.1.0/24`, `2001:db8::/32`). */
export function cidrKey(entry: IpEntry): string | undefined {
  const ip = parseIp(entry.ip);
  if (!ip) return undefined;
  const mask = parseMask(entry.mask, ip.family);
  if (!mask.ok) return undefined;
  return `${entry.ip}/${mask.prefix}`;
}

/** A cidr table of address entries, each with the same result. */
export function cidrTable(comment: string, entries: readonly IpEntry[], result: string): string {
  const lines = [`# ${comment}`];
  for (const entry of entries) {
    const key = cidrKey(entry);
    if (key) lines.push(`${key} ${result}`);
  }
  return `${lines.join('\n')}\n`;
}
