/**
 * POST /api/v1/service/relay-test: the open-relay self-test. Runs the battery
 * of @ims/relay-test against an SMTP node's listen address, from a loopback
 * source address, and reports every case. It sends real SMTP traffic (never
 * past RCPT TO), so it needs a write credential and is audited.
 */

import { networkInterfaces } from 'node:os';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type RelayTestCase, routes } from '@ims/api-contract';
import { isLoopback, runRelayTest } from '@ims/relay-test';
import {
  evaluate,
  formatReply,
  RESTRICTION_LABELS,
  type Reason,
  type RoutingConfig,
  replyFor,
} from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

/** `127.0.0.1:2525` or `[::1]:2525` → host and port; a wildcard becomes the loopback of its family. */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  if (!m?.[1] || !m[2]) return undefined;
  let host = m[1];
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return { host, port: Number(m[2]) };
}

const isV6 = (address: string) => address.includes(':');

export default async function relayTestRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  let running = false;

  app.route({
    ...routeOptions(routes.relayTest),
    // The body is optional: no body means the defaults.
    preValidation: async (request) => {
      request.body ??= {};
    },
    handler: async (request) => {
      const from = (request.body.from ?? '127.0.0.1').trim();
      if (!isLoopback(from)) {
        throw new ProblemError(
          'source-not-loopback',
          `The relay test runs from a loopback address (127.0.0.0/8 or ::1), not "${from}".`,
          { errors: [{ pointer: '/from', detail: 'Must be a loopback IP address.' }] },
        );
      }
      const nodes = app.serviceStatus.snapshot().nodes;
      const wanted = request.body.node;
      const node =
        wanted === undefined
          ? nodes.find((n) => n.online && n.listen.length > 0)
          : nodes.find((n) => n.id === wanted);
      if (wanted !== undefined && !node) {
        throw new ProblemError('not-found', `There is no node ${wanted}.`);
      }
      if (!node?.online) {
        throw new ProblemError(
          'conflict',
          node
            ? `Node ${node.name} is not online: there is no service to test.`
            : 'No SMTP node is online: there is no service to test.',
        );
      }
      const targets = node.listen.map(parseListen).filter((t) => t !== undefined);
      const target = targets.find((t) => isV6(t.host) === isV6(from)) ?? targets[0];
      if (!target) {
        throw new ProblemError('conflict', `Node ${node.name} reports no listen address.`);
      }
      if (isV6(target.host) !== isV6(from)) {
        throw new ProblemError(
          'source-not-loopback',
          `Node ${node.name} listens on ${node.listen.join(', ')}: test it from a loopback address of the same family.`,
          { errors: [{ pointer: '/from', detail: 'Not the address family the node listens on.' }] },
        );
      }
      // The test talks only to this machine: a node that listens elsewhere is
      // not reachable from a loopback source, and must not be a way out.
      if (!isLoopback(target.host) && !isThisMachine(target.host)) {
        throw new ProblemError(
          'conflict',
          `Node ${node.name} listens on ${target.host}, which is not this machine: run the relay test where that node runs.`,
        );
      }
      if (running) throw new ProblemError('conflict', 'A relay test is running already.');
      running = true;
      try {
        // The site domain of the configuration the node runs (the saved one before it reports).
        const version =
          (node.runningVersion === null
            ? undefined
            : app.routingVersions.get(node.runningVersion)) ?? app.routingVersions.current();
        const wire = await runRelayTest({
          host: target.host,
          port: target.port,
          from,
          siteDomain: version.config.siteDomain,
        });
        // The wire shows how the node treats one loopback source. The running
        // configuration tells how it treats the rest of the world too.
        const mayRelay = sourceMayRelay(version.config, from, target.host);
        const cases = [
          ...wire.cases.map((c) => wireCase(c, mayRelay !== undefined)),
          ...policyCases(version.config, from, target.host),
        ];
        const result = {
          ...wire,
          passed: cases.every((c) => c.passed),
          summary: summaryOf(cases, mayRelay !== undefined),
          ...(mayRelay === undefined ? {} : { sourceMayRelay: mayRelay }),
          cases,
        };
        app.audited(request, 'service.relay-test', {
          target: `node:${node.name}`,
          details: {
            from,
            target: `${target.host}:${target.port}`,
            runningVersion: node.runningVersion,
            passed: result.passed,
            failed: result.cases.filter((c) => !c.passed).map((c) => c.id),
          },
        });
        return result;
      } finally {
        running = false;
      }
    },
  });
}

/**
 * The decisions that let the source relay because of its own address (or
 * the address it connects to), and how each reads. An open relay (no
 * restriction ticked) is not among them: there every relay is a failure.
 */
const RELAY_REASONS: Partial<Record<Reason, string>> = {
  'relay-client-address': `it is on the list of "${RESTRICTION_LABELS.clientAddresses}"`,
  'relay-internal-address': `it connects to an address on the list of "${RESTRICTION_LABELS.internalAddresses}"`,
};

/**
 * Why the running configuration lets the test's own source address relay
 * (unauthenticated, to the server address the test connects to, by an
 * address rule), or undefined when it does not: then every relay attempt
 * from it must be refused.
 */
function sourceMayRelay(config: RoutingConfig, from: string, server: string): string | undefined {
  const d = evaluate(config, {
    clientIp: from,
    serverIp: server,
    authenticated: false,
    mailFrom: '<tester@relay-test.invalid>',
    rcptTo: '<victim@relay-test.invalid>',
  });
  const why = d.action === 'relay' ? RELAY_REASONS[d.reason] : undefined;
  if (why === undefined) return undefined;
  return `${from} may relay by the running configuration: ${why}. The attempts from it relay as configured and are not failures; the outside-client check tells whether anyone else could relay. Test from an address that may not relay (such as 127.0.0.2) to test the protection itself.`;
}

/** A wire case with whether it relayed; a relay from a source that may relay is as configured. */
function wireCase(c: Omit<RelayTestCase, 'relayed'>, mayRelay: boolean): RelayTestCase {
  const relayed = c.expected === 'reject' && /^2\d\d/.test(c.reply);
  return { ...c, relayed, passed: c.passed || (mayRelay && relayed) };
}

/** "2 of 21 cases relayed: percent-hack, ndr-relay." or "0 of 21 cases relayed." */
function summaryOf(cases: readonly RelayTestCase[], mayRelay: boolean): string {
  const relayed = cases.filter((c) => c.relayed);
  const failed = cases.filter((c) => !c.passed);
  const head = `${relayed.length} of ${cases.length} cases relayed`;
  const which = relayed.length > 0 ? `: ${relayed.map((c) => c.id).join(', ')}` : '';
  const note = mayRelay && relayed.length > 0 ? ' (the source address may relay)' : '';
  const rest =
    failed.length === 0
      ? 'every case as expected'
      : `${failed.length} not as expected: ${failed.map((c) => c.id).join(', ')}`;
  return `${head}${which}${note}. ${rest[0]?.toUpperCase()}${rest.slice(1)}.`;
}

/** TEST-NET-3 (RFC 5737): an address no allow list names, standing in for the Internet. */
const OUTSIDE = '203.0.113.1';

/**
 * Two checks against the running configuration, beside the wire test:
 * whether the source address is decided by an address rule (on the
 * never-route list every attempt is refused, whatever else is set: a
 * "passed" would say nothing), and whether an outside client connecting to
 * the same server address could relay.
 */
function policyCases(config: RoutingConfig, from: string, server: string): RelayTestCase[] {
  const attempt = (clientIp: string) =>
    evaluate(config, {
      clientIp,
      serverIp: server,
      authenticated: false,
      mailFrom: '<tester@relay-test.invalid>',
      rcptTo: '<victim@relay-test.invalid>',
    });
  const source = attempt(from);
  const outside = attempt(OUTSIDE);
  return [
    {
      id: 'source-never-route',
      family: 'policy',
      description:
        source.reason === 'never-route'
          ? `Inconclusive: ${from} is on the never-route list, so every attempt from it is refused whatever the other rules say. Test from an address that is not.`
          : `${from} is not on the never-route list: its answers reflect the relay rules.`,
      mailFrom: '<tester@relay-test.invalid>',
      rcptTo: '<victim@relay-test.invalid>',
      expected: 'reject',
      reply: `(running configuration) ${formatReply(replyFor(source))}`,
      relayed: false,
      passed: source.reason !== 'never-route',
    },
    {
      id: 'outside-client',
      family: 'policy',
      description: `An outside client (${OUTSIDE}) connecting to ${server}, unauthenticated, must not relay.`,
      mailFrom: '<tester@relay-test.invalid>',
      rcptTo: '<victim@relay-test.invalid>',
      expected: 'reject',
      reply: `(running configuration) ${formatReply(replyFor(outside))}${outside.action === 'relay' ? ` — allowed by ${outside.reason}` : ''}`,
      relayed: outside.action === 'relay',
      passed: outside.action !== 'relay',
    },
  ];
}

/** Whether an address is one of this machine's own (an interface address). */
function isThisMachine(host: string): boolean {
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((i) => i.address === host),
  );
}
