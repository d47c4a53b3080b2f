/**
 * MAIL FROM: starts a transaction. The path is judged by routing-core's
 * parser (as the what-if judges it) and kept canonical for the queue and
 * the reports. The 250 itself is REPLIES.senderOk (ims-smtp-server.ts).
 */

import { parsePath, REPLIES } from '@ims/routing-core';
import type { SMTPServerOptions } from 'smtp-server';
import { replyError } from '../ims-smtp-server';
import type { HookContext } from './context';

/** MAIL FROM parameters of the extensions advertised (RFC 1870, 6152, 4954); RCPT TO has none. */
const MAIL_PARAMETERS = new Set(['SIZE', 'BODY', 'AUTH']);

export function onMailFrom({ state }: HookContext): NonNullable<SMTPServerOptions['onMailFrom']> {
  return (address, session, callback) => {
    const s = state.sessions.get(session.id);
    // The recipient count (s.attempts) is the session's: a new transaction
    // does not reset it, or each MAIL FROM would buy another round of probes.
    if (s) s.decisions = [];
    if (Object.keys(address.args || {}).some((k) => !MAIL_PARAMETERS.has(k.toUpperCase())))
      return callback(replyError(REPLIES.parameterNotRecognised));
    const parsed = parsePath(address.address === '' ? '<>' : `<${address.address}>`, {
      allowNull: true,
    });
    // Kept canonical (A-label domain), '' for the null sender: as queued and reported.
    if (s && parsed.ok) s.sender = parsed.kind === 'mailbox' ? parsed.mailbox.address : '';
    callback(parsed.ok ? undefined : replyError(REPLIES.badSenderSyntax));
  };
}
