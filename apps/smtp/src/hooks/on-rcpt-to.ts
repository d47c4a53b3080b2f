/**
 * RCPT TO: THE routing decision of the product. For each recipient the node
 * asks routing-core's decide(), with the session's generation, the client
 * and server addresses, whether the session authenticated, and the
 * directory, and answers the reply line decide() returns: exactly what the
 * console's what-if prints for the same envelope (what-if-agreement.test.ts
 * checks it on the wire). Accepted recipients are kept for DATA (on-data.ts),
 * which delivers, queues or reports each as decided here.
 *
 * A path smtp-server's own parser refuses never gets here: it is answered
 * `501 5.1.3` from the same table (ims-smtp-server.ts). A quoted local
 * part with a space or an '@' ("a b"@example.com), which that parser
 * splits, is judged by routing-core's parser there instead, so it reaches
 * decide() as the what-if's does. The recipient cap counts per session.
 */

import { decide, formatReply, REPLIES } from '@ims/routing-core';
import type { SMTPServerOptions } from 'smtp-server';
import { recordDecision } from '../decision-records';
import { replyError } from '../ims-smtp-server';
import { flatLineLogger } from '../log';
import type { HookContext } from './context';

const RELAY_DENIED = formatReply(REPLIES.relayDenied);

export function onRcptTo({
  state,
  logger,
  maxRecipients,
  traffic,
}: HookContext): NonNullable<SMTPServerOptions['onRcptTo']> {
  // Every field of the line below is flat: see flatLineLogger.
  const decisionLog = flatLineLogger(logger);
  return (address, session, callback) => {
    const s = state.sessions.get(session.id);
    if (!s) return callback(replyError(REPLIES.policyNotLoaded));
    if (Object.keys(address.args || {}).length > 0)
      return callback(replyError(REPLIES.parameterNotRecognised));
    // Rejected RCPTs count too, so one transaction cannot probe without end.
    s.attempts++;
    if (s.attempts > maxRecipients) return callback(replyError(REPLIES.tooManyRecipients));
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const envelope = {
      clientIp: session.remoteAddress,
      serverIp: session.localAddress,
      // Only a user our onAuth accepted: smtp-server also sets `user`
      // (to false) after STARTTLS or XCLIENT, which is no authentication.
      authenticated: s.user !== undefined,
      mailFrom: `<${mailFrom}>`,
      rcptTo: `<${address.address}>`,
    };
    const { decision, reply } = decide(s.generation.policy, envelope, state.isKnown, {
      trace: false,
    });
    recordDecision(traffic, envelope, decision);
    decisionLog.info({
      event: 'rcpt',
      session: session.id,
      version: s.generation.version,
      client: session.remoteAddress,
      server: session.localAddress,
      user: s.user ?? null,
      mailFrom,
      rcptTo: address.address,
      action: decision.action,
      reason: decision.reason,
      rule: decision.rule?.pointer ?? null,
      reply: `${reply.code} ${reply.enhanced}`,
    });
    if (reply.code >= 400) {
      state.totals.recipientsRejected++;
      if (reply.line === RELAY_DENIED) state.totals.relayDenied++;
      return callback(replyError(reply));
    }
    // The 250 is REPLIES.recipientOk, the line decide() returned (ims-smtp-server.ts sends it).
    state.totals.recipientsAccepted++;
    s.decisions.push({ rcpt: address.address, decision });
    callback();
  };
}
