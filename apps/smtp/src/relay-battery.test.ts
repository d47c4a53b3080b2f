/**
 * Relay battery (a reliability battery: an open relay is the worst bug this product can have): every open-relay trick the public
 * relay testers try, from an unauthorised client (127.0.0.2) against the
 * real SMTP node on the default configuration. Each case is a fresh session;
 * when a recipient is accepted the message is sent too (as Metasploit's
 * smtp_relay does), so a relay would show as mail at the smart host, which
 * is a loopback sink. Nothing may reach it, nor any non-local recipient.
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
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { battery } from '@ims/reliability';
import { defaultConfig } from '@ims/routing-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode } from './cluster/primary';
import { bundle, plain } from './testing/node-fixture';
import { RawSmtp } from './testing/smtp-client';
import { SmtpSink } from './testing/smtp-sink';

const record = battery({
  id: 'relay',
  title: 'Relay battery: open-relay tricks from an unauthorised client',
  deliverable: 1,
  file: import.meta.filename,
});

/** The server's own address, its greeting name, the unauthorised client. */
const IP = '127.0.0.1';
const SRV = 'mx.example.com';
const CLIENT = '127.0.0.2';
/** SMTP workers of each node under test (cluster/): the battery runs against several. */
const WORKERS = 2;

interface Rcpt {
  /** What follows `RCPT TO:` on the wire. */
  to: string;
  /** A local recipient that must be accepted (controls, mixed transactions). */
  local?: boolean;
}

interface RelayCase {
  id: string;
  source: 'nmap' | 'msf' | 'abuse' | 'dsbl' | 'project';
  /** Lines sent after EHLO and before MAIL (their replies are not judged). */
  pre?: string[];
  ehlo?: string;
  /** What follows `MAIL FROM:` on the wire. */
  from: string;
  rcpt: (string | Rcpt)[];
  /** The site is in no-reroute mode (with recipient rejection, the safe default of docs/design.md §2). */
  noReroute?: boolean;
}

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
  { id: 'bang-path', from: '<t@remote.invalid>', rcpt: ['<elsewhere.invalid!victim@example.com>'] },
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
  { id: 'trailing-dot-domain', from: '<t@remote.invalid>', rcpt: ['<victim@elsewhere.invalid.>'] },
  { id: 'upper-trailing-dot', from: '<t@remote.invalid>', rcpt: ['<VICTIM@ELSEWHERE.Invalid.>'] },
  {
    id: 'site-as-left-labels',
    from: '<t@remote.invalid>',
    rcpt: ['<victim@example.com.elsewhere.invalid>'],
  },
  { id: 'site-as-suffix-text', from: '<t@remote.invalid>', rcpt: ['<victim@evilexample.com>'] },
  { id: 'localhost-domain', from: '<t@remote.invalid>', rcpt: ['<victim@localhost>'] },
  { id: 'ideographic-dot', from: '<t@remote.invalid>', rcpt: ['<victim@elsewhere\u3002invalid>'] },
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
    rcpt: [`<alice@example.com> ORCPT=rfc822;${out}`],
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

const cases: RelayCase[] = [...nmap, ...msf, ...abuse, ...dsbl, ...issue];

let sink: SmtpSink;
const nodes: { node: ClusterNode; port: number; dataDir: string }[] = [];
let defaultNode: { node: ClusterNode; port: number };
let noRerouteNode: { node: ClusterNode; port: number };
/** Other safe configurations the same tricks run against. */
const others: { name: string; node: { node: ClusterNode; port: number } }[] = [];

async function node(config = defaultConfig('example.com')) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ims-relay-'));
  // Several SMTP workers sharing the socket, as a node runs by default.
  const n = new ClusterNode({
    listen: [IP],
    port: 0,
    dataDir,
    hostname: SRV,
    smartHost: { host: sink.host, port: sink.port },
    queue: { retryScheduleMs: [100], connectionTimeoutMs: 2000 },
    workers: WORKERS,
    logLevel: 'silent',
  });
  await n.start(bundle(1, config));
  const entry = { node: n, port: Number(n.listening[0]?.split(':').at(-1)), dataDir };
  nodes.push(entry);
  return entry;
}

beforeAll(async () => {
  sink = await SmtpSink.start();
  const noReroute = defaultConfig('example.com');
  noReroute.rerouteMode = 'no-reroute';
  // Started side by side: each is a primary and its worker processes.
  const starting = node(noReroute);
  defaultNode = await node();
  noRerouteNode = await starting;
  // Reroute on, with routing-table hosts for the testers' own domains (so a
  // relay would land at the sink), an IP allow list and an internal address
  // the client is not on: only the authenticated criterion could let it relay.
  const busy = defaultConfig('example.com');
  const hop = `127.0.0.1:${sink.port}`;
  for (const d of [
    nmapDomain,
    ad,
    dd,
    'msf-target.invalid',
    'elsewhere.invalid',
    'outside.invalid',
  ])
    busy.routes.push({ sentTo: d, routeTo: hop });
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
  others.push({
    name: 'routing-table hosts, IP and internal-address lists',
    node: await node(busy),
  });
  others.push({ name: '"Do not reroute" with recipient rejection', node: noRerouteNode });
  // Worker processes start slowly on a busy machine.
}, 180_000);

afterAll(async () => {
  for (const n of nodes) {
    await n.node.stop();
    rmSync(n.dataDir, { recursive: true, force: true });
  }
  await sink?.close();
});

/** One attempt in a fresh session; returns what happened, for the assertion. */
async function attempt(
  c: RelayCase,
  target = c.noReroute ? noRerouteNode : defaultNode,
): Promise<string[]> {
  const s = await RawSmtp.open(target.port, IP, CLIENT);
  const problems: string[] = [];
  try {
    const greeting = await s.reply();
    if (!greeting.startsWith('220 ')) return [`greeting: ${greeting}`];
    await s.cmd(`EHLO ${c.ehlo ?? 'relay-tester.invalid'}`);
    for (const line of c.pre ?? []) await s.cmd(line);
    const mail = await s.cmd(`MAIL FROM:${c.from}`);
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
      const reply = await s.cmd(`RCPT TO:${rcpt.to}`);
      if (rcpt.local) {
        if (!/^250 2\.1\.5 /.test(reply)) problems.push(`local ${rcpt.to}: ${reply}`);
      } else if (!/^5\d\d \d\.\d\.\d /.test(reply)) {
        problems.push(`RELAY? ${rcpt.to}: ${reply}`);
      }
      if (reply.startsWith('250')) accepted++;
    }
    if (accepted > 0) {
      expect(await s.cmd('DATA')).toMatch(/^354 /);
      const data = await s.cmd(`Subject: relay test ${c.id}\r\n\r\nrelay battery\r\n.`);
      if (data !== '250 2.6.0 Message accepted') problems.push(`DATA: ${data}`);
    }
    await s.cmd('QUIT');
    return problems;
  } finally {
    s.close();
  }
}

describe('relay battery: an unauthorised client on the default configuration', () => {
  it.each(
    cases.map(
      (c) =>
        [
          `${c.source} ${c.id}: MAIL FROM:${c.from} RCPT TO:${c.rcpt.map((r) => (typeof r === 'string' ? r : r.to)).join(' ')}`,
          c,
        ] as const,
    ),
  )('%s', async (_name, c) => {
    await record.check(c.id, async () => expect(await attempt(c)).toEqual([]), c.source);
  });

  describe.each([0, 1])('the same tricks on another safe configuration (%i)', (i) => {
    it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
      const other = others[i];
      if (!other) throw new Error('no such configuration');
      await record.check(
        `${c.id} [${other.name}]`,
        async () => expect(await attempt(c, other.node)).toEqual([]),
        `${c.source}, other configurations`,
      );
    });
  });

  it('afterwards nothing reached a non-local recipient: the smart host got nothing, the queue is empty, no report went out', async () => {
    await record.check(
      'nothing-relayed',
      async () => {
        // Copies are written just after each 250: wait for them, then for the queue.
        for (const n of nodes) {
          await n.node.settled();
          await n.node.queue.idle();
        }
        expect(sink.messages).toEqual([]);
        for (const n of nodes) {
          expect(n.node.counters).toMatchObject({
            queueMessages: 0,
            outboundDelivered: 0,
            outboundFailed: 0,
            ndrsSent: 0,
          });
        }
        // The controls and the mixed transaction were delivered locally: the node was deciding.
        expect(defaultNode.node.counters.messagesAccepted).toBe(3);
        expect(defaultNode.node.counters.relayDenied).toBeGreaterThan(50);
      },
      'project',
    );
    record.note(
      `${cases.length} relay attempts, each in a fresh session from ${CLIENT} to nodes of ${WORKERS} SMTP workers, on the default configuration and again on: ${others.map((o) => o.name).join('; ')}.`,
    );
  });
});
