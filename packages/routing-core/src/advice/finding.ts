/**
 * What every advisor check shares: the shape of a finding and of its fix, the
 * context the caller gives, and the parsed view of the document each check
 * reads. A check is `(config, context) => Finding[]`: pure, one per family.
 */

import { type AddressListName, listPointer, type Policy } from '../compile';
import type { IpEntry, RoutingConfig } from '../config';
import type { IpAddress } from '../ip';
import { parseIpEntry, type ValidationIssue } from '../validate';

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
  /**
   * Where the SMTP nodes listen, as `host:port` pairs as nodes report them
   * (`127.0.0.1:2525`, `[::]:2525`): their hosts count as listen addresses
   * and their ports as SMTP ports.
   */
  listen?: readonly string[];
  /** Ports the SMTP service listens on (beside those in `listen`). */
  smtpPorts?: readonly number[];
  /** The console's HTTP port: a route to it on this machine is a mistake. */
  httpPort?: number;
  /** Mailboxes in the directory: POP3/IMAP4 users who send through this service. */
  mailboxCount?: number;
}

/** An address-list entry that parses, with where it sits. */
export interface ParsedEntry {
  index: number;
  pointer: string;
  entry: IpEntry;
  network: IpAddress;
  prefix: number;
}

/** What a check reads: the caller's context and the validated document, parsed once. */
export interface CheckContext extends AdviceContext {
  /** The compiled document (the same as the check's `config`, normalised). */
  policy: Policy;
  /** What validate() normalised (host bits cleared, IPv4-mapped entries). */
  notices: readonly ValidationIssue[];
  lists: Readonly<Record<AddressListName, readonly ParsedEntry[]>>;
}

export type Check = (config: RoutingConfig, context: CheckContext) => Finding[];

/** A finding whose id is its code, plus `:where` when it is about one place. */
export function finding(f: Omit<Finding, 'id'>, where?: string): Finding {
  return { id: where ? `${f.code}:${where}` : f.code, ...f };
}

export function parseEntries(list: AddressListName, entries: readonly IpEntry[]): ParsedEntry[] {
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

export function cidr(e: ParsedEntry): string {
  return `${e.entry.ip}/${e.entry.mask}`;
}

export function isReroute(config: RoutingConfig): boolean {
  return config.rerouteMode === 'reroute';
}

export function anyCriterion(config: RoutingConfig): boolean {
  const r = config.restrictions;
  return r.authenticated || r.clientAddresses.enabled || r.internalAddresses.enabled;
}

/** Below this prefix length a client-list entry covers "a large share of the Internet". */
export function broadPrefix(e: ParsedEntry): boolean {
  return e.prefix < (e.network.family === 4 ? 8 : 16);
}
