/**
 * The Queues tab (issue 17 §4): the nodes' outbound queues, and retry now and
 * delete on one message. Every node is asked over the event stream it opened
 * (plugins/app/node-requests.ts); this file also takes the nodes' answers.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type QueuedMessage, routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

/** The largest answer a node may send (a queue listing of LIST_LIMIT messages fits well). */
export const NODE_ANSWER_BODY_LIMIT = 4 * 1024 * 1024;

/** What the audit log keeps of a queued message a write acted on. */
function auditDetails(node: string, message: QueuedMessage) {
  const { id, from, recipients, attempts, lastError } = message;
  return { node, id, from, recipients, attempts, lastError };
}

export default async function queueRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const connected = (id: number) => app.nodeEvents.isConnected(id);

  /** A registered node by name, or 404. */
  const nodeNamed = (name: string) => {
    const found = app.nodes.byName(name);
    if (!found) throw new ProblemError('not-found', `There is no node named ${name}.`);
    return { id: found.id, name };
  };

  app.route({
    ...routeOptions(routes.queue),
    handler: async () => {
      const all = app.nodes.list(connected);
      const online = all.filter((n) => connected(n.id));
      if (all.length > 0 && online.length === 0) {
        throw new ProblemError(
          'node-offline',
          `No node is online (${all.map((n) => n.name).join(', ')}): their queues cannot be read.`,
        );
      }
      const nodes = await Promise.all(
        online.map(async (n) => {
          const { messages } = await app.nodeRequests.ask(n, 'queue.list', {});
          return { name: n.name, messages };
        }),
      );
      return { nodes };
    },
  });

  app.route({
    ...routeOptions(routes.queueRetry),
    handler: async (request, reply) => {
      const node = nodeNamed(request.params.node);
      const { message } = await app.nodeRequests.ask(node, 'queue.retry', {
        id: request.params.id,
      });
      app.audited(request, 'queue.retried', {
        target: `queue:${node.name}/${message.id}`,
        details: auditDetails(node.name, message),
      });
      return reply.code(204).send(null);
    },
  });

  app.route({
    ...routeOptions(routes.queueDelete),
    handler: async (request, reply) => {
      const node = nodeNamed(request.params.node);
      const ndr = request.query.ndr === true;
      const { message, ndrSent } = await app.nodeRequests.ask(node, 'queue.delete', {
        id: request.params.id,
        ndr,
      });
      app.audited(request, 'queue.deleted', {
        target: `queue:${node.name}/${message.id}`,
        details: { ...auditDetails(node.name, message), size: message.size, ndr, ndrSent },
      });
      return reply.code(204).send(null);
    },
  });

  // ---- A node's answer (node tokens only) ----

  app.route({
    ...routeOptions(routes.nodeAnswer),
    bodyLimit: NODE_ANSWER_BODY_LIMIT,
    handler: async (request, reply) => {
      const node = request.node!;
      // An unknown id, one answered already, timed out, or sent to another
      // node: all look the same, so a node learns nothing of others' requests.
      if (app.nodeRequests.answer(node.id, request.params.id, request.body) === 'unknown') {
        throw new ProblemError(
          'not-found',
          `No request ${request.params.id} waits for this node's answer.`,
        );
      }
      app.nodes.seen(node.id);
      return reply.code(204).send(null);
    },
  });
}
