/**
 * renderPostfix(): one configuration version in Postfix's terms (main.cf,
 * master.cf and lookup tables), for one Postfix instance (a PostfixTarget).
 * docs/postfix.md has the mapping, one row per field of the document, and
 * the limits: what Postfix cannot express makes this throw a
 * PostfixRenderError rather than render something that would decide
 * differently from routing-core.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  compile,
  type Policy,
  parsePeerIp,
  type RoutingConfig,
  splitHostPort,
} from '@ims/routing-core';
import {
  cidrTable,
  inboundDomainsTable,
  orderedRoutes,
  smtpNextHop,
  type TableRoute,
  transportTable,
} from './tables';

export interface PostfixTarget {
  /** Where main.cf, master.cf and the tables live when live (absolute). */
  configDirectory: string;
  queueDirectory: string;
  dataDirectory: string;
  /** The virtual Maildir root (under the node's IMS_DATA_DIR). */
  mailDirectory: string;
  /** IMS_SMTP_LISTEN x IMS_SMTP_PORT. */
  listen: { host: string; port: number }[];
  /** IMS_SMART_HOST, "host:port". */
  smartHost?: string;
  myhostname: string;
  /** Absolute path of the agent's auth socket; absent = no AUTH. */
  saslSocket?: string;
  tls?: { cert: string; key: string };
  /** Owner of the Maildirs (virtual_uid_maps/virtual_gid_maps); default: the `postfix` account. */
  mailOwner?: { uid: number; gid: number };
  /** Where Postfix logs (maillog_file); default `postfix.log` beside the data directory. */
  logFile?: string;
  /** Clients allowed to send XCLIENT (the self-check's staging instance); default none. */
  xclientHosts?: string[];
}

/** The bundle's mailbox list: what GET /api/v1/node/bundle returns in `directory`. */
export type MailboxList = readonly { address: string; passwordHash?: string }[];

export interface RenderedPostfix {
  /** Relative name -> content: main.cf, master.cf and the lookup tables. */
  files: Record<string, string>;
}

/** What Postfix cannot express for this version (and where in the document). */
export class PostfixRenderError extends Error {
  readonly field?: string;

  constructor(message: string, field?: string) {
    super(message);
    this.name = 'PostfixRenderError';
    if (field !== undefined) this.field = field;
  }
}

/** The reply of a refused relay attempt (Postfix prefixes the text: "<rcpt>: Recipient address rejected: "). */
export const RELAY_DENIED = 'static:{550 5.7.1 Relaying is prohibited}';
/**
 * An unconditional permit that smtpd's start-up check does not see as the
 * list's end: a bare `permit` before the reject makes every smtpd exit
 * ("specify at least one working instance of: reject_unauth_destination…")
 * and the listener hang for a minute ("bad command startup -- throttling").
 */
const PERMIT = 'check_client_access static:OK';
/** The restriction class the never-route table names. */
const NEVER_ROUTE_CLASS = 'ims_never_route';

/** The files of a rendering, by name. */
export const FILES = {
  main: 'main.cf',
  master: 'master.cf',
  inboundDomains: 'inbound_domains.regexp',
  transport: 'transport.regexp',
  mailboxes: 'mailboxes.texthash',
  postmaster: 'postmaster.regexp',
  localRecipients: 'local_recipients.texthash',
  neverRoute: 'never_route.cidr',
  clientAddresses: 'client_addresses.cidr',
} as const;

/** The main.cf parameter holding listener i's relay restrictions (master.cf names it). */
export function relayClassName(i: number): string {
  return `ims_relay_${i}`;
}

const WILDCARDS = new Set(['', '*', '0.0.0.0', '::', '[::]']);

export function isWildcard(host: string): boolean {
  return WILDCARDS.has(host);
}

function bare(host: string): string {
  return host.replace(/^\[|\]$/g, '');
}

function isIpv6(host: string): boolean {
  return bare(host).includes(':');
}

/** `127.0.0.1:2525`, `[::1]:2525`, `2525` (every address). */
function masterEndpoint(l: { host: string; port: number }): string {
  if (isWildcard(l.host)) return `${l.port}`;
  const h = bare(l.host);
  return isIpv6(h) ? `[${h}]:${l.port}` : `${h}:${l.port}`;
}

let cachedOwner: { uid: number; gid: number } | undefined;

/** The `postfix` account from /etc/passwd (uid 0 if there is none: virtual(8) then refuses to deliver). */
export function postfixOwner(): { uid: number; gid: number } {
  if (cachedOwner) return cachedOwner;
  cachedOwner = { uid: 0, gid: 0 };
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === 'postfix') cachedOwner = { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no /etc/passwd: keep the default
  }
  return cachedOwner;
}

/** A mailbox's Maildir under mailDirectory, named as apps/smtp names it (maildir.ts). */
export function maildirName(address: string): string {
  return `${address.toLowerCase().replace(/[^a-z0-9@._+-]/g, '_')}/`;
}

function checkValue(text: string, what: string, field?: string): string {
  if (/\s/.test(text) || text === '') {
    throw new PostfixRenderError(
      `${what} "${text}" cannot be written into Postfix's configuration.`,
      field,
    );
  }
  return text;
}

/**
 * master.cf: one smtpd per listen address, each naming its own relay
 * class parameter, and Postfix's standard services. It depends on the
 * target only, never on the version: Postfix reads it only at reload, so
 * it must not differ between the versions a reload switches between.
 */
export function renderMaster(target: PostfixTarget): string {
  const lines = [
    '# Rendered by the IMS Routing Console (@ims/postfix-config). The same for every version.',
    '# service type  private unpriv  chroot  wakeup  maxproc command + args',
  ];
  target.listen.forEach((l, i) => {
    lines.push(
      `${masterEndpoint(l)} inet n - n - - smtpd -o smtpd_relay_restrictions=$${relayClassName(i)}`,
    );
  });
  lines.push(
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'proxywrite unix - - n - 1 proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'local unix - n n - - local',
    'virtual unix - n n - - virtual',
    'lmtp unix - - n - - lmtp',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  );
  return `${lines.join('\n')}\n`;
}

interface ClassContext {
  policy: Policy;
  dir: string;
  sasl: boolean;
  neverRouteTable: boolean;
  clientTable: boolean;
}

/** The relay restrictions of one listener, in routing-core's order (docs/design.md §2 rules 5-7). */
function relayClass(ctx: ClassContext, listener: { host: string; port: number }): string {
  const { policy, dir } = ctx;
  const steps = ['permit_auth_destination'];
  const r = policy.config.restrictions;
  if (!policy.reroute) {
    // "Do not reroute": nothing but local delivery is accepted.
    steps.push(`check_recipient_access ${RELAY_DENIED}`, 'reject_unauth_destination');
    return steps.join(', ');
  }
  if (ctx.neverRouteTable) steps.push(`check_client_access cidr:${dir}/${FILES.neverRoute}`);
  if (!policy.anyCriterion) {
    // No restriction ticked: an open relay, exactly as on the product's own node.
    steps.push(PERMIT, 'reject_unauth_destination');
    return steps.join(', ');
  }
  if (r.authenticated && ctx.sasl) steps.push('permit_sasl_authenticated');
  if (r.clientAddresses.enabled && ctx.clientTable) {
    steps.push(`check_client_access cidr:${dir}/${FILES.clientAddresses}`);
  }
  if (r.internalAddresses.enabled) {
    if (isWildcard(listener.host)) {
      throw new PostfixRenderError(
        `"Hosts and clients connecting to these internal addresses" needs the address each client connected to, and the listener on port ${listener.port} listens on every address: Postfix cannot tell them apart (that needs a policy service). List the addresses in IMS_SMTP_LISTEN instead.`,
        '/restrictions/internalAddresses',
      );
    }
    const server = parsePeerIp(bare(listener.host));
    if (server && policy.internalAddresses.lookup(server)) steps.push(PERMIT);
  }
  steps.push(`check_recipient_access ${RELAY_DENIED}`, 'reject_unauth_destination');
  return steps.join(', ');
}

function mailboxesTable(directory: MailboxList): string {
  const lines = [
    "# The directory's mailboxes: address -> Maildir (relative to virtual_mailbox_base).",
  ];
  directory.forEach((m, i) => {
    const address = checkValue(m.address.toLowerCase(), 'The mailbox address', `/directory/${i}`);
    lines.push(`${address} ${maildirName(address)}`);
  });
  return `${lines.join('\n')}\n`;
}

/** IMS_SMART_HOST "host:port" as relayhost `[host]:port` (no MX lookup). */
function smartHostValue(smartHost: string): string {
  const hp = splitHostPort(smartHost.trim());
  if (!hp || hp.host === '') {
    throw new PostfixRenderError(`The smart host "${smartHost}" cannot be read.`);
  }
  return smtpNextHop(checkValue(hp.host, 'The smart host'), hp.port).slice('smtp:'.length);
}

/** The routing table's rows in first-match order ("Do not reroute": the site domain only). */
function routingRows(policy: Policy): TableRoute[] {
  if (policy.reroute) return orderedRoutes(policy.config.routes);
  return [{ domain: policy.siteDomain, exact: true, inbound: true, index: -1 }];
}

function tableFiles(policy: Policy, directory: MailboxList): Record<string, string> {
  const rows = routingRows(policy);
  const r = policy.config.restrictions;
  return {
    [FILES.inboundDomains]: inboundDomainsTable(rows),
    [FILES.transport]: transportTable(rows),
    [FILES.mailboxes]: mailboxesTable(directory),
    [FILES.postmaster]:
      '# Postmaster of every local domain is always accepted (RFC 5321 §4.5.1).\n' +
      `/^postmaster@/ ${maildirName(policy.postmaster)}\n`,
    [FILES.localRecipients]:
      '# Address literals of this server are not delivered to system accounts: none is listed.\n',
    [FILES.neverRoute]: cidrTable(
      'Hosts and clients that can never route mail: checked first.',
      r.neverRoute,
      NEVER_ROUTE_CLASS,
    ),
    [FILES.clientAddresses]: cidrTable(
      'Hosts and clients with these IP addresses.',
      r.clientAddresses.entries,
      'OK',
    ),
  };
}

function interfaceLines(target: PostfixTarget): string[] {
  const hosts = target.listen.map((l) => l.host);
  const anyWildcard = hosts.some(isWildcard);
  const named = [...new Set(hosts.filter((h) => !isWildcard(h)).map(bare))];
  const v6 = named.some(isIpv6) || hosts.some((h) => h === '::' || h === '[::]');
  return [
    `inet_interfaces = ${anyWildcard ? 'all' : 'loopback-only'}`,
    `inet_protocols = ${v6 ? 'all' : 'ipv4'}`,
    `proxy_interfaces = ${named.join(', ')}`,
  ];
}

function saslAndTlsLines(target: PostfixTarget): string[] {
  const lines = [
    "# SMTP AUTH (PLAIN, LOGIN) through the agent's Dovecot-protocol socket.",
    `smtpd_sasl_auth_enable = ${target.saslSocket !== undefined ? 'yes' : 'no'}`,
  ];
  if (target.saslSocket !== undefined) {
    lines.push(
      'smtpd_sasl_type = dovecot',
      `smtpd_sasl_path = ${checkValue(target.saslSocket, 'The SASL socket')}`,
      'smtpd_sasl_security_options = noanonymous',
      'smtpd_sasl_authenticated_header = no',
      'broken_sasl_auth_clients = no',
    );
  }
  if (target.tls) {
    lines.push(
      `smtpd_tls_cert_file = ${checkValue(target.tls.cert, 'The TLS certificate')}`,
      `smtpd_tls_key_file = ${checkValue(target.tls.key, 'The TLS key')}`,
      'smtpd_tls_security_level = may',
    );
  } else {
    lines.push('smtpd_tls_security_level = none');
  }
  if (target.xclientHosts && target.xclientHosts.length > 0) {
    lines.push(`smtpd_authorized_xclient_hosts = ${target.xclientHosts.join(', ')}`);
  }
  return lines;
}

/**
 * Renders a configuration version for a target. Throws PostfixRenderError
 * for what Postfix cannot express (docs/postfix.md, "Limits"), and
 * routing-core's InvalidConfigError for an invalid document.
 */
export function renderPostfix(
  config: RoutingConfig,
  directory: MailboxList,
  target: PostfixTarget,
): RenderedPostfix {
  const policy = compile(config);
  const doc = policy.config;
  const dir = checkValue(target.configDirectory, 'The configuration directory');
  if (target.listen.length === 0) throw new PostfixRenderError('There is no listen address.');
  if (!doc.rejectUnknownRecipients && !policy.reroute) {
    throw new PostfixRenderError(
      '"Do not reroute" without "Reject unknown recipients at RCPT time" accepts mail for any domain and then sends a non-delivery report (Q255695). A Postfix node does not reproduce that open NDR relay: turn on recipient rejection, or choose "Reroute".',
      '/rejectUnknownRecipients',
    );
  }
  const files = tableFiles(policy, directory);
  const r = doc.restrictions;
  const ctx: ClassContext = {
    policy,
    dir,
    sasl: target.saslSocket !== undefined,
    neverRouteTable: policy.reroute && r.neverRoute.length > 0,
    clientTable: r.clientAddresses.entries.length > 0,
  };
  const classes = target.listen.map((l) => relayClass(ctx, l));
  const owner = target.mailOwner ?? postfixOwner();
  const logFile = target.logFile ?? join(dirname(target.dataDirectory), 'postfix.log');
  const main: string[] = [
    '# Rendered by the IMS Routing Console (@ims/postfix-config): do not edit, the console owns it.',
    `# Site ${doc.siteDomain}. docs/postfix.md has the mapping.`,
    'compatibility_level = 3.6',
    `queue_directory = ${checkValue(target.queueDirectory, 'The queue directory')}`,
    `data_directory = ${checkValue(target.dataDirectory, 'The data directory')}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    `myhostname = ${checkValue(target.myhostname, 'The host name')}`,
    `myorigin = ${doc.siteDomain}`,
    'mydestination =',
    'mynetworks =',
    'relay_domains =',
    ...interfaceLines(target),
    `relayhost = ${target.smartHost ? smartHostValue(target.smartHost) : ''}`,
    'alias_maps =',
    'alias_database =',
    'recipient_delimiter =',
    'biff = no',
    'smtpd_peername_lookup = no',
    'disable_vrfy_command = yes',
    'smtpd_banner = $myhostname ESMTP',
    `maillog_file = ${checkValue(logFile, 'The log file')}`,
    `maillog_file_prefixes = ${logFile}`,
    '',
    '# Routing table: <inbound> entries are virtual mailbox domains, host entries transports.',
    `virtual_mailbox_domains = regexp:${dir}/${FILES.inboundDomains}`,
    `virtual_mailbox_base = ${checkValue(target.mailDirectory, 'The mail directory')}`,
    `virtual_mailbox_maps = texthash:${dir}/${FILES.mailboxes}, regexp:${dir}/${FILES.postmaster}`,
    `virtual_uid_maps = static:${owner.uid}`,
    `virtual_gid_maps = static:${owner.gid}`,
    `transport_maps = regexp:${dir}/${FILES.transport}`,
    `local_recipient_maps = texthash:${dir}/${FILES.localRecipients}`,
    'local_transport = error:5.1.1 Address literals are not delivered here',
    '',
    '# Reject unknown recipients at RCPT time.',
    `smtpd_reject_unlisted_recipient = ${doc.rejectUnknownRecipients ? 'yes' : 'no'}`,
    'smtpd_reject_unlisted_sender = no',
    '',
    '# Routing restrictions, one class per listener (master.cf names it).',
    `smtpd_restriction_classes = ${NEVER_ROUTE_CLASS}`,
    `${NEVER_ROUTE_CLASS} = check_recipient_access ${RELAY_DENIED}`,
    `smtpd_relay_restrictions = permit_auth_destination, check_recipient_access ${RELAY_DENIED}, reject_unauth_destination`,
    'smtpd_recipient_restrictions =',
    ...classes.map((c, i) => `${relayClassName(i)} = ${c}`),
    '',
    ...saslAndTlsLines(target),
  ];
  files[FILES.main] = `${main.join('\n')}\n`;
  files[FILES.master] = renderMaster(target);
  return { files };
}
