/**
 * The relay battery's cases: every open-relay trick the public relay testers
 * try, as an unauthorised client sends them. Both engines run them: the
 * product's SMTP node (apps/smtp/src/relay-battery.test.ts) and Postfix as
 * the product renders it (packages/postfix-config/src/relay-battery.test.ts).
 *
 * Sources (each case names its own):
 * - nmap   — nmap/nmap scripts/smtp-open-relay.nse, the 16 "antispam tests"
 *            (MAIL FROM / RCPT TO pairs; domain, server name srvname, target ip).
 * - msf    — rapid7/metasploit-framework
 *            modules/auxiliary/scanner/smtp/smtp_relay.rb, EXTENDED tests 1–16.
 * - abuse  — the abuse.net / mail-abuse.org relay test (relay-test.mail-abuse.org
 *            transcripts): sender variants (outside, localhost, unqualified,
 *            <>), the quote test, then the % / @@ / source-route / bang forms
 *            that nmap's list was derived from.
 * - dsbl   — DSBL relaytest(1) (Debian package dsbltesters): non-domain tests
 *            (<x>, <"x">, unbracketed x; senders incl. <>) and domain tests for
 *            DOMAIN in [127.0.0.1], localhost, [server ip] and the greeting name
 *            (x@DOMAIN forms, <DOMAIN!nobody> senders).
 * - project — the families the reliability work named (% hack, bang paths, source routes,
 *            quoted @, double @, address literals incl. the server's own,
 *            case and trailing dot, forged local sender, AUTH= and ORCPT, the
 *            Q255695 NDR relay), plus the project's own (XCLIENT, HELO spoofing,
 *            mixed transactions, look-alike domains, odd literals, Unicode dots).
 *
 * The testers' outside domains (nmap.scanme.org, abuse.net, dsbl.org) are
 * replaced by `.invalid` names (RFC 2606); the forms are the testers' own.
 * The site is example.com, with the mailbox alice@example.com.
 */

import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import { describe, expect, it } from 'vitest';
import type { Battery } from './index';

/** The server's own address and greeting name, and the unauthorised client, of both batteries. */
export const RELAY_IP = '127.0.0.1';
export const RELAY_SERVER_NAME = 'mx.example.com';
export const RELAY_CLIENT = '127.0.0.2';

export interface RelayRcpt {
  /** What follows `RCPT TO:` on the wire. */
  to: string;
  /** A local recipient that must be accepted (controls, mixed transactions). */
  local?: boolean;
  /**
   * A local recipient with a parameter an engine may not support (Postfix
   * offers DSN, the node does not): accepted, for local delivery, or refused
   * with a 5xx. Either is safe; mail reaching the sink is not.
   */
  acceptedOrRefused?: boolean;
}

export interface RelayCase {
  id: string;
  source: 'nmap' | 'msf' | 'abuse' | 'dsbl' | 'project';
  /** Lines sent after EHLO and before MAIL (their replies are not judged). */
  pre?: string[];
  ehlo?: string;
  /** What follows `MAIL FROM:` on the wire. */
  from: string;
  rcpt: (string | RelayRcpt)[];
  /** The site is in no-reroute mode (with recipient rejection, the safe default of docs/design.md §2). */
  noReroute?: boolean;
}

/** The testers' outside domains: a configuration that routes them to a sink shows a relay as mail there. */
export const RELAY_TESTER_DOMAINS = [
  'nmap-scanme.invalid',
  'abuse-net.invalid',
  'dsbl-org.invalid',
  'msf-target.invalid',
  'elsewhere.invalid',
  'outside.invalid',
] as const;

/** AUTH PLAIN's initial response for a user and password. */
const plain = (user: string, password: string) =>
  Buffer.from(`\0${user}\0${password}`).toString('base64');

/**
 * Every case, for a server at `IP` that greets as `SRV` (its own address and
 * name are what many of the tricks put in the path).
 */
export function relayCases(IP = RELAY_IP, SRV = RELAY_SERVER_NAME): RelayCase[] {
  // nmap smtp-open-relay.nse: domain, from, to as in the script's defaults.
  const nmapDomain = 'nmap-scanme.invalid';
  const nf = 'antispam';
  const nt = 'relaytest';
  const nmap: RelayCase[] = [
    ['', `${nt}@${nmapDomain}`],
    [`${nf}@${nmapDomain}`, `${nt}@${nmapDomain}`],
    [`${nf}@${SRV}`, `${nt}@${nmapDomain}`],
    [`${nf}@[${IP}]`, `${nt}@${nmapDomain}`],
    [`${nf}@[${IP}]`, `${nt}%${nmapDomain}@[${IP}]`],
    [`${nf}@[${IP}]`, `${nt}%${nmapDomain}@${SRV}`],
    [`${nf}@[${IP}]`, `"${nt}@${nmapDomain}"`],
    [`${nf}@[${IP}]`, `"${nt}%${nmapDomain}"`],
    [`${nf}@[${IP}]`, `${nt}@${nmapDomain}@[${IP}]`],
    [`${nf}@[${IP}]`, `"${nt}@${nmapDomain}"@[${IP}]`],
    [`${nf}@[${IP}]`, `${nt}@${nmapDomain}@${SRV}`],
    [`${nf}@[${IP}]`, `@[${IP}]:${nt}@${nmapDomain}`],
    [`${nf}@[${IP}]`, `@${SRV}:${nt}@${nmapDomain}`],
    [`${nf}@[${IP}]`, `${nmapDomain}!${nt}`],
    [`${nf}@[${IP}]`, `${nmapDomain}!${nt}@[${IP}]`],
    [`${nf}@[${IP}]`, `${nmapDomain}!${nt}@${SRV}`],
  ].map(([from, to], i) => ({
    id: `nmap-${i + 1}`,
    source: 'nmap',
    from: `<${from}>`,
    rcpt: [`<${to}>`],
  }));

  // Metasploit smtp_relay.rb EXTENDED: MAILFROM sender@example.com, MAILTO target@example.net in
  // the module; here an outside sender and an outside target.
  const mf = 'sender@msf-sender.invalid';
  const mt = 'target@msf-target.invalid';
  const [mfu] = mf.split('@') as [string];
  const [mtu, mtd] = mt.split('@') as [string, string];
  const msf: RelayCase[] = [
    ['<>', `<${mt}>`],
    [`<${mf}>`, `<${mt}>`],
    [`<${mfu}@${SRV}>`, `<${mt}>`],
    [`<${mfu}@[${IP}]>`, `<${mtu}@[${IP}]>`],
    [`<${mfu}@[${IP}]>`, `<${mtu}%${mtd}@[${IP}]>`],
    [`<${mfu}@[${IP}]>`, `<${mtu}%${mtd}@${SRV}>`],
    [`<${mfu}@[${IP}]>`, `<"${mtu}@${mtd}">`],
    [`<${mfu}@[${IP}]>`, `<"${mtu}%${mtd}">`],
    [`<${mfu}@[${IP}]>`, `<${mtu}@${mtd}@[${IP}]>`],
    [`<${mfu}@[${IP}]>`, `<"${mtu}@${mtd}"@[${IP}]>`],
    [`<${mfu}@[${IP}]>`, `<${mtu}@${mtd}@${SRV}>`],
    [`<${mfu}@[${IP}]>`, `<@[${IP}]:${mtu}@${mtd}>`],
    [`<${mfu}@[${IP}]>`, `<@${SRV}:${mtu}@${mtd}>`],
    [`<${mfu}@[${IP}]>`, `<${mtd}!${mtu}>`],
    [`<${mfu}@[${IP}]>`, `<${mtd}!${mtu}@[${IP}]>`],
    [`<${mfu}@[${IP}]>`, `<${mtd}!${mtu}@${SRV}>`],
  ].map(([from, to], i) => ({
    id: `msf-${i + 1}`,
    source: 'msf',
    from: from as string,
    rcpt: [to as string],
  }));

  // abuse.net / mail-abuse.org: spamtest → securitytest/nobody at the tester's domain.
  const ad = 'abuse-net.invalid';
  const abuse: RelayCase[] = [
    ['quote-test', `<spamtest@${SRV}>`, `<"nobody@${ad}">`],
    ['outside-to-outside', `<nobody@${ad}>`, `<nobody@${ad}>`],
    ['tester-host-sender', `<spamtest@tester-host.${ad}>`, `<nobody@${ad}>`],
    ['localhost-sender', '<spamtest@localhost>', `<nobody@${ad}>`],
    ['unqualified-sender', '<spamtest>', `<nobody@${ad}>`],
    ['null-sender', '<>', `<nobody@${ad}>`],
    ['server-name-sender', `<spamtest@${SRV}>`, `<nobody@${ad}>`],
    ['literal-sender', `<spamtest@[${IP}]>`, `<nobody@${ad}>`],
    ['percent-literal', `<spamtest@[${IP}]>`, `<nobody%${ad}@[${IP}]>`],
    ['percent-host', `<spamtest@[${IP}]>`, `<nobody%${ad}@${SRV}>`],
    ['quoted-at', `<spamtest@[${IP}]>`, `<"nobody@${ad}">`],
    ['quoted-percent', `<spamtest@[${IP}]>`, `<"nobody%${ad}">`],
    ['double-at-literal', `<spamtest@[${IP}]>`, `<nobody@${ad}@[${IP}]>`],
    ['quoted-at-literal', `<spamtest@[${IP}]>`, `<"nobody@${ad}"@[${IP}]>`],
    ['double-at-host', `<spamtest@[${IP}]>`, `<nobody@${ad}@${SRV}>`],
    ['source-route-literal', `<spamtest@[${IP}]>`, `<@[${IP}]:nobody@${ad}>`],
    ['source-route-host', `<spamtest@[${IP}]>`, `<@${SRV}:nobody@${ad}>`],
    ['bang', `<spamtest@[${IP}]>`, `<${ad}!nobody>`],
    ['bang-literal', `<spamtest@[${IP}]>`, `<${ad}!nobody@[${IP}]>`],
    ['bang-host', `<spamtest@[${IP}]>`, `<${ad}!nobody@${SRV}>`],
  ].map(([id, from, to]) => ({
    id: `abuse-${id}`,
    source: 'abuse',
    from: from as string,
    rcpt: [to as string],
  }));

  // DSBL relaytest(1): listme@dsbl.org; senders from the tester's domain, dsbl's, and <>.
  const dd = 'dsbl-org.invalid';
  const listme = `listme@${dd}`;
  const dsblSenders = [`<sender@source-${dd}>`, `<nobody@${dd}>`, `<${listme}>`, '<>'];
  const dsblRecipients = [`<${listme}>`, `<"${listme}">`, listme];
  const dsblDomains = [`[${IP}]`, 'localhost', SRV];
  const dsbl: RelayCase[] = [
    ...dsblSenders.flatMap((from, s) =>
      dsblRecipients.map((to, r) => ({
        id: `dsbl-plain-${s + 1}.${r + 1}`,
        source: 'dsbl' as const,
        from,
        rcpt: [to],
      })),
    ),
    ...dsblDomains.flatMap((domain, d) =>
      [
        [`<nobody@${domain}>`, `<${listme}>`],
        [`<nobody@${domain}>`, `<"${listme}">`],
        [`<nobody@${domain}>`, `<listme%${dd}@${domain}>`],
        [`<nobody@${domain}>`, `<"listme%${dd}"@${domain}>`],
        [`<nobody@${domain}>`, `<${listme}@${domain}>`],
        [`<nobody@${domain}>`, `<"${listme}"@${domain}>`],
        [`<nobody@${domain}>`, `<@${domain}:${listme}>`],
        [`<nobody@${domain}>`, `<${dd}!listme@${domain}>`],
        [`<${domain}!nobody>`, `<${listme}>`],
        [`<${domain}!nobody>`, `<${dd}!listme@${domain}>`],
        [`<postmaster@${domain}>`, `<${listme}>`],
      ].map(([from, to], t) => ({
        id: `dsbl-domain-${d + 1}.${t + 1}`,
        source: 'dsbl' as const,
        from: from as string,
        rcpt: [to as string],
      })),
    ),
  ];

  // The families the reliability work named, and the project's own.
  const out = 'victim@elsewhere.invalid';
  const issue: RelayCase[] = [
    { id: 'plain', from: '<tester@remote.invalid>', rcpt: [`<${out}>`] },
    {
      id: 'percent-hack',
      from: '<t@remote.invalid>',
      rcpt: ['<victim%elsewhere.invalid@example.com>'],
    },
    {
      id: 'percent-hack-double',
      from: '<t@remote.invalid>',
      rcpt: ['<victim%elsewhere.invalid%example.com@example.com>'],
    },
    {
      id: 'bang-path',
      from: '<t@remote.invalid>',
      rcpt: ['<elsewhere.invalid!victim@example.com>'],
    },
    {
      id: 'bang-path-chain',
      from: '<t@remote.invalid>',
      rcpt: ['<a.invalid!b.invalid!victim@example.com>'],
    },
    { id: 'source-route', from: '<t@remote.invalid>', rcpt: [`<@example.com:${out}>`] },
    {
      id: 'source-route-chain',
      from: '<t@remote.invalid>',
      rcpt: [`<@example.com,@[${IP}]:${out}>`],
    },
    { id: 'quoted-at', from: '<t@remote.invalid>', rcpt: [`<"${out}"@example.com>`] },
    {
      id: 'quoted-at-escaped',
      from: '<t@remote.invalid>',
      rcpt: ['<"victim\\@elsewhere.invalid"@example.com>'],
    },
    { id: 'double-at', from: '<t@remote.invalid>', rcpt: [`<${out}@example.com>`] },
    {
      id: 'double-at-reversed',
      from: '<t@remote.invalid>',
      rcpt: ['<victim@example.com@elsewhere.invalid>'],
    },
    { id: 'at-at', from: '<t@remote.invalid>', rcpt: ['<victim@@elsewhere.invalid>'] },
    { id: 'literal-other-host', from: '<t@remote.invalid>', rcpt: ['<victim@[192.0.2.1]>'] },
    {
      id: 'literal-own-ip-percent',
      from: '<t@remote.invalid>',
      rcpt: [`<victim%elsewhere.invalid@[${IP}]>`],
    },
    { id: 'literal-own-ip-unknown', from: '<t@remote.invalid>', rcpt: [`<victim@[${IP}]>`] },
    { id: 'literal-ipv6', from: '<t@remote.invalid>', rcpt: ['<victim@[IPv6:2001:db8::1]>'] },
    { id: 'literal-ipv6-loopback', from: '<t@remote.invalid>', rcpt: ['<victim@[IPv6:::1]>'] },
    {
      id: 'literal-ipv4-mapped',
      from: '<t@remote.invalid>',
      rcpt: ['<victim@[IPv6:::ffff:192.0.2.1]>'],
    },
    { id: 'literal-short-form', from: '<t@remote.invalid>', rcpt: ['<victim@[127.1]>'] },
    { id: 'literal-decimal', from: '<t@remote.invalid>', rcpt: ['<victim@[2130706433]>'] },
    { id: 'literal-hex', from: '<t@remote.invalid>', rcpt: ['<victim@[0x7f.0.0.1]>'] },
    { id: 'literal-tagged', from: '<t@remote.invalid>', rcpt: ['<victim@[tcp:192.0.2.1]>'] },
    { id: 'bare-ip-domain', from: '<t@remote.invalid>', rcpt: ['<victim@192.0.2.1>'] },
    { id: 'upper-case-domain', from: '<t@remote.invalid>', rcpt: ['<victim@ELSEWHERE.INVALID>'] },
    {
      id: 'trailing-dot-domain',
      from: '<t@remote.invalid>',
      rcpt: ['<victim@elsewhere.invalid.>'],
    },
    { id: 'upper-trailing-dot', from: '<t@remote.invalid>', rcpt: ['<VICTIM@ELSEWHERE.Invalid.>'] },
    {
      id: 'site-as-left-labels',
      from: '<t@remote.invalid>',
      rcpt: ['<victim@example.com.elsewhere.invalid>'],
    },
    { id: 'site-as-suffix-text', from: '<t@remote.invalid>', rcpt: ['<victim@evilexample.com>'] },
    { id: 'localhost-domain', from: '<t@remote.invalid>', rcpt: ['<victim@localhost>'] },
    {
      id: 'ideographic-dot',
      from: '<t@remote.invalid>',
      rcpt: ['<victim@elsewhere\u3002invalid>'],
    },
    {
      id: 'fullwidth-at',
      from: '<t@remote.invalid>',
      rcpt: ['<victim\uff20elsewhere.invalid@example.com>'],
    },
    {
      id: 'nul-in-domain',
      from: '<t@remote.invalid>',
      rcpt: ['<victim@elsewhere.invalid\u0000@example.com>'],
    },
    {
      id: 'bracket-in-local',
      from: '<t@remote.invalid>',
      rcpt: ['<victim@elsewhere.invalid>@example.com>'],
    },
    { id: 'nested-brackets', from: '<t@remote.invalid>', rcpt: [`<<${out}>>`] },
    { id: 'unbracketed', from: '<t@remote.invalid>', rcpt: [out] },
    { id: 'space-before-path', from: '<t@remote.invalid>', rcpt: [` <${out}>`] },
    { id: 'forged-local-sender', from: '<alice@example.com>', rcpt: [`<${out}>`] },
    { id: 'forged-postmaster-sender', from: '<postmaster@example.com>', rcpt: [`<${out}>`] },
    { id: 'forged-literal-sender', from: `<alice@[${IP}]>`, rcpt: [`<${out}>`] },
    {
      id: 'mail-auth-param',
      from: '<t@remote.invalid> AUTH=<alice@example.com>',
      rcpt: [`<${out}>`],
    },
    {
      id: 'mail-auth-param-xtext',
      from: '<t@remote.invalid> AUTH=alice+40example.com',
      rcpt: [`<${out}>`],
    },
    {
      id: 'rcpt-orcpt-outside',
      from: '<t@remote.invalid>',
      rcpt: [`<${out}> ORCPT=rfc822;alice@example.com`],
    },
    {
      id: 'rcpt-orcpt-local',
      from: '<t@remote.invalid>',
      rcpt: [{ to: `<alice@example.com> ORCPT=rfc822;${out}`, acceptedOrRefused: true }],
    },
    { id: 'rcpt-notify', from: '<t@remote.invalid>', rcpt: [`<${out}> NOTIFY=NEVER`] },
    { id: 'ndr-relay-unknown-local', from: `<${out}>`, rcpt: ['<nobody@example.com>'] },
    { id: 'ndr-relay-outside', from: `<${out}>`, rcpt: ['<nobody@outside.invalid>'] },
    {
      id: 'ndr-relay-no-reroute',
      from: `<${out}>`,
      rcpt: ['<nobody@outside.invalid>', '<nobody@example.com>'],
      noReroute: true,
    },
    {
      id: 'mixed-transaction',
      from: '<t@remote.invalid>',
      rcpt: [
        { to: '<alice@example.com>', local: true },
        `<${out}>`,
        '<victim%elsewhere.invalid@example.com>',
      ],
    },
    {
      id: 'failed-auth-then-relay',
      pre: [`AUTH PLAIN ${plain('alice@example.com', 'wrong')}`],
      from: '<alice@example.com>',
      rcpt: [`<${out}>`],
    },
    {
      id: 'auth-cancelled-then-relay',
      pre: ['AUTH LOGIN', '*'],
      from: '<alice@example.com>',
      rcpt: [`<${out}>`],
    },
    {
      id: 'xclient-spoof',
      pre: [`XCLIENT ADDR=${IP} LOGIN=alice@example.com`],
      from: '<t@remote.invalid>',
      rcpt: [`<${out}>`],
    },
    {
      id: 'xforward-spoof',
      pre: [`XFORWARD ADDR=${IP}`],
      from: '<t@remote.invalid>',
      rcpt: [`<${out}>`],
    },
    { id: 'helo-as-server', ehlo: SRV, from: '<t@remote.invalid>', rcpt: [`<${out}>`] },
    { id: 'helo-as-literal', ehlo: `[${IP}]`, from: '<t@remote.invalid>', rcpt: [`<${out}>`] },
    { id: 'helo-localhost', ehlo: 'localhost', from: '<t@remote.invalid>', rcpt: [`<${out}>`] },
    {
      id: 'postmaster-elsewhere',
      from: '<t@remote.invalid>',
      rcpt: ['<postmaster@elsewhere.invalid>'],
    },
    {
      id: 'control-postmaster',
      from: '<t@remote.invalid>',
      rcpt: [{ to: '<postmaster@example.com>', local: true }],
    },
    {
      id: 'control-bare-postmaster',
      from: '<t@remote.invalid>',
      rcpt: [{ to: '<Postmaster>', local: true }],
    },
  ].map((c) => ({ ...c, source: 'project' as const }));

  return [...nmap, ...msf, ...abuse, ...dsbl, ...issue];
}

/** The site's configurations the cases run on besides the default install. */
export interface RelayConfigurations {
  /** "Do not reroute" with recipient rejection (the safe default of docs/design.md §2). */
  noReroute: RoutingConfig;
  /**
   * Reroute on, with routing-table hosts for the testers' own domains sent
   * to `hop` (so a relay would land there), an IP allow list and an internal
   * address the client is not on: only the authenticated criterion could let
   * it relay.
   */
  busy: RoutingConfig;
}

export const NO_REROUTE_NAME = '"Do not reroute" with recipient rejection';
export const BUSY_NAME = 'routing-table hosts, IP and internal-address lists';

/** The configurations of RelayConfigurations, with `hop` (host:port) for the routed domains. */
export function relayConfigurations(hop: string): RelayConfigurations {
  const noReroute = defaultConfig('example.com');
  noReroute.rerouteMode = 'no-reroute';
  const busy = defaultConfig('example.com');
  for (const d of RELAY_TESTER_DOMAINS) busy.routes.push({ sentTo: d, routeTo: hop });
  busy.routes.push({ sentTo: '#localhost', routeTo: hop }, { sentTo: 'invalid', routeTo: hop });
  busy.restrictions.clientAddresses = {
    enabled: true,
    entries: [
      { ip: '192.168.1.0', mask: '255.255.255.0' },
      { ip: '10.0.0.0', mask: '8' },
    ],
  };
  busy.restrictions.internalAddresses = {
    enabled: true,
    entries: [{ ip: '127.0.0.9', mask: '255.255.255.255' }],
  };
  busy.restrictions.neverRoute = [{ ip: '10.9.9.9', mask: '255.255.255.255' }];
  return { noReroute, busy };
}

/** A case as a test's name: its source, id and envelope. */
export function relayCaseTitle(c: RelayCase): string {
  const rcpt = c.rcpt.map((r) => (typeof r === 'string' ? r : r.to)).join(' ');
  return `${c.source} ${c.id}: MAIL FROM:${c.from} RCPT TO:${rcpt}`;
}

/**
 * Plays a case in a session that has been greeted: `command` sends a line
 * and answers the last line of its reply. When a recipient is accepted the
 * message is sent too (as Metasploit's smtp_relay does), so that a relay
 * shows as mail where it went. Returns what went wrong: nothing, when every
 * recipient that is not local was refused. `messageAccepted` says what the
 * engine answers a message it took.
 */
export async function playRelayCase(
  c: RelayCase,
  command: (line: string) => Promise<string>,
  messageAccepted: RegExp,
): Promise<string[]> {
  const problems: string[] = [];
  await command(`EHLO ${c.ehlo ?? 'relay-tester.invalid'}`);
  for (const line of c.pre ?? []) await command(line);
  const mail = await command(`MAIL FROM:${c.from}`);
  // A refused sender is no relay; the transaction ends there.
  if (!mail.startsWith('250')) {
    if (!/^5\d\d /.test(mail)) problems.push(`MAIL: expected 250 or 5xx, got ${mail}`);
    if (c.rcpt.some((r) => typeof r !== 'string' && r.local))
      problems.push(`MAIL refused before a local control: ${mail}`);
    return problems;
  }
  let accepted = 0;
  for (const r of c.rcpt) {
    const rcpt = typeof r === 'string' ? { to: r } : r;
    const reply = await command(`RCPT TO:${rcpt.to}`);
    if (rcpt.local) {
      if (!/^250 2\.1\.5 /.test(reply)) problems.push(`local ${rcpt.to}: ${reply}`);
    } else if (rcpt.acceptedOrRefused) {
      if (!/^(250 2\.1\.5|5\d\d \d\.\d\.\d) /.test(reply))
        problems.push(`local ${rcpt.to}: ${reply}`);
    } else if (!/^5\d\d \d\.\d\.\d /.test(reply)) {
      problems.push(`RELAY? ${rcpt.to}: ${reply}`);
    }
    if (reply.startsWith('250')) accepted++;
  }
  if (accepted > 0) {
    const data = await command('DATA');
    if (!data.startsWith('354 ')) return [...problems, `DATA: ${data}`];
    const done = await command(`Subject: relay test ${c.id}\r\n\r\nrelay battery\r\n.`);
    if (!messageAccepted.test(done)) problems.push(`message: ${done}`);
  }
  return problems;
}

/**
 * Registers a test per case on the default configuration, then per case on
 * each of `others` (the two of relayConfigurations(), filled in by the
 * caller's beforeAll), each recorded in `record`. `attempt(c, other)` plays
 * the case in a fresh session, on the default configuration when `other` is
 * undefined, and answers what went wrong.
 */
export function relayCaseTests<T extends { name: string }>(
  record: Battery,
  cases: readonly RelayCase[],
  others: readonly T[],
  attempt: (c: RelayCase, other?: T) => Promise<string[]>,
): void {
  it.each(cases.map((c) => [relayCaseTitle(c), c] as const))('%s', async (_name, c) => {
    await record.check(c.id, async () => expect(await attempt(c)).toEqual([]), c.source);
  });

  describe.each([0, 1])('the same tricks on another safe configuration (%i)', (i) => {
    it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
      const other = others[i];
      if (!other) throw new Error('no such configuration');
      await record.check(
        `${c.id} [${other.name}]`,
        async () => expect(await attempt(c, other)).toEqual([]),
        `${c.source}, other configurations`,
      );
    });
  });
}
