/**
 * The SMTP service: node registry, status, restart signalling, live events
 * for browsers, and the node attach API (docs/design.md §3 "Restart", §4).
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import { diffConfigs } from '@ims/routing-core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NodeView } from '../../plugins/app/nodes-repository';
import { defaultOrder } from '../../plugins/app/rollout-state';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

export default async function serviceRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const connected = (id: number) => app.nodeEvents.isConnected(id);

  const targetVersion = () => app.nodes.target()?.version ?? app.routingVersions.current().version;
  /** The version one node is to run: its own (a rolling restart) or the fleet's. */
  const targetOf = (nodeId: number) => app.nodes.pins().get(nodeId) ?? targetVersion();

  /**
   * The version the fleet runs before a rollout to `version`: what every
   * online node runs when they agree, else the version they were last told
   * to run. Going on with a rollout to the same version keeps its "before".
   */
  const fleetVersion = (nodes: readonly NodeView[], version: number): number => {
    const latest = app.rollout.record();
    if (latest && latest.rollout.version === version && latest.rollout.state !== 'done') {
      return latest.fromVersion;
    }
    const running = new Set(
      nodes.filter((n) => n.online && n.runningVersion !== null).map((n) => n.runningVersion),
    );
    const [only] = running;
    return running.size === 1 && only !== null && only !== undefined ? only : targetVersion();
  };

  /** Every node onto `version` at once (today's restart); returns how many were reached. */
  const restartAll = (version: number, fromVersion: number): number => {
    app.nodes.unpin();
    const online = app.nodes.list(connected).filter((n) => n.online);
    // Every online node counts as signalled (one not connected right now gets
    // the signal when it re-attaches): an error it has now is not its answer.
    app.serviceStatus.signalled(
      [...new Set([...app.nodeEvents.connectedNodes(), ...online.map((n) => n.id)])],
      version,
    );
    const signalled = app.nodeEvents.publishToNodes('restart', { version });
    app.rollout.start(
      version,
      'all',
      online.map((n) => n.name),
      fromVersion,
    );
    return signalled;
  };

  /** Pins every node at the version it was to run, then signals the first of `order`. */
  const restartRolling = (version: number, order: string[], fromVersion: number) => {
    const pins = app.nodes.pins();
    for (const n of app.nodes.list(connected)) {
      if (!pins.has(n.id)) app.nodes.pin(n.id, fromVersionOf(n, fromVersion));
    }
    app.rollout.start(version, 'rolling', order, fromVersion);
  };
  const fromVersionOf = (n: NodeView, fromVersion: number) =>
    n.runningVersion !== null && n.runningVersion !== undefined ? n.runningVersion : fromVersion;

  const audit = (request: FastifyRequest, version: number, from: number, details: object) =>
    app.audited(
      request,
      'service.restart',
      { target: `routing:v${version}`, details: { from, to: version, ...details } },
      () => app.nodes.setTarget(version, request.actor!.name),
    );

  const snapshot = () => app.serviceStatus.snapshot();
  const pushStatus = () => app.serviceStatus.push();

  // ---- Registry (administrators) ----

  app.route({
    ...routeOptions(routes.registerNode),
    // A node token is a credential: only a signed-in user mints one.
    config: { sessionOnly: true },
    handler: async (request, reply) => {
      if (app.nodes.byName(request.body.name)) {
        throw new ProblemError(
          'conflict',
          `A node named ${request.body.name} is registered already.`,
        );
      }
      const node = app.audited(
        request,
        'node.registered',
        (created) => ({ target: `node:${created.name}` }),
        () => app.nodes.register(request.body.name),
      );
      pushStatus();
      return reply.code(201).send(node);
    },
  });

  app.route({
    ...routeOptions(routes.listNodes),
    handler: async () => ({ nodes: app.nodes.list(connected) }),
  });

  app.route({
    ...routeOptions(routes.removeNode),
    handler: async (request, reply) => {
      const node = app.nodes.get(request.params.id, false);
      if (!node) throw new ProblemError('not-found', `There is no node ${request.params.id}.`);
      app.audited(request, 'node.removed', { target: `node:${node.name}` }, () => {
        app.nodes.remove(node.id);
        app.nodeEvents.detachNode(node.id);
      });
      pushStatus();
      return reply.code(204).send(null);
    },
  });

  // ---- Status and restart ----

  app.route({
    ...routeOptions(routes.service),
    handler: async () => snapshot(),
  });

  app.route({
    ...routeOptions(routes.restart),
    // The body is optional: no body is today's restart, every node at once.
    preValidation: async (request) => {
      request.body ??= {};
    },
    handler: async (request, reply) => {
      const strategy = request.body?.strategy ?? 'all';
      const version = app.routingVersions.current().version;
      const before = snapshot();
      const running = app.rollout.current();
      if (running?.state === 'running' && running.strategy === 'rolling') {
        if (strategy === 'rolling' && running.version === version) {
          return reply.code(202).send({ version, coalesced: true, signalled: 0 });
        }
        throw new ProblemError(
          'conflict',
          `A rolling restart to version ${running.version} is under way; wait for it to finish or halt.`,
        );
      }
      if (strategy === 'all') {
        if (request.body?.order !== undefined) {
          throw new ProblemError('validation-failed', 'An order is for a rolling restart.', {
            errors: [{ pointer: '/order', detail: 'Only with "strategy": "rolling".' }],
          });
        }
        if (before.targetVersion === version && before.restartInProgress) {
          return reply.code(202).send({ version, coalesced: true, signalled: 0 });
        }
        const from = fleetVersion(before.nodes, version);
        audit(request, version, before.targetVersion, { strategy });
        const signalled = restartAll(version, from);
        pushStatus();
        return reply.code(202).send({ version, coalesced: false, signalled });
      }
      const order = request.body?.order ?? defaultOrder(before.nodes);
      const unknown = order.flatMap((name, i) =>
        before.nodes.some((n) => n.name === name)
          ? []
          : [{ pointer: `/order/${i}`, detail: `There is no node named ${name}.` }],
      );
      if (unknown.length > 0 || order.length === 0) {
        throw new ProblemError('validation-failed', 'The order must name registered nodes.', {
          errors:
            unknown.length > 0 ? unknown : [{ pointer: '/order', detail: 'No node to restart.' }],
        });
      }
      const from = fleetVersion(before.nodes, version);
      audit(request, version, before.targetVersion, { strategy, order });
      restartRolling(version, order, from);
      pushStatus();
      return reply.code(202).send({ version, coalesced: false, signalled: 1 });
    },
  });

  app.route({
    ...routeOptions(routes.rollback),
    handler: async (request, reply) => {
      const latest = app.rollout.record();
      if (!latest) {
        throw new ProblemError('conflict', 'There is no restart to roll back.');
      }
      const source = app.routingVersions.get(latest.fromVersion);
      if (!source) {
        throw new ProblemError('conflict', `Version ${latest.fromVersion} is not saved.`);
      }
      const actor = request.actor!;
      const moved = latest.rollout.version;
      // One transaction: the new version (a copy of the one the fleet ran
      // before), the fleet's new target, and the audit entry.
      const saved = app.audited(
        request,
        'routing.rolled-back',
        ({ before, saved: v }) => ({
          target: `routing:v${v.version}`,
          details: {
            from: before.version,
            to: v.version,
            restoredFrom: source.version,
            rolledBack: moved,
            changes: diffConfigs(before.config, v.config),
          },
        }),
        () => {
          const before = app.routingVersions.current();
          const v = app.routingVersions.save(source.config, before.version, actor.name, {
            comment: `Rolled back to version ${source.version}`,
            restoredFrom: source.version,
          });
          app.nodes.setTarget(v.version, actor.name);
          return { before, saved: v };
        },
      ).saved;
      const signalled = restartAll(saved.version, moved);
      pushStatus();
      return reply
        .code(202)
        .send({ version: saved.version, restoredFrom: source.version, signalled });
    },
  });

  app.route({
    ...routeOptions(routes.events),
    handler: async (_request, reply) => {
      reply.hijack();
      app.nodeEvents.attachBrowser(reply.raw, { type: 'service', data: snapshot() });
    },
  });

  // ---- Node attach API (node tokens only) ----

  app.route({
    ...routeOptions(routes.nodeBundle),
    handler: async (request) => {
      // docs/design.md §4: the saved version when none is asked for. `targetVersion`
      // says which one the nodes were last told to run: a node starting up
      // runs that one, so it never applies a save nobody restarted for.
      const wanted = request.query.version ?? app.routingVersions.current().version;
      const v = app.routingVersions.get(wanted);
      if (!v) throw new ProblemError('not-found', `There is no version ${wanted}.`);
      app.nodes.seen(request.node!.id);
      return {
        version: v.version,
        config: v.config,
        directory: app.directory.bundleEntries(),
        issuedAt: new Date().toISOString(),
        targetVersion: targetOf(request.node!.id),
      };
    },
  });

  app.route({
    ...routeOptions(routes.nodeEvents),
    handler: async (request, reply) => {
      const node = request.node!;
      reply.hijack();
      app.nodes.seen(node.id);
      app.nodeEvents.attachNode(node.id, reply.raw, () => {
        app.nodes.seen(node.id);
        if (!app.rollout.advance()) pushStatus();
      });
      // A node that missed a restart while it was away gets it now. (A node
      // that has not reported yet is starting: it loads the target version.)
      const target = app.nodes.target() === undefined ? undefined : targetOf(node.id);
      const view = app.nodes.get(node.id, true);
      if (target && view && view.runningVersion !== null && view.runningVersion < target) {
        app.serviceStatus.signalled([node.id], target);
        app.nodeEvents.publishToNode(node.id, 'restart', { version: target });
      }
      if (!app.rollout.advance()) pushStatus();
    },
  });

  app.route({
    ...routeOptions(routes.nodeStatus),
    handler: async (request, reply) => {
      const node = request.node!;
      const before = app.nodes.get(node.id, connected(node.id));
      const status = request.body;
      if (status.runningVersion !== null && !app.routingVersions.get(status.runningVersion)) {
        throw new ProblemError(
          'validation-failed',
          `There is no version ${status.runningVersion}.`,
          {
            errors: [{ pointer: '/runningVersion', detail: 'Not a saved configuration version.' }],
          },
        );
      }
      const failed = status.state === 'error' && before?.lastError !== (status.lastError ?? null);
      const attached = before?.state === 'registered' || before?.state === 'offline';
      if (failed || attached) {
        // The actor is the node (the request's).
        app.audited(
          request,
          failed ? 'node.failed' : 'node.attached',
          {
            target: `node:${node.name}`,
            details: {
              runningVersion: status.runningVersion,
              ...(failed ? { error: status.lastError } : {}),
            },
          },
          () => app.nodes.report(node.id, status),
        );
      } else {
        app.nodes.report(node.id, status);
      }
      // A rolling restart waits for exactly this: the node's answer.
      if (!app.rollout.advance()) pushStatus();
      return reply.code(204).send(null);
    },
  });
}
