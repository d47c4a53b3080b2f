/**
 * How the node reaches its console. The node sends its token and receives
 * the directory's password hashes, so a console URL that is plain HTTP to a
 * host other than this machine is refused (unless IMS_ALLOW_INSECURE_CONSOLE
 * says otherwise), and an HTTPS console can be checked against a CA file of
 * its own (IMS_CONSOLE_CA: a self-signed console certificate, or a private CA).
 */

import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

/** Loopback: 127.0.0.0/8, ::1 and `localhost` (RFC 6761 keeps it on this machine). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

/**
 * Why `url` must not be used as the console URL, or undefined when it may:
 * plain HTTP is for loopback only, unless `allowInsecure`.
 */
export function insecureConsoleProblem(url: string, allowInsecure: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // the URL's own check reports it
  }
  if (parsed.protocol !== 'http:' || allowInsecure || isLoopbackHost(parsed.hostname)) {
    return undefined;
  }
  return `IMS_CONSOLE_URL is plain HTTP to ${parsed.hostname}, which is not this machine: the node token and the directory's password hashes would cross the network in the clear. Use https:// (the console's IMS_HTTP_TLS_CERT/IMS_HTTP_TLS_KEY, or a reverse proxy with TLS; IMS_CONSOLE_CA for a self-signed certificate), or set IMS_ALLOW_INSECURE_CONSOLE=1 to accept the risk`;
}

/**
 * A fetch that trusts `ca` (PEM) besides the system's CAs, for an HTTPS
 * console; undefined (the global fetch, which honours NODE_EXTRA_CA_CERTS)
 * without one.
 *
 * For a console on loopback (`loopback`: the embedded start's own node) the
 * certificate's chain is checked but not its name: the console's certificate
 * names its public name, not 127.0.0.1, and plain HTTP would be accepted on
 * loopback anyway.
 */
export function consoleFetch(
  ca: Buffer | string | undefined,
  loopback = false,
): typeof fetch | undefined {
  if (ca === undefined) return undefined;
  const dispatcher = new Agent({
    connect: {
      ca: [...rootCertificates, String(ca)],
      ...(loopback ? { checkServerIdentity: () => undefined } : {}),
    },
  });
  // undici's fetch is the one Node's global fetch is built from; its types
  // are its own, the objects the same.
  return ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(String(input instanceof Request ? input.url : input), {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    })) as unknown as typeof fetch;
}
