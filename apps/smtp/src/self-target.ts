/**
 * The node's loop check: whether a next hop is this node itself. The host
 * is resolved first (a name through the resolver, as the connection would
 * be), then each address is compared with the addresses the node listens
 * on by routing-core's isSelfTarget: any spelling (`localhost`,
 * `127.0.0.1`, `[::1]`, `::ffff:127.0.0.1`), and a wildcard listener
 * (0.0.0.0, ::) counts for every address of this machine.
 */

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { hostKind, isSelfTarget } from '@ims/routing-core';
import type { Target } from './outbound';

/** This machine's own addresses (every interface), for a wildcard listener. */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i.address);
}

/** A host name's addresses, as the connection would look them up. */
export type Resolve = (name: string) => Promise<string[]>;

const systemResolve: Resolve = async (name) =>
  (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

/** The addresses a host stands for; the literal itself for an address (or `localhost`). */
async function addressesOf(host: string, resolve: Resolve): Promise<string[]> {
  const bare = host.replace(/^\[(?:ipv6:)?(.*)\]$/i, '$1');
  if (isIP(bare) !== 0 || hostKind(host) !== 'other') return [host];
  try {
    return await resolve(bare);
  } catch {
    // Unresolvable here: the connection will fail and say so.
    return [];
  }
}

/** Whether delivering to `target` would reach this node, which listens on `listening` (`host:port`). */
export async function isSelf(
  target: Target,
  listening: readonly string[],
  resolve: Resolve = systemResolve,
  locals: readonly string[] = localAddresses(),
): Promise<boolean> {
  const addresses = await addressesOf(target.host, resolve);
  return addresses.some((a) => isSelfTarget(a, target.port, listening, locals));
}
