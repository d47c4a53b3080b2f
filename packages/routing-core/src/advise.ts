/**
 * advise(config, context): the security advisor. Every finding says what is
 * wrong, why (with its knowledge-base reference), and where possible offers a
 * one-click fix as a JSON Patch (RFC 6902) on the document.
 */

import { type AddressListName, listPointer, Policy, RESTRICTION_LABELS } from './compile';
import { INBOUND, type IpEntry, type RoutingConfig } from './config';
import { type IpAddress, parsePeerIp, prefixContains, prefixesOverlap } from './ip';
import { IpPrefixTable } from './ip-table';
import { parseIpEntry, parseSentTo, validate } from './validate';

export type Severity = 'critical' | 'warning' | 'info';

export type JsonPatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export interface Fix {
  /** What the fix does, as a button label would say it. */
  description: string;
  /** The change to the document. */
  patch: JsonPatchOperation[];
}

export interface Finding {
  /** Unique and stable for the same problem in the same place: what `acknowledge` names. */
  id: string;
  /** The kind of finding, e.g. `open-relay`. */
  code: string;
  severity: Severity;
  message: string;
  /** Knowledge-base article or standard that explains it, e.g. `Q260562`. */
  reference: string;
  /** JSON Pointer of the field it is about. */
  pointer?: string;
  fix?: Fix;
}

export interface AdviceContext {
  /** Addresses the SMTP service listens on (checked against "internal addresses"). */
  listenAddresses?: readonly string[];
  /** Mailboxes in the directory: POP3/IMAP4 users who send through this service. */
  mailboxCount?: number;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

interface ParsedEntry {
  index: number;
  pointer: string;
  entry: IpEntry;
  network: IpAddress;
  prefix: number;
}

function parseEntries(list: AddressListName, entries: readonly IpEntry[]): ParsedEntry[] {
  const out: ParsedEntry[] = [];
  entries.forEach((entry, index) => {
    const parsed = parseIpEntry(entry.ip, entry.mask);
    if ('error' in parsed) return;
    out.push({
      index,
      pointer: listPointer(list, index),
      entry,
      network: parsed.network,
      prefix: parsed.prefix,
    });
  });
  return out;
}

function cidr(e: ParsedEntry): string {
  return `${e.entry.ip}/${e.entry.mask}`;
}

/** Findings for a configuration (a saved one or an unsaved draft). Most severe first. */
export function advise(config: RoutingConfig, context: AdviceContext = {}): Finding[] {
  const checked = validate(config);
  if (!checked.ok) {
    return checked.errors.map((e) => ({
      id: `invalid:${e.pointer}`,
      code: 'invalid',
      severity: 'critical' as const,
      message: e.message,
      reference: 'DESIGN §2',
      pointer: e.pointer,
    }));
  }
  const doc = checked.config;
  const findings: Finding[] = [];
  const add = (f: Omit<Finding, 'id'>, where?: string) =>
    findings.push({ id: where ? `${f.code}:${where}` : f.code, ...f });

  for (const n of checked.notices) {
    add(
      {
        code: n.code,
        severity: 'info',
        message: n.message,
        reference: 'RFC 4632 §3.1',
        pointer: n.pointer,
      },
      n.pointer,
    );
  }

  const policy = new Policy(doc);
  const reroute = doc.rerouteMode === 'reroute';
  const r = doc.restrictions;
  const anyCriterion = r.authenticated || r.clientAddresses.enabled || r.internalAddresses.enabled;
  const tickAuthenticated: Fix = {
    description: `Tick "${RESTRICTION_LABELS.authenticated}"`,
    patch: [{ op: 'replace', path: '/restrictions/authenticated', value: true }],
  };
  const rejectUnknown: Fix = {
    description: 'Reject unknown recipients at RCPT time',
    patch: [{ op: 'replace', path: '/rejectUnknownRecipients', value: true }],
  };

  // Open relay (Q260562).
  if (reroute && !anyCriterion) {
    add({
      code: 'open-relay',
      severity: 'critical',
      message:
        'Reroute is on and no routing restriction is ticked, so any host on the Internet may relay mail through this server: an open relay.',
      reference: 'Q260562',
      pointer: '/restrictions',
      fix: tickAuthenticated,
    });
  }

  // NDR relay and backscatter (Q255695).
  if (!doc.rejectUnknownRecipients) {
    if (!reroute) {
      add({
        code: 'ndr-relay',
        severity: 'critical',
        message:
          '"Do not reroute" accepts mail for any outside recipient and then sends a non-delivery report to the MAIL FROM address, so anyone can relay spam as NDRs to any victim.',
        reference: 'Q255695',
        pointer: '/rejectUnknownRecipients',
        fix: rejectUnknown,
      });
    } else {
      add({
        code: 'unknown-recipients-accepted',
        severity: 'warning',
        message:
          'Mail for unknown local recipients is accepted and then returned as a non-delivery report to the MAIL FROM address, which is usually forged: backscatter.',
        reference: 'Q255695',
        pointer: '/rejectUnknownRecipients',
        fix: rejectUnknown,
      });
    }
  }

  // The site's own domain must be accepted inbound.
  if (reroute && !policy.isInbound(doc.siteDomain)) {
    // The entry that decides the site domain now (an exact `#` entry wins):
    // rerouting exactly that one to <inbound> fixes it in one step.
    const deciding = policy.findRoute(doc.siteDomain);
    const existing = deciding && deciding.domain === doc.siteDomain ? deciding.index : -1;
    add({
      code: 'site-domain-not-inbound',
      severity: 'critical',
      message: `The site domain ${doc.siteDomain} is not routed <inbound>, so mail for this site's own users is not delivered here.`,
      reference: 'Q169683',
      pointer: existing >= 0 ? `/routes/${existing}/routeTo` : '/routes',
      fix:
        existing >= 0
          ? {
              description: `Route ${doc.routes[existing]?.sentTo} to <inbound>`,
              patch: [{ op: 'replace', path: `/routes/${existing}/routeTo`, value: INBOUND }],
            }
          : {
              description: `Add ${doc.siteDomain} → <inbound>`,
              patch: [
                {
                  op: 'add',
                  path: '/routes/0',
                  value: { sentTo: doc.siteDomain, routeTo: INBOUND },
                },
              ],
            },
    });
  }

  // POP3/IMAP4 users send by authenticating (Q279860).
  const users = context.mailboxCount ?? 0;
  if (users > 0 && reroute && anyCriterion && !r.authenticated) {
    add({
      code: 'pop3-imap-users-lose-relay',
      severity: 'warning',
      message: `"${RESTRICTION_LABELS.authenticated}" is not ticked, so the ${users} POP3/IMAP4 user(s) of this server can send to outside recipients only from listed addresses.`,
      reference: 'Q279860',
      pointer: '/restrictions/authenticated',
      fix: tickAuthenticated,
    });
  }
  if (users > 0 && !reroute) {
    add({
      code: 'pop3-imap-users-cannot-send',
      severity: 'warning',
      message: `With "Do not reroute", the ${users} POP3/IMAP4 user(s) of this server cannot send to outside recipients through it.`,
      reference: 'Q279860',
      pointer: '/rerouteMode',
      fix: {
        description: `Reroute incoming SMTP mail, and tick "${RESTRICTION_LABELS.authenticated}"`,
        // Rerouting with no restriction ticked would make an open relay: the
        // fix ticks the criterion these users need in the same step.
        patch: [
          { op: 'replace', path: '/rerouteMode', value: 'reroute' },
          { op: 'replace', path: '/restrictions/authenticated', value: true },
        ],
      },
    });
  }
  if (!reroute && doc.routes.some((route) => route.sentTo !== doc.siteDomain)) {
    add({
      code: 'routing-table-unused',
      severity: 'info',
      message: 'The routing table is kept but not used while "Do not reroute" is chosen.',
      reference: 'Q169683',
      pointer: '/routes',
    });
  }

  adviseRoutes(doc, add);

  // Address lists.
  const lists: Record<AddressListName, ParsedEntry[]> = {
    clientAddresses: parseEntries('clientAddresses', r.clientAddresses.entries),
    internalAddresses: parseEntries('internalAddresses', r.internalAddresses.entries),
    neverRoute: parseEntries('neverRoute', r.neverRoute),
  };
  for (const name of ['clientAddresses', 'internalAddresses', 'neverRoute'] as const) {
    adviseDuplicates(name, lists[name], add);
  }

  for (const name of ['clientAddresses', 'internalAddresses'] as const) {
    const enabled = r[name].enabled;
    const label = RESTRICTION_LABELS[name];
    for (const e of lists[name]) {
      if (e.prefix === 0) {
        add(
          {
            code: 'allow-everything',
            severity: enabled && reroute ? 'critical' : 'warning',
            message:
              name === 'clientAddresses'
                ? `${cidr(e)} on "${label}" covers every address: every client may relay${enabled ? '' : ' as soon as the box is ticked'}.`
                : `${cidr(e)} on "${label}" covers every server address: every client that connects may relay${enabled ? '' : ' as soon as the box is ticked'}.`,
            reference: 'Q260562',
            pointer: e.pointer,
            fix: { description: `Remove ${cidr(e)}`, patch: [{ op: 'remove', path: e.pointer }] },
          },
          e.pointer,
        );
      } else if (name === 'clientAddresses' && e.prefix < (e.network.family === 4 ? 8 : 16)) {
        add(
          {
            code: 'broad-allow-entry',
            severity: 'warning',
            message: `${cidr(e)} on "${label}" covers a large share of the Internet: all of it may relay.`,
            reference: 'Q260562',
            pointer: e.pointer,
          },
          e.pointer,
        );
      }
    }
    if (enabled && lists[name].length === 0) {
      // Offer to untick only when a criterion that can hold stays ticked: the
      // authenticated box, or the other list ticked with entries. Unticking
      // the last ticked criterion would let everyone relay (rule 5).
      const other = name === 'clientAddresses' ? 'internalAddresses' : 'clientAddresses';
      const others = r.authenticated || (r[other].enabled && r[other].entries.length > 0);
      add(
        {
          code: 'criterion-empty-list',
          severity: 'warning',
          message: `"${label}" is ticked but its list is empty, so it never lets anyone relay.`,
          reference: 'Q260562',
          pointer: `/restrictions/${name}`,
          ...(others
            ? {
                fix: {
                  description: `Untick "${label}"`,
                  patch: [{ op: 'replace', path: `/restrictions/${name}/enabled`, value: false }],
                },
              }
            : {}),
        },
        `/restrictions/${name}`,
      );
    }
  }

  // Never-route entries that overlap allowed clients: one trie lookup each
  // way (an overlap is one prefix inside the other), one finding per
  // never-route entry, so a large list costs O(n + m) and not O(n × m).
  const clientTable = new IpPrefixTable<ParsedEntry>();
  for (const e of lists.clientAddresses) clientTable.insert(e.network, e.prefix, e);
  const neverTable = new IpPrefixTable<ParsedEntry>();
  for (const e of lists.neverRoute) neverTable.insert(e.network, e.prefix, e);
  const overlaps = new Map<ParsedEntry, ParsedEntry>();
  for (const n of lists.neverRoute) {
    const a = clientTable.lookup(n.network);
    if (a && prefixesOverlap(n.network, n.prefix, a.network, a.prefix)) overlaps.set(n, a);
  }
  for (const a of lists.clientAddresses) {
    const n = neverTable.lookup(a.network);
    if (n && !overlaps.has(n) && prefixesOverlap(n.network, n.prefix, a.network, a.prefix)) {
      overlaps.set(n, a);
    }
  }
  for (const n of lists.neverRoute) {
    if (n.prefix === 0) {
      add(
        {
          code: 'never-route-everything',
          severity: 'warning',
          message:
            n.network.family === 4
              ? `Never-route entry ${cidr(n)} covers every IPv4 client: none may relay, not even users who authenticate.`
              : `Never-route entry ${cidr(n)} covers every IPv6 client: none may relay, not even users who authenticate (IPv4 clients are matched by IPv4 entries).`,
          reference: 'Q260562',
          pointer: n.pointer,
        },
        n.pointer,
      );
    }
    const a = overlaps.get(n);
    if (!a) continue;
    add(
      {
        code: 'never-route-overlaps-allow',
        severity: 'warning',
        message: `Never-route entry ${cidr(n)} overlaps allowed entry ${cidr(a)}: never-route wins, so clients in both cannot relay.`,
        reference: 'Q260562',
        pointer: n.pointer,
      },
      n.pointer,
    );
  }

  // Internal addresses the service does not listen on, or every one it does.
  const listen = (context.listenAddresses ?? []).map((a) => parsePeerIp(a));
  const wildcard = listen.some((a) => !a || a.words.every((w) => w === 0));
  if (
    reroute &&
    r.internalAddresses.enabled &&
    listen.length > 0 &&
    !wildcard &&
    listen.every(
      (a) => a && lists.internalAddresses.some((e) => prefixContains(e.network, e.prefix, a)),
    )
  ) {
    add({
      code: 'internal-covers-every-listen-address',
      severity: 'critical',
      message: `"${RESTRICTION_LABELS.internalAddresses}" lists every address this service listens on, so every client that connects may relay.`,
      reference: 'Q260562',
      pointer: '/restrictions/internalAddresses',
    });
  }
  if (r.internalAddresses.enabled && listen.length > 0 && !wildcard) {
    for (const e of lists.internalAddresses) {
      if (listen.some((a) => a && prefixContains(e.network, e.prefix, a))) continue;
      add(
        {
          code: 'internal-address-not-listening',
          severity: 'warning',
          message: `The service does not listen on any address in ${cidr(e)}, so no client can connect to it and this entry never applies.`,
          reference: 'Q260562',
          pointer: e.pointer,
        },
        e.pointer,
      );
    }
  }

  return capPerCode(findings).sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
}

/** The most findings of one kind listed; the rest are counted in one more finding. */
export const MAX_FINDINGS_PER_CODE = 50;

function capPerCode(findings: Finding[]): Finding[] {
  const counts = new Map<string, number>();
  const out: Finding[] = [];
  for (const f of findings) {
    const n = (counts.get(f.code) ?? 0) + 1;
    counts.set(f.code, n);
    if (n <= MAX_FINDINGS_PER_CODE) out.push(f);
  }
  for (const [code, n] of counts) {
    if (n <= MAX_FINDINGS_PER_CODE) continue;
    const first = findings.find((f) => f.code === code) as Finding;
    out.push({
      id: `${code}:more`,
      code: `${code}-more`,
      severity: first.severity,
      message: `${n - MAX_FINDINGS_PER_CODE} more "${code}" findings are not listed.`,
      reference: first.reference,
    });
  }
  return out;
}

function adviseRoutes(
  doc: RoutingConfig,
  add: (f: Omit<Finding, 'id'>, where?: string) => void,
): void {
  const seen = new Map<string, number>();
  const plain = new Map<string, number>();
  const exact = new Map<string, number>();
  doc.routes.forEach((route, index) => {
    const pointer = `/routes/${index}`;
    const first = seen.get(route.sentTo);
    if (first !== undefined) {
      add(
        {
          code: 'duplicate-route',
          severity: doc.routes[first]?.routeTo === route.routeTo ? 'info' : 'warning',
          message: `"${route.sentTo}" is listed again (entry ${first + 1} is the one used): this entry never applies.`,
          reference: 'Q169683',
          pointer,
          fix: {
            description: `Remove this "${route.sentTo}" entry`,
            patch: [{ op: 'remove', path: pointer }],
          },
        },
        pointer,
      );
      return;
    }
    seen.set(route.sentTo, index);
    const s = parseSentTo(route.sentTo);
    if ('error' in s) return;
    (s.exact ? exact : plain).set(s.domain, index);
  });

  const nearestPlainAbove = (domain: string): number | undefined => {
    let d = domain;
    for (let dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.')) {
      d = d.slice(dot + 1);
      const i = plain.get(d);
      if (i !== undefined) return i;
    }
    return undefined;
  };

  for (const [domain, index] of exact) {
    const plainIndex = plain.get(domain);
    if (plainIndex !== undefined) {
      add(
        {
          code: 'exact-beside-plain',
          severity: 'info',
          message: `"#${domain}" decides ${domain} itself; "${domain}" (entry ${plainIndex + 1}) then applies only to its subdomains.`,
          reference: 'Q169683',
          pointer: `/routes/${plainIndex}`,
        },
        `/routes/${index}`,
      );
      continue;
    }
    const above = nearestPlainAbove(domain);
    if (above !== undefined && doc.routes[above]?.routeTo === doc.routes[index]?.routeTo) {
      redundant(add, doc, index, above);
    }
  }
  for (const [domain, index] of plain) {
    const above = nearestPlainAbove(domain);
    if (above !== undefined && doc.routes[above]?.routeTo === doc.routes[index]?.routeTo) {
      redundant(add, doc, index, above);
    }
  }
}

function redundant(
  add: (f: Omit<Finding, 'id'>, where?: string) => void,
  doc: RoutingConfig,
  index: number,
  above: number,
): void {
  const pointer = `/routes/${index}`;
  add(
    {
      code: 'redundant-route',
      severity: 'info',
      message: `"${doc.routes[index]?.sentTo}" routes the same way as the broader "${doc.routes[above]?.sentTo}" (entry ${above + 1}): it changes nothing.`,
      reference: 'Q169683',
      pointer,
      fix: {
        description: `Remove "${doc.routes[index]?.sentTo}"`,
        patch: [{ op: 'remove', path: pointer }],
      },
    },
    pointer,
  );
}

function adviseDuplicates(
  name: AddressListName,
  entries: readonly ParsedEntry[],
  add: (f: Omit<Finding, 'id'>, where?: string) => void,
): void {
  const label = RESTRICTION_LABELS[name];
  // Sort by prefix so each entry is compared only with broader ones that precede it.
  const byPrefix = [...entries].sort((a, b) => a.prefix - b.prefix || a.index - b.index);
  const seen = new Map<string, ParsedEntry>();
  for (const e of byPrefix) {
    const key = cidr(e);
    const dup = seen.get(key);
    if (dup) {
      const [keep, drop] = dup.index < e.index ? [dup, e] : [e, dup];
      add(
        {
          code: 'duplicate-address',
          severity: 'info',
          message: `${key} is listed twice on "${label}" (entries ${keep.index + 1} and ${drop.index + 1}).`,
          reference: 'Q260562',
          pointer: drop.pointer,
          fix: {
            description: `Remove the second ${key}`,
            patch: [{ op: 'remove', path: drop.pointer }],
          },
        },
        drop.pointer,
      );
      continue;
    }
    seen.set(key, e);
  }
  // Entries inside a broader entry of the same list: a sorted sweep per family.
  for (const family of [4, 6] as const) {
    const list = byPrefix.filter((e) => e.network.family === family);
    if (list.length > 2000) continue; // quadratic check: skip on very large lists
    for (let i = 0; i < list.length; i++) {
      const inner = list[i] as ParsedEntry;
      for (let j = 0; j < i; j++) {
        const outer = list[j] as ParsedEntry;
        if (
          outer.prefix >= inner.prefix ||
          !prefixContains(outer.network, outer.prefix, inner.network)
        )
          continue;
        add(
          {
            code: 'redundant-address',
            severity: 'info',
            message: `${cidr(inner)} lies inside ${cidr(outer)} on "${label}": it changes nothing.`,
            reference: 'Q260562',
            pointer: inner.pointer,
            fix: {
              description: `Remove ${cidr(inner)}`,
              patch: [{ op: 'remove', path: inner.pointer }],
            },
          },
          inner.pointer,
        );
        break;
      }
    }
  }
}

function decodePointer(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Applies a fix (a JSON Patch of add / replace / remove) to a copy of the
 * document; the input is not changed. Throws on a path that does not exist.
 */
export function applyFix(config: RoutingConfig, fix: Fix): RoutingConfig {
  const copy = structuredCloneJson(config);
  for (const op of fix.patch) {
    const tokens = decodePointer(op.path);
    const last = tokens.pop();
    if (last === undefined) throw new Error(`Cannot patch the whole document (${op.path}).`);
    let target: unknown = copy;
    for (const t of tokens) {
      target = (target as Record<string, unknown>)[t];
      if (typeof target !== 'object' || target === null)
        throw new Error(`No such path: ${op.path}`);
    }
    if (Array.isArray(target)) {
      const index = last === '-' ? target.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > target.length)
        throw new Error(`No such path: ${op.path}`);
      if (op.op === 'add') target.splice(index, 0, structuredCloneJson(op.value));
      else if (index >= target.length) throw new Error(`No such path: ${op.path}`);
      else if (op.op === 'remove') target.splice(index, 1);
      else target[index] = structuredCloneJson(op.value);
    } else {
      const record = target as Record<string, unknown>;
      if (op.op !== 'add' && !(last in record)) throw new Error(`No such path: ${op.path}`);
      if (op.op === 'remove') delete record[last];
      else record[last] = structuredCloneJson(op.value);
    }
  }
  return copy;
}

function structuredCloneJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
