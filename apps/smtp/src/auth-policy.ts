/**
 * Where SMTP AUTH may be used (#13 item 5): passwords never cross a network
 * in the clear. With a certificate configured, only after STARTTLS; without
 * one, only on a loopback listener. Elsewhere AUTH is not advertised and is
 * answered `538 5.7.11` (RFC 4954 §6).
 */

import { hostKind } from '@ims/routing-core';

export interface AuthPlace {
  /** The session is in TLS (after STARTTLS). */
  secure: boolean;
  /** The node has a certificate (STARTTLS is offered). */
  tlsConfigured: boolean;
  /** The address the client connected to. */
  localAddress: string;
}

/** Whether AUTH needs a TLS session first here (and is not advertised before it). */
export function authNeedsEncryption({ secure, tlsConfigured, localAddress }: AuthPlace): boolean {
  if (secure) return false;
  return tlsConfigured || hostKind(localAddress) !== 'loopback';
}

/**
 * The warning a node logs at start when it listens beyond loopback without
 * a certificate (AUTH is then refused there), or undefined.
 */
export function cleartextAuthWarning(
  listen: readonly string[],
  tlsConfigured: boolean,
): { event: 'auth-needs-tls'; listen: string[]; message: string } | undefined {
  const exposed = listen.filter((host) => hostKind(host) !== 'loopback');
  if (tlsConfigured || exposed.length === 0) return undefined;
  return {
    event: 'auth-needs-tls',
    listen: exposed,
    message: `No TLS certificate (IMS_SMTP_TLS_CERT/IMS_SMTP_TLS_KEY): SMTP AUTH is not offered to clients connecting to ${exposed.join(', ')}, only on loopback. Set a certificate so that users can authenticate (after STARTTLS).`,
  };
}
