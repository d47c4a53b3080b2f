/**
 * Routes whose next hop is this machine: a loop to this service, or the console's own port. Hosts are compared as
 * addresses, in any spelling (case, trailing dot, `[127.0.0.1]`,
 * `::ffff:127.0.0.1`, `localhost` and `*.localhost`); the port is the route's,
 * or 25 when it names none. The context tells the service's SMTP ports (the
 * ports of `listen`, plus `smtpPorts`), its listen addresses (the hosts of
 * `listen`, plus `listenAddresses`) and the console's `httpPort`.
 *
 * The rule, first match wins:
 * 1. `route-loop`, critical: the next hop is this SMTP service. The port is
 *    one of its SMTP ports, and the host is one of its listen addresses, or a
 *    loopback or unspecified address (or `localhost`) while the service
 *    listens on a loopback or wildcard address of that port or its addresses
 *    for that port are unknown. (Any 127/8 address counts: the whole block is
 *    this machine, and a port this service uses here is this service.)
 * 2. `route-to-console`, critical: the port is the console's HTTP port and the
 *    host is this machine (loopback, unspecified, `localhost`, or a listen
 *    address). The console does not speak SMTP: that mail never leaves.
 * 3. `route-internal-target`, warning: the next hop is a loopback,
 *    link-local (169.254/16, fe80::/10) or unspecified address, unless the
 *    route names it explicitly: an address literal with an explicit port
 *    (`127.0.0.1:10025`, a content filter, is deliberate; `localhost` or
 *    `127.0.0.1` alone is port 25 on this machine, most likely a mistake).
 *    The unspecified address (0.0.0.0, ::) is never explicit: it is not a
 *    destination.
 * Nothing is said in "Do not reroute" mode, which does not use the table.
 * Names other than `localhost` are not resolved here: the SMTP node checks
 * the addresses it connects to with isSelfTarget().
 */

import {
  hostAddress,
  hostKind,
  isSelfTarget,
  kindOfAddress,
  SMTP_PORT,
  splitHostPort,
} from '../self-target';
import type { RouteTarget } from '../validate';
import { parseRouteTarget } from '../validate';
import { type AdviceContext, type Check, type Finding, finding } from './finding';

interface Service {
  smtpPorts: ReadonlySet<number>;
  /** `host:port` pairs of the SMTP listeners, with known hosts paired with known ports. */
  listen: readonly string[];
  /** Every listen host named, with or without a port. */
  hosts: readonly string[];
  httpPort: number | undefined;
}

function serviceOf(context: AdviceContext): Service {
  const smtpPorts = new Set(context.smtpPorts ?? []);
  const listen: string[] = [];
  const hosts: string[] = [];
  for (const pair of context.listen ?? []) {
    const p = splitHostPort(pair);
    if (!p) continue;
    hosts.push(p.host);
    if (p.port !== undefined) {
      smtpPorts.add(p.port);
      listen.push(pair);
    }
  }
  for (const host of context.listenAddresses ?? []) {
    hosts.push(host);
    const bracketed = host.includes(':') ? `[${host}]` : host;
    for (const port of smtpPorts) listen.push(`${bracketed}:${port}`);
  }
  return { smtpPorts, listen, hosts, httpPort: context.httpPort };
}

/** Whether the service's listeners on `port` include a loopback or wildcard one, or none is known. */
function listensLocally(service: Service, port: number): boolean {
  const onPort = service.listen
    .map((pair) => splitHostPort(pair))
    .filter((p) => p !== null && p.port === port);
  if (onPort.length === 0) return true;
  return onPort.some((p) => {
    const a = p ? hostAddress(p.host) : null;
    return !a || kindOfAddress(a) !== 'other';
  });
}

function isThisMachine(host: string, service: Service): boolean {
  const kind = hostKind(host);
  if (kind === 'loopback' || kind === 'unspecified') return true;
  const a = hostAddress(host);
  return (
    !!a &&
    service.hosts.some((h) => {
      const l = hostAddress(h);
      return !!l && l.family === a.family && l.words.every((w, i) => w === a.words[i]);
    })
  );
}

type Verdict =
  | { code: string; severity: 'critical' | 'warning'; why: string; reference: string }
  | undefined;

function judge(target: RouteTarget & { kind: 'host' }, service: Service): Verdict {
  const port = target.port ?? SMTP_PORT;
  const kind = hostKind(target.host);
  const local = kind === 'loopback' || kind === 'unspecified';
  if (
    service.smtpPorts.has(port) &&
    (isSelfTarget(target.host, port, service.listen) || (local && listensLocally(service, port)))
  ) {
    return {
      code: 'route-loop',
      severity: 'critical',
      reference: 'RFC 5321 §6.3',
      why: 'this SMTP service itself: the mail would loop back here until it is returned as undeliverable',
    };
  }
  if (service.httpPort === port && isThisMachine(target.host, service)) {
    return {
      code: 'route-to-console',
      severity: 'critical',
      reference: 'docs/design.md §4',
      why: "the console's HTTP port on this machine, which does not speak SMTP: that mail is never delivered",
    };
  }
  if (kind === 'other') return undefined;
  const explicit = target.hostKind !== 'name' && target.port !== undefined;
  if (explicit && kind !== 'unspecified') return undefined;
  const what = {
    loopback: 'a loopback address (this machine)',
    'link-local': 'a link-local address',
    unspecified: 'the unspecified address, which is not a destination',
  }[kind];
  return {
    code: 'route-internal-target',
    severity: 'warning',
    reference: 'RFC 6890',
    why: `${what}${target.port === undefined ? ', on port 25' : ''}. If this is intended (a content filter on 127.0.0.1:10025, say), write the address and the port explicitly`,
  };
}

export const routeLoops: Check = (config, context) => {
  // "Do not reroute" does not use the table (routing-table-unused says so).
  if (config.rerouteMode !== 'reroute') return [];
  const service = serviceOf(context);
  const out: Finding[] = [];
  config.routes.forEach((route, index) => {
    const target = parseRouteTarget(route.routeTo);
    if ('error' in target || target.kind !== 'host') return;
    const verdict = judge(target, service);
    if (!verdict) return;
    const pointer = `/routes/${index}/routeTo`;
    out.push(
      finding(
        {
          code: verdict.code,
          severity: verdict.severity,
          message: `"${route.sentTo}" is routed to ${route.routeTo}, ${verdict.why}.`,
          reference: verdict.reference,
          pointer,
        },
        pointer,
      ),
    );
  });
  return out;
};
