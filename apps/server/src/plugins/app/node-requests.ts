/**
 * Requests from the console to a node, over the event stream the node opened
 * (nodes may sit behind NAT: the console never connects to them). The console
 * sends `request { id, method, params }` on the node's stream; the node
 * answers with `PUT /api/v1/node/requests/{id}`; the caller waits for that
 * answer, with a timeout.
 *
 * Bounded: a node has at most `maxPendingPerNode` requests waiting (more is a
 * 503); each waits at most `timeoutMs` (then 504); an answer counts only from
 * the node the request was sent to, and only once.
 */

import { randomUUID } from 'node:crypto';
import {
  type NodeAnswerBody,
  type NodeRequestMethod,
  type NodeResult,
  NodeResultSchemas,
} from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Value } from 'typebox/value';
import { ProblemError } from '../../problems/problem-error';

export interface NodeRequestsOptions {
  /** How long the console waits for a node's answer (default 10 s). */
  requestTimeoutMs?: number;
  /** Requests waiting for one node's answer at once (default 16). */
  maxPendingPerNode?: number;
}

interface Pending {
  nodeId: number;
  method: NodeRequestMethod;
  resolve: (answer: NodeAnswerBody) => void;
}

/** How an answer was taken: `answered`, or `unknown` (no such request of this node waits). */
export type AnswerOutcome = 'answered' | 'unknown';

export function nodeRequests(
  events: Pick<FastifyInstance['nodeEvents'], 'publishToNode' | 'isConnected'>,
  opts: NodeRequestsOptions = {},
) {
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const maxPending = opts.maxPendingPerNode ?? 16;
  const pending = new Map<string, Pending>();
  const perNode = new Map<number, number>();

  const release = (id: string) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    const n = (perNode.get(p.nodeId) ?? 1) - 1;
    if (n <= 0) perNode.delete(p.nodeId);
    else perNode.set(p.nodeId, n);
  };

  return {
    /**
     * Sends a request to a node and resolves with its result. Throws a
     * ProblemError: `node-offline` (503) when the node has no event stream
     * open, `node-busy` (503) when too many requests wait for it,
     * `node-timeout` (504) when it does not answer in time, `not-found`
     * (404) or `validation-failed` (400) when it says so, and `node-failed`
     * (502) for any other failure or an answer that is not the method's.
     */
    async ask<M extends NodeRequestMethod>(
      node: { id: number; name: string },
      method: M,
      params: Record<string, unknown>,
    ): Promise<NodeResult<M>> {
      if (!events.isConnected(node.id)) {
        throw new ProblemError(
          'node-offline',
          `The node ${node.name} is offline: it has no event stream open.`,
        );
      }
      const waiting = perNode.get(node.id) ?? 0;
      if (waiting >= maxPending) {
        throw new ProblemError(
          'node-busy',
          `The node ${node.name} has ${waiting} requests waiting for an answer; try again shortly.`,
        );
      }
      const id = randomUUID();
      let timer: NodeJS.Timeout | undefined;
      const answer = await new Promise<NodeAnswerBody | undefined>((resolve) => {
        pending.set(id, { nodeId: node.id, method, resolve });
        perNode.set(node.id, waiting + 1);
        timer = setTimeout(() => resolve(undefined), timeoutMs);
        timer.unref();
        if (!events.publishToNode(node.id, 'request', { id, method, params })) resolve(undefined);
      }).finally(() => {
        clearTimeout(timer);
        release(id);
      });
      if (answer === undefined) {
        throw new ProblemError(
          'node-timeout',
          `The node ${node.name} did not answer within ${Math.round(timeoutMs / 1000)} s.`,
        );
      }
      if (!answer.ok) {
        const { code, message } = answer.error;
        const detail = `${node.name}: ${message}`;
        if (code === 'not-found') throw new ProblemError('not-found', detail);
        if (code === 'bad-request')
          throw new ProblemError('validation-failed', detail, { errors: [] });
        throw new ProblemError('node-failed', detail);
      }
      const schema = NodeResultSchemas[method];
      if (!Value.Check(schema, answer.result)) {
        throw new ProblemError(
          'node-failed',
          `The node ${node.name} answered ${method} with something else.`,
        );
      }
      return answer.result as NodeResult<M>;
    },

    /** A node's answer: taken only for a request sent to that node and still waiting. */
    answer(nodeId: number, requestId: string, body: NodeAnswerBody): AnswerOutcome {
      const p = pending.get(requestId);
      if (!p || p.nodeId !== nodeId) return 'unknown';
      release(requestId);
      p.resolve(body);
      return 'answered';
    },

    /** Requests waiting for an answer from a node (tests, metrics). */
    waiting(nodeId: number): number {
      return perNode.get(nodeId) ?? 0;
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    nodeRequests: ReturnType<typeof nodeRequests>;
  }
}

export default fp(
  async (app: FastifyInstance, opts: NodeRequestsOptions) => {
    app.decorate('nodeRequests', nodeRequests(app.nodeEvents, opts));
  },
  { name: 'node-requests', dependencies: ['node-events'] },
);
