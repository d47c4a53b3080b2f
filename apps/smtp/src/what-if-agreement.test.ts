/**
 * The what-if is the wire (the console must never say what the service does not do): for generated cases, the reply line
 * the console's what-if prints (routing-core's decide(), called as the
 * console calls it: the configuration document, the envelope, the directory
 * as a list) equals, byte for byte, the line a real node sends to RCPT TO.
 *
 * One node listens on 127.0.0.1 and 127.0.0.2 (the server address of the
 * internal-address restriction); clients connect from 127.0.0.x
 * (localAddress), authenticate for real (AUTH PLAIN) or not, and each case
 * runs under its own configuration and directory, loaded as a new
 * generation before the case's session opens.
 */

import {
  decide,
  defaultConfig,
  formatReply,
  INBOUND,
  type IpEntry,
  REPLIES,
  type RoutingConfig,
} from '@ims/routing-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash, plain, session, startNode } from './testing/node-fixture';

const SITE = 'example.com';
const LISTEN = ['127.0.0.1', '127.0.0.2'];
const CLIENTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.9'];
/** alice is always a mailbox (she authenticates); bob only in some cases. */
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

const host = (ip: string): IpEntry => ({ ip, mask: '255.255.255.255' });

const configuration: fc.Arbitrary<RoutingConfig> = fc
  .record({
    rerouteMode: fc.constantFrom('reroute', 'no-reroute' as const),
    partnerRoute: fc.boolean(),
    exactSub: fc.boolean(),
    authenticated: fc.boolean(),
    clients: fc.option(
      fc.constantFrom<IpEntry[]>(
        [host('127.0.0.2')],
        [{ ip: '127.0.0.0', mask: '255.255.255.252' }],
        [host('127.0.0.9'), host('192.0.2.1')],
      ),
    ),
    internal: fc.option(fc.constantFrom<IpEntry[]>([host('127.0.0.2')], [host('127.0.0.1')])),
    neverRoute: fc.constantFrom<IpEntry[]>(
      [],
      [host('127.0.0.3')],
      [{ ip: '127.0.0.0', mask: '24' }],
    ),
    rejectUnknownRecipients: fc.boolean(),
  })
  .map((c) => {
    const config = defaultConfig(SITE);
    config.rerouteMode = c.rerouteMode;
    if (c.partnerRoute)
      config.routes.push({ sentTo: 'partner.example', routeTo: 'mx.partner.example' });
    if (c.exactSub) config.routes.push({ sentTo: '#sub.example.com', routeTo: INBOUND });
    config.restrictions.authenticated = c.authenticated;
    config.restrictions.clientAddresses = { enabled: c.clients !== null, entries: c.clients ?? [] };
    config.restrictions.internalAddresses = {
      enabled: c.internal !== null,
      entries: c.internal ?? [],
    };
    config.restrictions.neverRoute = c.neverRoute;
    config.rejectUnknownRecipients = c.rejectUnknownRecipients;
    return config;
  });

const envelope = fc.record({
  config: configuration,
  withBob: fc.boolean(),
  client: fc.constantFrom(...CLIENTS),
  server: fc.constantFrom(...LISTEN),
  authenticated: fc.boolean(),
  mailFrom: fc.constantFrom(
    '<>',
    '<tester@remote.example>',
    `<${ALICE}>`,
    '<Bob@Example.COM>',
    '<tester@@remote.example>',
  ),
  rcptTo: fc.constantFrom(
    `<${ALICE}>`,
    '<ALICE@Example.Com>',
    `<${BOB}>`,
    '<nobody@example.com>',
    '<Postmaster>',
    '<postmaster@example.com>',
    '<victim@elsewhere.example>',
    '<someone@partner.example>',
    '<x@sub.example.com>',
    '<x@deeper.sub.example.com>',
    '<bad@@example.com>',
  ),
});

describe('the what-if and the wire', () => {
  it('decide() prints the exact line the node answers to RCPT TO (and MAIL FROM gets the table’s 250)', async () => {
    const directory = (withBob: boolean) => [
      { address: ALICE, passwordHash: hash('alice-password') },
      ...(withBob ? [{ address: BOB, passwordHash: hash('bob-password') }] : []),
    ];
    const { node } = await startNode(
      { version: 1, config: defaultConfig(SITE), directory: directory(true) },
      LISTEN,
    );
    const portOf = new Map(
      node.listening.map((l) => [l.slice(0, l.lastIndexOf(':')), Number(l.split(':').at(-1))]),
    );
    let version = 1;
    let cases = 0;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(envelope, async (e) => {
        const entries = directory(e.withBob);
        node.load({ version: ++version, config: e.config, directory: entries });
        const c = await session(portOf.get(e.server) ?? 0, e.client, e.server);
        try {
          await c.cmd('EHLO agree.example');
          if (e.authenticated) {
            expect(await c.cmd(`AUTH PLAIN ${plain(ALICE, 'alice-password')}`)).toBe(
              '235 2.7.0 Authentication successful',
            );
          }
          const whatIf = decide(
            e.config,
            {
              clientIp: e.client,
              serverIp: e.server,
              authenticated: e.authenticated,
              mailFrom: e.mailFrom,
              rcptTo: e.rcptTo,
            },
            entries.map((m) => m.address),
          );
          // A sender the what-if refuses is refused on the wire at MAIL FROM, with that line.
          const badSender = whatIf.decision.reason === 'bad-sender';
          const mail = await c.cmd(`MAIL FROM:${e.mailFrom}`);
          expect(mail).toBe(badSender ? whatIf.reply.line : formatReply(REPLIES.senderOk));
          const wire = badSender ? mail : await c.cmd(`RCPT TO:${e.rcptTo}`);
          expect(wire, JSON.stringify(e)).toBe(whatIf.reply.line);
          seen.add(wire);
          cases++;
        } finally {
          c.close();
        }
      }),
      { numRuns: 300 },
    );
    expect(cases).toBe(300);
    // The cases reach every kind of answer, not one branch over and over.
    expect([...seen].sort()).toEqual(
      [
        REPLIES.recipientOk,
        REPLIES.relayDenied,
        REPLIES.unknownRecipient,
        REPLIES.badRecipientSyntax,
        REPLIES.badSenderSyntax,
      ]
        .map(formatReply)
        .sort(),
    );
  }, 60_000);
});
