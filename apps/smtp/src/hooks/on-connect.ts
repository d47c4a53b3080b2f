/**
 * Session hooks: a session starts with the generation of the moment
 * (onConnect) and keeps it to the end, whatever restart happens meanwhile;
 * STARTTLS starts it over (onSecure); onClose forgets it.
 *
 * onConnect first asks the Anvil (limits/anvil.ts) whether the client
 * address may open another session (per-address count and rate); a refused
 * one gets Postfix's line, `421 4.7.0 <host> Error: too many connections
 * from <ip>`. Every session the Anvil counted is given back at onClose.
 */

import { REPLIES } from '@ims/routing-core';
import type { SMTPServerOptions } from 'smtp-server';
import { limitError, replyError } from '../ims-smtp-server';
import type { HookContext } from './context';

export function onConnect(ctx: HookContext): NonNullable<SMTPServerOptions['onConnect']> {
  const { state, anvil, logger, hostname, countSessions } = ctx;
  return (session, callback) => {
    if (!state.generation) return callback(replyError(REPLIES.policyNotLoaded));
    const ip = session.remoteAddress;
    state.connecting.add(session.id);
    const start = (counted: boolean) => {
      state.connecting.delete(session.id);
      if (state.closedWhileConnecting.delete(session.id)) {
        // Gone before the Anvil answered: nothing to start, the count given back.
        if (counted) void anvil.disconnect(ip);
        return callback();
      }
      if (!state.generation) {
        if (counted) void anvil.disconnect(ip);
        return callback(replyError(REPLIES.policyNotLoaded));
      }
      state.totals.sessions++;
      state.sessions.set(session.id, {
        generation: state.generation,
        decisions: [],
        attempts: 0,
        sender: '',
        ...(counted ? { anvilClient: ip } : {}),
      });
      callback();
    };
    // No per-address session limit set: nothing to count, no Anvil round trip
    // (with SMTP workers it is a message to the primary and back).
    if (!countSessions) return start(false);
    anvil.connect(ip).then(
      (verdict) => {
        if (verdict.allowed) return start(true);
        state.connecting.delete(session.id);
        state.closedWhileConnecting.delete(session.id);
        state.totals.connectionsRefused++;
        logger.warn({ event: 'connection-limit', client: ip, reason: verdict.reason });
        callback(limitError(REPLIES.tooManyConnections, hostname, ip));
      },
      // The Anvil out of reach (another process, say): serve, uncounted, as
      // Postfix's smtpd does without its anvil.
      (err: unknown) => {
        logger.error({ event: 'anvil-error', client: ip, error: String(err) });
        start(false);
      },
    );
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

export function onClose({ state, anvil }: HookContext): NonNullable<SMTPServerOptions['onClose']> {
  return (session) => {
    if (state.connecting.has(session.id)) state.closedWhileConnecting.add(session.id);
    const s = state.sessions.get(session.id);
    state.sessions.delete(session.id);
    if (s?.anvilClient !== undefined) void anvil.disconnect(s.anvilClient);
  };
}
