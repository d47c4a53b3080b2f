/** AUTH PLAIN / LOGIN: the check is auth.ts, its throttling the Anvil's (limits/anvil.ts). */

import { REPLIES } from '@ims/routing-core';
import type { SMTPServerOptions } from 'smtp-server';
import { replyError } from '../ims-smtp-server';
import type { HookContext } from './context';

export function onAuth({
  state,
  auth,
  logger,
}: HookContext): NonNullable<SMTPServerOptions['onAuth']> {
  return (credentials, session, callback) => {
    auth
      .authenticate(credentials.username ?? '', credentials.password ?? '', session.remoteAddress)
      .then((result) => {
        if (result.outcome === 'throttled') {
          logger.warn({
            event: 'auth-throttled',
            session: session.id,
            client: session.remoteAddress,
            reason: result.reason,
          });
          return callback(replyError(REPLIES.authThrottled));
        }
        if (result.outcome === 'failure') return callback(replyError(REPLIES.authFailed));
        const s = state.sessions.get(session.id);
        if (s) s.user = result.user;
        callback(null, { user: result.user });
      })
      // Never a rejection: an unexpected error answers 4xx and the server
      // stays up (an unhandled rejection would end the process).
      .catch((err: unknown) => {
        logger.error({ event: 'auth-error', session: session.id, error: String(err) });
        callback(replyError(REPLIES.authTemporaryFailure));
      });
  };
}
