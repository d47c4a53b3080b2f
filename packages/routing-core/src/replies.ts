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

/** Replies by meaning. */
export const REPLIES = {
  senderOk: { code: 250, enhanced: '2.1.0', text: 'Accepted' },
  recipientOk: { code: 250, enhanced: '2.1.5', text: 'Accepted' },
  relayDenied: { code: 550, enhanced: '5.7.1', text: 'Relaying is prohibited' },
  unknownRecipient: {
    code: 550,
    enhanced: '5.1.1',
    text: 'Recipient address rejected: no such user here',
  },
  badRecipientSyntax: { code: 501, enhanced: '5.1.3', text: 'Bad recipient address syntax' },
  badSenderSyntax: { code: 501, enhanced: '5.1.7', text: 'Bad sender address syntax' },
  policyNotLoaded: {
    code: 451,
    enhanced: '4.3.0',
    text: 'Temporary local problem, please try again later',
  },
  shuttingDown: {
    code: 421,
    enhanced: '4.3.2',
    text: 'Service restarting, please try again later',
  },
  messageTooBig: { code: 552, enhanced: '5.3.4', text: 'Message size exceeds fixed limit' },
  messageAccepted: { code: 250, enhanced: '2.6.0', text: 'Message accepted' },
  authFailed: { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  authTemporaryFailure: {
    code: 454,
    enhanced: '4.7.0',
    text: 'Temporary authentication failure',
  },
  tooManyRecipients: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' },
  tooManyHops: { code: 554, enhanced: '5.4.6', text: 'Too many hops: a mail loop?' },
  insufficientStorage: {
    code: 452,
    enhanced: '4.3.1',
    text: 'Insufficient system storage, please try again later',
  },
  parameterNotRecognised: {
    code: 555,
    enhanced: '5.5.4',
    text: 'MAIL FROM/RCPT TO parameters not recognized or not implemented',
  },
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

/** The reply as it goes on the wire, without CRLF: `550 5.7.1 Relaying is prohibited`. */
export function formatReply(reply: SmtpReply): string {
  return `${reply.code} ${reply.enhanced} ${reply.text}`;
}
