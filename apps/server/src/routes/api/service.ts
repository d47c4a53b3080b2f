/**
 * The SMTP service: node registry, status, restart signalling, live events
 * for browsers, and the node attach API (docs/design.md §3 "Restart", §4).
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

export default async function serviceRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const connected = (id: number) => app.nodeEvents.isConnected(id);

  const targetVersion = () => app.nodes.target()?.version ?? app.routingVersions.current().version;

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
    handler: async (request, reply) => {
      const actor = request.actor!;
      const version = app.routingVersions.current().version;
      const before = snapshot();
      if (before.targetVersion === version && before.restartInProgress) {
        return reply.code(202).send({ version, coalesced: true, signalled: 0 });
      }
      app.audited(
        request,
        'service.restart',
        { target: `routing:v${version}`, details: { from: before.targetVersion, to: version } },
        () => app.nodes.setTarget(version, actor.name),
      );
      app.serviceStatus.signalled(app.nodeEvents.connectedNodes(), version);
      const signalled = app.nodeEvents.publishToNodes('restart', { version });
      pushStatus();
      return reply.code(202).send({ version, coalesced: false, signalled });
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
        targetVersion: targetVersion(),
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
        pushStatus();
      });
      // A node that missed a restart while it was away gets it now. (A node
      // that has not reported yet is starting: it loads the target version.)
      const target = app.nodes.target();
      const view = app.nodes.get(node.id, true);
      if (target && view && view.runningVersion !== null && view.runningVersion < target.version) {
        app.serviceStatus.signalled([node.id], target.version);
        app.nodeEvents.publishToNode(node.id, 'restart', { version: target.version });
      }
      pushStatus();
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
      pushStatus();
      return reply.code(204).send(null);
    },
  });
}
