/**
 * decide(): an envelope in, the decision and the exact reply line out. The
 * SMTP node's RCPT hook and the console's what-if both call this one
 * function, so what the console says a recipient gets is what the wire
 * answers, byte for byte (the property test in apps/smtp checks it).
 */

import type { Policy } from './compile';
import type { RoutingConfig } from './config';
import { type Decision, type EvaluateInput, type EvaluateOptions, evaluate } from './evaluate';
import { formatReply, replyFor, type SmtpReply } from './replies';

/** The envelope of one RCPT TO: evaluate()'s input without the directory. */
export type Envelope = Omit<EvaluateInput, 'isKnownRecipient'>;

/**
 * The local mailboxes: a list or set of addresses (compared without regard
 * to case), or a lookup. Without one, every local address counts as a
 * mailbox, which is not what the node answers when it rejects unknown
 * recipients.
 */
export type Directory = Iterable<string> | ((address: string) => boolean);

/** A reply with the line as it goes on the wire, without CRLF. */
export interface WireReply extends SmtpReply {
  /** `250 2.1.5 Accepted`, `550 5.1.1 Recipient address rejected: no such user here`, … */
  line: string;
}

export interface Verdict {
  decision: Decision;
  reply: WireReply;
}

/** A directory as evaluate()'s lookup. */
export function directoryLookup(directory: Directory): (address: string) => boolean {
  if (typeof directory === 'function') return directory;
  const known = new Set<string>();
  for (const address of directory) known.add(address.toLowerCase());
  return (address) => known.has(address.toLowerCase());
}

/**
 * The decision for one recipient and the reply it gets at RCPT time. Pass
 * the directory the nodes have: an unknown local recipient then gets
 * `550 5.1.1` (or is accepted for an NDR) exactly as on the wire.
 */
export function decide(
  configOrPolicy: RoutingConfig | Policy,
  envelope: Envelope,
  directory?: Directory,
  options?: EvaluateOptions,
): Verdict {
  const decision = evaluate(
    configOrPolicy,
    directory === undefined
      ? envelope
      : { ...envelope, isKnownRecipient: directoryLookup(directory) },
    options,
  );
  const reply = replyFor(decision);
  return { decision, reply: { ...reply, line: formatReply(reply) } };
}
