/**
 * The one table of the replies the SMTP service chooses itself (RFC 5321
 * codes, RFC 3463 enhanced codes), and the map from a decision to the reply
 * it gets at RCPT time. The SMTP node sends exactly these lines (its
 * accepted MAIL FROM, RCPT TO and DATA replies included, never the SMTP
 * library's own), and the console's what-if prints them, so they can never
 * disagree. evaluate() itself returns decisions only; decide() (decide.ts)
 * pairs a decision with its reply.
 */

import type { Decision } from './evaluate';

export interface SmtpReply {
  /** Basic reply code, e.g. 550. */
  code: number;
  /** Enhanced status code, e.g. "5.7.1"; its class digit equals the code's first digit. */
  enhanced: string;
  /** Reply text: never internals, never the rule that decided. */
  text: string;
}

/** A reply of the table: its code, its RFC 3463 enhanced code, its text. */
const reply = <const C extends number, const E extends string, const T extends string>(
  code: C,
  enhanced: E,
  text: T,
) => ({ code, enhanced, text }) as const;

/** Replies by meaning. */
export const REPLIES = {
  senderOk: reply(250, '2.1.0', 'Accepted'),
  recipientOk: reply(250, '2.1.5', 'Accepted'),
  relayDenied: reply(550, '5.7.1', 'Relaying is prohibited'),
  unknownRecipient: reply(550, '5.1.1', 'Recipient address rejected: no such user here'),
  badRecipientSyntax: reply(501, '5.1.3', 'Bad recipient address syntax'),
  badSenderSyntax: reply(501, '5.1.7', 'Bad sender address syntax'),
  policyNotLoaded: reply(451, '4.3.0', 'Temporary local problem, please try again later'),
  shuttingDown: reply(421, '4.3.2', 'Service restarting, please try again later'),
  messageTooBig: reply(552, '5.3.4', 'Message size exceeds fixed limit'),
  messageAccepted: reply(250, '2.6.0', 'Message accepted'),
  authFailed: reply(535, '5.7.8', 'Authentication credentials invalid'),
  authTemporaryFailure: reply(454, '4.7.0', 'Temporary authentication failure'),
  tooManyRecipients: reply(452, '4.5.3', 'Too many recipients'),
  tooManyHops: reply(554, '5.4.6', 'Too many hops: a mail loop?'),
  insufficientStorage: reply(452, '4.3.1', 'Insufficient system storage, please try again later'),
  parameterNotRecognised: reply(
    555,
    '5.5.4',
    'MAIL FROM/RCPT TO parameters not recognized or not implemented',
  ),
  // Per-client limits (the SMTP node's anvil, as Postfix's): a line of these
  // reads `<code> <enhanced> <host> <text>`, with the client address after
  // the connection ones, as Postfix words them (formatLimitReply).
  tooManyConnections: reply(421, '4.7.0', 'Error: too many connections from'),
  tooManyErrors: reply(421, '4.7.0', 'Error: too many errors'),
  timeoutExceeded: reply(421, '4.4.2', 'Error: timeout exceeded'),
  authThrottled: reply(454, '4.7.0', 'Too many authentication attempts, please try again later'),
  encryptionRequired: reply(
    538,
    '5.7.11',
    'Encryption required for requested authentication mechanism',
  ),
  // The protocol's own answers, in place of the SMTP library's texts.
  ok: reply(250, '2.0.0', 'OK'),
  closing: reply(221, '2.0.0', 'Bye'),
  help: reply(214, '2.0.0', 'See https://tools.ietf.org/html/rfc5321 for details'),
  cannotVerify: reply(
    252,
    '2.0.0',
    'Cannot VRFY user, but will accept message and attempt delivery',
  ),
  readyToStartTls: reply(220, '2.0.0', 'Ready to start TLS'),
  authSucceeded: reply(235, '2.7.0', 'Authentication successful'),
  commandNotRecognised: reply(500, '5.5.2', 'Command not recognized'),
  syntaxError: reply(501, '5.5.4', 'Syntax error in parameters or arguments'),
  authAborted: reply(501, '5.7.0', 'Authentication aborted'),
  badSequence: reply(503, '5.5.1', 'Bad sequence of commands'),
  sendHeloFirst: reply(503, '5.5.1', 'Send HELO/EHLO first'),
  needMail: reply(503, '5.5.1', 'Need MAIL command'),
  needRcpt: reply(503, '5.5.1', 'Need RCPT command'),
  nestedMail: reply(503, '5.5.1', 'Nested MAIL command'),
  alreadyAuthenticated: reply(503, '5.5.1', 'Already authenticated'),
  tlsAlreadyActive: reply(503, '5.5.1', 'TLS already active'),
  authMechanismNotSupported: reply(504, '5.5.4', 'Unrecognized authentication type'),
  notAvailable: reply(421, '4.3.2', 'Service not available, closing transmission channel'),
  commandNotAllowed: reply(550, '5.7.0', 'Command not allowed for this client'),
  talkTooSoon: reply(421, '4.5.0', 'Error: you talk too soon'),
  lineTooLong: reply(421, '4.4.2', 'Error: command line too long'),
} as const satisfies Record<string, SmtpReply>;

/**
 * The go-ahead for the message after DATA. A 3xx reply carries no enhanced
 * code (RFC 2034 §3), so it sits outside REPLIES.
 */
export const START_MAIL_INPUT = {
  code: 354,
  text: 'End data with <CR><LF>.<CR><LF>',
} as const satisfies Omit<SmtpReply, 'enhanced'>;

/** The reply to RCPT TO for a decision. */
export function replyFor(decision: Pick<Decision, 'action' | 'reason'>): SmtpReply {
  switch (decision.action) {
    case 'deliver':
    case 'relay':
    case 'accept-ndr':
      return REPLIES.recipientOk;
    case 'reject':
      switch (decision.reason) {
        case 'unknown-recipient':
          return REPLIES.unknownRecipient;
        case 'bad-address':
          return REPLIES.badRecipientSyntax;
        case 'bad-sender':
          return REPLIES.badSenderSyntax;
        default:
          // relay-denied, never-route, no-reroute: a relay attempt (docs/design.md §2 rule 7).
          return REPLIES.relayDenied;
      }
  }
}

/**
 * A per-client limit's line, as Postfix words it: the server's name before
 * the text, the client address after it when given
 * (`421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1`).
 */
export function formatLimitReply(reply: SmtpReply, hostname: string, client?: string): string {
  return `${reply.code} ${reply.enhanced} ${hostname} ${reply.text}${client ? ` ${client}` : ''}`;
}

/** The reply as it goes on the wire, without CRLF: `550 5.7.1 Relaying is prohibited`. */
export function formatReply(reply: SmtpReply): string {
  return `${reply.code} ${reply.enhanced} ${reply.text}`;
}
