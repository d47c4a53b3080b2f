/**
 * The battery of the open-relay self-test: every address trick an external
 * relay tester tries, plus positive controls so that a dead or broken service
 * never looks like a pass. Pure: no I/O.
 */

export type Expectation = 'reject' | 'accept';

export interface RelayCaseSpec {
  /** Stable id, e.g. `percent-hack`. */
  id: string;
  /** The trick family, e.g. `percent-hack`, `ndr-relay`, `control`. */
  family: string;
  description: string;
  /** The MAIL FROM path, with angle brackets: `<tester@relay-test.invalid>`, `<>`. */
  mailFrom: string;
  /** The RCPT TO path, with angle brackets. */
  rcptTo: string;
  /** reject: a relay attempt that must be refused; accept: a control that must be accepted. */
  expected: Expectation;
}

export interface BatteryContext {
  /** The site domain of the configuration the service runs, e.g. `example.com`. */
  siteDomain: string;
  /** The server address the attempts connect to (for the address-literal tricks). */
  serverAddress: string;
}

/** An outside domain no routing table lists (RFC 2606 reserves `.invalid`). */
export const OUTSIDE_DOMAIN = 'relay-test.invalid';
/** A second outside domain, the victim of the NDR relay. */
export const VICTIM_DOMAIN = 'ndr-victim.invalid';
/** A local part no directory has. */
export const UNKNOWN_LOCAL_PART = 'ims-relay-test-no-such-mailbox';

/** `[192.0.2.1]` or `[IPv6:2001:db8::1]`. */
function literal(address: string): string {
  return address.includes(':') ? `[IPv6:${address}]` : `[${address}]`;
}

export function relayBattery(ctx: BatteryContext): RelayCaseSpec[] {
  const site = ctx.siteDomain.toLowerCase();
  const out = OUTSIDE_DOMAIN;
  const tester = `<tester@${out}>`;
  const reject = (
    id: string,
    family: string,
    rcptTo: string,
    description: string,
    mailFrom = tester,
  ): RelayCaseSpec => ({ id, family, description, mailFrom, rcptTo, expected: 'reject' });
  return [
    {
      id: 'control-postmaster',
      family: 'control',
      description: `Control: mail to postmaster@${site} must be accepted from anyone (RFC 5321 §4.5.1). It shows the service is up and deciding, so the refusals below mean something.`,
      mailFrom: tester,
      rcptTo: `<postmaster@${site}>`,
      expected: 'accept',
    },
    {
      id: 'control-postmaster-bare',
      family: 'control',
      description:
        'Control: <Postmaster> without a domain must be accepted (RFC 5321 §4.1.1.3, §4.5.1).',
      mailFrom: tester,
      rcptTo: '<Postmaster>',
      expected: 'accept',
    },
    reject(
      'plain-outside',
      'plain',
      `<victim@${out}>`,
      'A plain outside recipient from an outside sender: the basic relay test.',
    ),
    reject(
      'percent-hack',
      'percent-hack',
      `<victim%${out}@${site}>`,
      `The % hack: a server that rewrites user%host@${site} to user@host relays for anyone. The % is only a character of the local part.`,
    ),
    reject(
      'percent-hack-literal',
      'percent-hack',
      `<victim%${out}@${literal(ctx.serverAddress)}>`,
      "The % hack addressed to the server's own address literal.",
    ),
    reject(
      'bang-path',
      'bang-path',
      `<${out}!victim@${site}>`,
      `A UUCP bang path: host!user@${site} must not be forwarded to host.`,
    ),
    reject(
      'source-route',
      'source-route',
      `<@${site}:victim@${out}>`,
      `A source route through ${site} to an outside mailbox (RFC 5321 §3.6.1: the route is ignored, the final mailbox decides).`,
    ),
    reject(
      'quoted-at',
      'quoted-local-part',
      `<"victim@${out}"@${site}>`,
      'A quoted local part that contains an @: the domain is the one after the final @.',
    ),
    reject(
      'quoted-percent',
      'quoted-local-part',
      `<"victim%${out}"@${site}>`,
      'A quoted local part with a % hack inside.',
    ),
    reject(
      'trailing-dot',
      'trailing-dot',
      `<victim@${out}.>`,
      'An outside domain written with a trailing dot (a fully qualified name).',
    ),
    reject(
      'case-trick',
      'case',
      `<victim@${out.toUpperCase().replace('TEST', 'Test')}>`,
      'An outside domain in mixed case: domains compare case-insensitively.',
    ),
    reject(
      'site-as-left-label',
      'domain-lookalike',
      `<victim@${site}.${out}>`,
      `The site domain as the left labels of an outside domain (${site}.${out}): matching is by the rightmost labels.`,
    ),
    reject(
      'site-as-suffix-text',
      'domain-lookalike',
      `<victim@relaytest${site}>`,
      `A domain that ends with the text of the site domain but not with its labels (relaytest${site}): whole labels only.`,
    ),
    reject(
      'ip-literal',
      'ip-literal',
      '<victim@[192.0.2.1]>',
      'An address literal of another host ([192.0.2.1]) is not local.',
    ),
    reject(
      'ipv6-literal',
      'ip-literal',
      '<victim@[IPv6:2001:db8::1]>',
      'An IPv6 address literal of another host is not local.',
    ),
    reject(
      'spoofed-site-sender',
      'spoofed-sender',
      `<victim@${out}>`,
      `An outside client claiming a sender of the site domain (MAIL FROM ${site}) must not relay: the sender proves nothing.`,
      `<postmaster@${site}>`,
    ),
    reject(
      'null-sender',
      'null-sender',
      `<victim@${out}>`,
      'The null sender <> (as used by bounces) to an outside recipient.',
      '<>',
    ),
    reject(
      'ndr-relay',
      'ndr-relay',
      `<nobody@${out}>`,
      `The NDR relay of Q255695: under "Do not reroute" without "reject unknown recipients", an outside recipient is accepted (250) and the service then sends a non-delivery report, carrying the message, to the forged MAIL FROM (here victim@${VICTIM_DOMAIN}). Any 250 here is a relay; it must be refused at RCPT time.`,
      `<victim@${VICTIM_DOMAIN}>`,
    ),
    reject(
      'ndr-unknown-local',
      'ndr-relay',
      `<${UNKNOWN_LOCAL_PART}@${site}>`,
      `An unknown local recipient accepted (250) is bounced as an NDR, carrying the message, to the forged MAIL FROM (victim@${VICTIM_DOMAIN}): the same NDR relay through the local domain. It must be refused at RCPT time (550 5.1.1).`,
      `<victim@${VICTIM_DOMAIN}>`,
    ),
  ];
}
