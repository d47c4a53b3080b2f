/**
 * The SMTP service: node registry, status, restart signalling, live events
 * for browsers, and the node attach API (DESIGN.md §3 "Restart", §4).
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  IdParamsSchema,
  NodeBundleQuerySchema,
  NodeBundleSchema,
  NodeCreateBodySchema,
  NodeCreatedSchema,
  NodeListSchema,
  NodeStatusBodySchema,
  ProblemSchema,
  RestartResultSchema,
  ServiceSchema,
} from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ProblemError } from '../../problems/problem-error';

const sse = { 200: Type.String({ description: 'text/event-stream' }) };

export default async function serviceRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const connected = (id: number) => app.nodeEvents.isConnected(id);

  const targetVersion = () => app.nodes.target()?.version ?? app.routingVersions.current().version;

  const snapshot = () => app.serviceStatus.snapshot();
  const pushStatus = () => app.serviceStatus.push();

  // ---- Registry (administrators) ----

  app.post(
    '/api/v1/nodes',
    {
      schema: {
        tags: ['service'],
        summary: 'Register an SMTP node; its token is in this answer only',
        body: NodeCreateBodySchema,
        response: {
          201: NodeCreatedSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
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
  );

  app.get(
    '/api/v1/nodes',
    {
      schema: {
        tags: ['service'],
        summary: 'Registered SMTP nodes',
        response: { 200: NodeListSchema, 401: ProblemSchema },
      },
    },
    async () => ({ nodes: app.nodes.list(connected) }),
  );

  app.delete(
    '/api/v1/nodes/:id',
    {
      schema: {
        tags: ['service'],
        summary: 'Deregister an SMTP node (its token stops working)',
        params: IdParamsSchema,
        response: {
          204: Type.Null(),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const node = app.nodes.get(request.params.id, false);
      if (!node) throw new ProblemError('not-found', `There is no node ${request.params.id}.`);
      app.audited(request, 'node.removed', { target: `node:${node.name}` }, () => {
        app.nodes.remove(node.id);
        app.nodeEvents.detachNode(node.id);
      });
      pushStatus();
      return reply.code(204).send(null);
    },
  );

  // ---- Status and restart ----

  app.get(
    '/api/v1/service',
    {
      schema: {
        tags: ['service'],
        summary: 'Saved version, pending restart, and every node',
        response: { 200: ServiceSchema, 401: ProblemSchema },
      },
    },
    async () => snapshot(),
  );

  app.post(
    '/api/v1/service/restart',
    {
      schema: {
        tags: ['service'],
        summary: 'Restart the Internet Mail Service: every node applies the saved version',
        response: { 202: RestartResultSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    async (request, reply) => {
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
      const signalled = app.nodeEvents.publishToNodes('restart', { version });
      pushStatus();
      return reply.code(202).send({ version, coalesced: false, signalled });
    },
  );

  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['service'],
        summary: 'Live service status for browsers (server-sent events: `service`)',
        response: { ...sse, 401: ProblemSchema },
      },
    },
    async (_request, reply) => {
      reply.hijack();
      app.nodeEvents.attachBrowser(reply.raw, { type: 'service', data: snapshot() });
    },
  );

  // ---- Node attach API (node tokens only) ----

  app.get(
    '/api/v1/node/bundle',
    {
      schema: {
        tags: ['node'],
        security: [{ node: [] }],
        summary:
          'A configuration version with the directory, for a node (default: the version nodes were last told to run)',
        querystring: NodeBundleQuerySchema,
        response: {
          200: NodeBundleSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      // DESIGN.md §4: the saved version when none is asked for. `targetVersion`
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
  );

  app.get(
    '/api/v1/node/events',
    {
      schema: {
        tags: ['node'],
        security: [{ node: [] }],
        summary: 'Signals for a node (server-sent events: restart, directory, heartbeat)',
        response: { ...sse, 401: ProblemSchema },
      },
    },
    async (request, reply) => {
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
        app.nodeEvents.publishToNode(node.id, 'restart', { version: target.version });
      }
      pushStatus();
    },
  );

  app.put(
    '/api/v1/node/status',
    {
      schema: {
        tags: ['node'],
        security: [{ node: [] }],
        summary: 'A node reports the version it runs and its state',
        body: NodeStatusBodySchema,
        response: { 204: Type.Null(), 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request, reply) => {
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
  );
}
