/**
 * Whether a next hop is this SMTP service itself (a mail loop), compared by
 * address and port, never by spelling: `LOCALHOST.`, `[127.0.0.1]`,
 * `::ffff:127.0.0.1` and `[::1]` are all read as what they are. Pure: the
 * caller resolves names first (except `localhost` and `*.localhost`, which
 * RFC 6761 §6.3 reserves for the loopback address), so the SMTP node can run
 * the same check on the addresses it is about to connect to.
 */

import { type IpAddress, parsePeerIp } from './ip';

/** The default SMTP port, when a route names none. */
export const SMTP_PORT = 25;

/** A `host:port` pair split: `127.0.0.1:2525`, `[::1]:2525`, `host`, `::1`. Null when malformed. */
export function splitHostPort(text: string): { host: string; port?: number } | null {
  const t = text.trim();
  let host = t;
  let portText: string | undefined;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) return null;
    host = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    if (rest !== '') portText = rest.slice(1);
  } else if (t.indexOf(':') >= 0 && t.indexOf(':') === t.lastIndexOf(':')) {
    host = t.slice(0, t.indexOf(':'));
    portText = t.slice(t.indexOf(':') + 1);
  }
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return null;
  return { host, port: Number(portText) };
}

/** What a host is, as far as it can be told without DNS. */
export type HostKind = 'loopback' | 'unspecified' | 'link-local' | 'other';

/** The host as an address: literals parsed (brackets, `IPv6:` tag, IPv4-mapped); `localhost` names as 127.0.0.1. */
export function hostAddress(host: string): IpAddress | null {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.startsWith('ipv6:')) h = h.slice(5);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return { family: 4, words: [0x7f000001] };
  return parsePeerIp(h);
}

export function kindOfAddress(ip: IpAddress): HostKind {
  const w = ip.words;
  if (ip.family === 4) {
    const v = w[0] ?? 0;
    if (v >>> 24 === 127) return 'loopback';
    if (v === 0) return 'unspecified';
    if (v >>> 16 === 0xa9fe) return 'link-local';
    return 'other';
  }
  const [a = 0, b = 0, c = 0, d = 0] = w;
  if (a === 0 && b === 0 && c === 0 && d === 1) return 'loopback';
  if (a === 0 && b === 0 && c === 0 && d === 0) return 'unspecified';
  if (a >>> 22 === 0x3fa) return 'link-local'; // fe80::/10
  return 'other';
}

/** What kind of host `host` is; `other` for a name (or anything unreadable). */
export function hostKind(host: string): HostKind {
  const a = hostAddress(host);
  return a ? kindOfAddress(a) : 'other';
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.words.every((w, i) => w === b.words[i]);
}

/** Whether a connection to `target` reaches a socket listening on `listener`. */
function reaches(
  target: IpAddress,
  listener: IpAddress,
  localAddresses: readonly IpAddress[],
): boolean {
  const t = kindOfAddress(target);
  const l = kindOfAddress(listener);
  if (l === 'unspecified') {
    // 0.0.0.0 takes IPv4 only; :: is dual-stack (Node's default) and takes both.
    if (listener.family === 4 && target.family !== 4) return false;
    return (
      t === 'loopback' || t === 'unspecified' || localAddresses.some((a) => sameAddress(a, target))
    );
  }
  // Connecting to the unspecified address reaches the loopback interface.
  if (t === 'unspecified') return l === 'loopback' && listener.family === target.family;
  return sameAddress(target, listener);
}

/**
 * Whether connecting to `host`:`port` reaches this service, which listens on
 * `listen` (`host:port` pairs, as nodes report them: `127.0.0.1:2525`,
 * `[::]:2525`). `host` is an address (or `localhost`); with a wildcard
 * listener, pass this machine's own addresses as `localAddresses` so that a
 * target naming one of them counts too.
 */
export function isSelfTarget(
  host: string,
  port: number,
  listen: readonly string[],
  localAddresses: readonly string[] = [],
): boolean {
  const target = hostAddress(host);
  if (!target) return false;
  const locals = localAddresses.map((a) => parsePeerIp(a)).filter((a) => a !== null);
  for (const pair of listen) {
    const p = splitHostPort(pair);
    if (!p || p.port !== port) continue;
    const listener = parsePeerIp(p.host);
    if (listener && reaches(target, listener, locals)) return true;
  }
  return false;
}
