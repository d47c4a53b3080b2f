/**
 * Non-delivery reports (RFC 3464) this node originates: for recipients it
 * accepted only to report them undeliverable ("Do not reroute", Q255695; an
 * unknown local recipient when RCPT-time rejection is off), and for
 * messages the queue gave up on. A report goes to the original MAIL FROM,
 * into a local Maildir or through the queue; none to the null sender.
 */

import { type Decision, locateDomain, type NextHop, parsePath } from '@ims/routing-core';
import { buildDsn, type FailedRecipient } from './dsn';
import type { Logger } from './log';
import { deliverToMaildirs, uniqueName, type WriteOptions } from './maildir';
import type { NodeState } from './node-state';
import type { OutboundQueue } from './queue';

/** Status of the report for a recipient refused because the service does not reroute (Q255695). */
export const NO_REROUTE_STATUS = '5.4.4';

/** The report line for a recipient accepted only to be reported undeliverable. */
export function ndrRecipient(rcpt: string, decision: Decision): FailedRecipient {
  if (decision.reason === 'unknown-recipient') {
    return {
      address: decision.recipient ?? rcpt,
      status: '5.1.1',
      reason: 'No such user here: the address is not in the directory.',
    };
  }
  return {
    address: decision.recipient ?? rcpt,
    status: NO_REROUTE_STATUS,
    reason:
      'This Internet Mail Service does not reroute mail, and the recipient is not local (Q255695).',
  };
}

export interface NdrWriterOptions {
  state: NodeState;
  queue: OutboundQueue;
  dataDir: string;
  /** Reporting MTA, in the report. */
  hostname: string;
  logger: Logger;
}

export class NdrWriter {
  constructor(private readonly opts: NdrWriterOptions) {}

  /**
   * Sends a non-delivery report for `failed` to `to` (the original MAIL
   * FROM): into a local Maildir, or through the queue. None goes to the null
   * sender. Resolves once the report is durably stored.
   */
  async send(
    to: string,
    failed: FailedRecipient[],
    original: Buffer,
    arrivalDate: Date,
    content: 'full' | 'headers' = 'full',
    write: WriteOptions & { skipPresent?: boolean } = {},
  ): Promise<void> {
    const { state, logger } = this.opts;
    const generation = state.generation;
    if (to === '' || !generation) {
      logger.info({ event: 'ndr-suppressed', failed: failed.map((f) => f.address) });
      return;
    }
    const site = generation.policy.siteDomain;
    const report = buildDsn({
      reportingMta: this.opts.hostname,
      from: `postmaster@${site}`,
      to,
      arrivalDate,
      recipients: failed,
      original,
      content,
    });
    const where = this.whereTo(to);
    logger.info({ event: 'ndr', to, failed: failed.map((f) => f.address), via: where.kind });
    if (where.kind === 'local') {
      await deliverToMaildirs(this.opts.dataDir, [where.mailbox], report, {
        ...write,
        name: write.name ?? uniqueName(),
      });
    } else if (where.kind === 'remote') {
      await this.opts.queue.enqueue(
        '',
        [{ address: to, hop: where.hop }],
        report,
        generation.version,
        write,
      );
    } else {
      logger.warn({ event: 'ndr-undeliverable', to, reason: where.reason });
      return;
    }
    state.totals.ndrsSent++;
  }

  /** Where mail this node originates (an NDR) for `address` goes: no restriction applies to it. */
  private whereTo(
    address: string,
  ):
    | { kind: 'local'; mailbox: string }
    | { kind: 'remote'; hop: NextHop }
    | { kind: 'none'; reason: string } {
    const generation = this.opts.state.generation;
    const parsed = parsePath(`<${address}>`);
    if (!generation || !parsed.ok || parsed.kind !== 'mailbox')
      return { kind: 'none', reason: 'not a mailbox address' };
    const { domain, domainKind, localPart } = parsed.mailbox;
    // A sender at an address literal could point reports at any host, internal
    // ones included: none is sent there.
    if (domainKind !== 'name') return { kind: 'none', reason: 'the sender is an address literal' };
    const where = locateDomain(generation.policy, domain);
    if (!where.local) {
      return {
        kind: 'remote',
        hop: (where.route?.nextHop as NextHop | undefined) ?? { kind: 'outbound', domain },
      };
    }
    const local = `${localPart}@${domain}`.toLowerCase();
    if (localPart.toLowerCase() === 'postmaster')
      return { kind: 'local', mailbox: generation.policy.postmaster };
    if (this.opts.state.isKnown(local)) return { kind: 'local', mailbox: local };
    return { kind: 'none', reason: `${local} is not in the directory` };
  }
}
