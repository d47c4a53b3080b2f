/**
 * One listening SMTP server: smtp-server's settings (limits, TLS, AUTH
 * methods, enhanced status codes) and the hook table. The library owns the
 * protocol; every decision is a hook in hooks/, and the recipient decision
 * is hooks/on-rcpt-to.ts.
 */

import type { HookContext } from './hooks/context';
import { onAuth } from './hooks/on-auth';
import { onClose, onConnect, onSecure } from './hooks/on-connect';
import { onData } from './hooks/on-data';
import { onMailFrom } from './hooks/on-mail-from';
import { onRcptTo } from './hooks/on-rcpt-to';
import { ImsSmtpServer, type SessionLimits } from './ims-smtp-server';

export interface ListenerSettings {
  /** Greeting delay and timeout, error limits (ims-smtp-server.ts). */
  limits: SessionLimits;
  /** Largest message accepted, in bytes. */
  maxMessageSize: number;
  /** Certificate and key (PEM) that turn on STARTTLS. */
  tls: { cert: Buffer; key: Buffer } | undefined;
  /** How long sessions may finish at close() before 421. */
  closeTimeoutMs: number;
  maxClients: number;
  idleTimeoutMs: number;
}

export function createListener(ctx: HookContext, settings: ListenerSettings): ImsSmtpServer {
  return new ImsSmtpServer({
    name: ctx.hostname,
    banner: 'Internet Mail Service ready',
    limits: settings.limits,
    tlsConfigured: settings.tls !== undefined,
    size: settings.maxMessageSize,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: true,
    // STARTTLS only with a configured certificate: never the library's
    // built-in self-signed one.
    ...(settings.tls
      ? { key: settings.tls.key, cert: settings.tls.cert, hideSTARTTLS: false }
      : { hideSTARTTLS: true }),
    // The library's jokes (WIZ, SHELL, KILL) are unknown commands here.
    disabledCommands: settings.tls
      ? ['WIZ', 'SHELL', 'KILL']
      : ['STARTTLS', 'WIZ', 'SHELL', 'KILL'],
    hideENHANCEDSTATUSCODES: false,
    hideSMTPUTF8: true,
    // routing-core's parser judges every path (onMailFrom, decide), so the
    // node answers what the console's what-if answers; the library's strict
    // check refused what routing-core accepts (a trailing dot).
    lenientAddressParsing: true,
    hideDSN: true,
    disableReverseLookup: true,
    logger: false,
    closeTimeout: settings.closeTimeoutMs,
    maxClients: settings.maxClients,
    socketTimeout: settings.idleTimeoutMs,
    onConnect: onConnect(ctx),
    onSecure: onSecure(ctx),
    onClose: onClose(ctx),
    onAuth: onAuth(ctx),
    onMailFrom: onMailFrom(ctx),
    onRcptTo: onRcptTo(ctx),
    onData: onData(ctx),
  });
}
