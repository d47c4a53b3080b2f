/**
 * Session hooks: a session starts with the generation of the moment
 * (onConnect) and keeps it to the end, whatever restart happens meanwhile;
 * STARTTLS starts it over (onSecure); onClose forgets it.
 */

import { REPLIES } from '@ims/routing-core';
import type { SMTPServerOptions } from 'smtp-server';
import { replyError } from '../ims-smtp-server';
import type { HookContext } from './context';

export function onConnect({ state }: HookContext): NonNullable<SMTPServerOptions['onConnect']> {
  return (session, callback) => {
    if (!state.generation) return callback(replyError(REPLIES.policyNotLoaded));
    state.totals.sessions++;
    state.sessions.set(session.id, {
      generation: state.generation,
      decisions: [],
      attempts: 0,
      sender: '',
    });
    callback();
  };
}

/**
 * After STARTTLS the session starts over (RFC 3207 §4.2): whatever was
 * learned before it, AUTH included, is forgotten.
 */
export function onSecure({ state }: HookContext): NonNullable<SMTPServerOptions['onSecure']> {
  return (_socket, session, callback) => {
    const s = state.sessions.get(session.id);
    if (s) {
      s.user = undefined;
      s.decisions = [];
      s.attempts = 0;
    }
    callback();
  };
}

export function onClose({ state }: HookContext): NonNullable<SMTPServerOptions['onClose']> {
  return (session) => {
    state.sessions.delete(session.id);
  };
}
