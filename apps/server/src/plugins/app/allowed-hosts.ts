/**
 * The Host header check (Django's ALLOWED_HOSTS), against DNS rebinding: a
 * page on an attacker's name that re-resolves to 127.0.0.1 reaches the
 * console with the attacker's name in Host, and is refused here, before any
 * route (health and metrics included) runs.
 *
 * The console's names are the bind address, `localhost`, `127.0.0.1` and
 * `[::1]` (and, when it binds a wildcard address, every address of this
 * machine's interfaces), plus `IMS_ALLOWED_HOSTS`. A name matches with any
 * port; an entry written with a port (`console.example.com:8443`) matches
 * only that port; `.example.com` matches the domain and every name under it;
 * `*` matches anything (unsafe: it turns the check off).
 *
 * The answer is 421 Misdirected Request (RFC 9110 §15.5.20: "the server is
 * not able to produce a response for the combination of scheme and authority
 * in the request URI"), which says exactly this; Django answers 400, a code
 * that tells the client its request was malformed, which it was not.
 */

import { networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../../problems/problem-error';

export interface AllowedHostsOptions {
  /** The address the console listens on (IMS_HTTP_HOST). */
  bindHost?: string | undefined;
  /** IMS_ALLOWED_HOSTS, as a list. */
  allowedHosts?: readonly string[] | undefined;
}

interface HostPattern {
  name: string;
  port: string | undefined;
  /** `.example.com`: the domain and its subdomains. */
  suffix: boolean;
}

/** `Name:port`, `[v6]:port`, `v6`, `name.` → lowercase name without brackets or final dot, and port. */
export function splitHost(host: string): { name: string; port: string | undefined } {
  const text = host.trim().toLowerCase();
  let name: string;
  let port: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    name = end < 0 ? text : text.slice(1, end);
    const rest = end < 0 ? '' : text.slice(end + 1);
    port = rest.startsWith(':') ? rest.slice(1) : undefined;
  } else if (text.split(':').length === 2) {
    [name = '', port] = text.split(':');
  } else {
    name = text; // a bare IPv6 address (in a setting), or a name
  }
  return { name: name.replace(/\.$/, ''), port: port === '' ? undefined : port };
}

function pattern(entry: string): HostPattern {
  const suffix = entry.trim().startsWith('.');
  const { name, port } = splitHost(suffix ? entry.trim().slice(1) : entry);
  return { name, port, suffix };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The names the console answers to, from its bind address and IMS_ALLOWED_HOSTS. */
export function consoleNames(opts: AllowedHostsOptions): HostPattern[] | '*' {
  const extra = opts.allowedHosts ?? [];
  if (extra.some((e) => e.trim() === '*')) return '*';
  const names = ['localhost', '127.0.0.1', '::1'];
  const bind = opts.bindHost ?? '127.0.0.1';
  if (WILDCARDS.has(bind)) {
    // Listening everywhere: this machine's own addresses are its names
    // (an address typed in the browser cannot be rebound by anyone's DNS).
    for (const list of Object.values(networkInterfaces())) {
      for (const nic of list ?? []) names.push(nic.address.replace(/%.*$/, ''));
    }
  } else {
    names.push(bind);
  }
  return [
    ...names.map((name) => ({ ...splitHost(name), port: undefined, suffix: false })),
    ...extra.filter((e) => e.trim() !== '').map(pattern),
  ];
}

export function hostAllowed(host: string | undefined, names: HostPattern[] | '*'): boolean {
  if (names === '*') return true;
  if (!host) return false;
  const { name, port } = splitHost(host);
  if (name === '') return false;
  return names.some(
    (p) =>
      (p.port === undefined || p.port === port) &&
      (p.suffix ? name === p.name || name.endsWith(`.${p.name}`) : name === p.name),
  );
}

export default fp(
  async (app: FastifyInstance, opts: AllowedHostsOptions) => {
    const names = consoleNames(opts);
    app.addHook('onRequest', async (request) => {
      // request.host: the Host header, or X-Forwarded-Host from a trusted proxy.
      const host = request.host;
      if (hostAllowed(host, names)) return;
      const shown = JSON.stringify(String(host ?? '').slice(0, 100));
      throw new ProblemError(
        'misdirected-request',
        host
          ? `This console does not answer to the name ${shown}; if it is one of its names, add it to IMS_ALLOWED_HOSTS.`
          : 'The request has no Host header.',
      );
    });
  },
  { name: 'allowed-hosts' },
);
