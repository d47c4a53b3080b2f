/**
 * Impact preview (issue 14 §2): `POST /api/v1/routing/impact` with a draft
 * answers what it would change for the traffic the nodes recorded. The
 * console keeps no records of its own: it asks every online node for its
 * decision records (`traffic.records`, over the node's event stream, page by
 * page), so a console restart loses nothing a node still has. Each node's
 * records are judged by routing-core's impact(): `before` with the version
 * that node runs, `after` with the draft; the nodes' rows are then summed.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes, TRAFFIC_PAGE_LIMIT, type TrafficRecordWire } from '@ims/api-contract';
import { type Impact, impact, mergeImpacts, validate } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

/** Pages read from one node at most (the node keeps 100k keys by default: 20 pages). */
const MAX_PAGES = 100;

export default async function impactRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const connected = (id: number) => app.nodeEvents.isConnected(id);

  /** Every record of one node, and since when it has them. */
  const recordsOf = async (node: { id: number; name: string }) => {
    const records: TrafficRecordWire[] = [];
    let since: string | undefined;
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await app.nodeRequests.ask(node, 'traffic.records', {
        limit: TRAFFIC_PAGE_LIMIT,
        ...(after === undefined ? {} : { after }),
      });
      since ??= result.since;
      records.push(...result.records);
      after = result.next;
      if (after === undefined) break;
    }
    return { since, records };
  };

  app.route({
    ...routeOptions(routes.impact),
    config: { readOnly: true },
    handler: async (request) => {
      const checked = validate(request.body.config);
      if (!checked.ok) {
        throw new ProblemError(
          'policy-invalid',
          `The configuration has ${checked.errors.length} error(s).`,
          {
            errors: checked.errors.map((e) => ({
              pointer: `/config${e.pointer}`,
              detail: e.message,
            })),
          },
        );
      }
      const draft = checked.config;
      const all = app.nodes.list(connected);
      const online = all.filter((n) => connected(n.id) && n.runningVersion !== null);
      if (all.length > 0 && online.length === 0) {
        throw new ProblemError(
          'node-offline',
          `No node is online and running a version (${all.map((n) => n.name).join(', ')}): their records cannot be read.`,
        );
      }
      const directory = app.directory.bundleEntries().map((e) => e.address);
      const perNode = await Promise.all(
        online.map(async (n) => {
          const { since, records } = await recordsOf(n);
          const running = app.routingVersions.get(n.runningVersion as number);
          if (!running) {
            throw new ProblemError(
              'conflict',
              `The node ${n.name} runs version ${n.runningVersion}, which this console does not have.`,
            );
          }
          return { since, impact: impact(running.config, draft, records, directory) };
        }),
      );
      const sinces = perNode.map((p) => p.since).filter((s): s is string => s !== undefined);
      const merged: Impact = mergeImpacts(perNode.map((p) => p.impact));
      return {
        since: sinces.sort()[0] ?? new Date().toISOString(),
        transactions: merged.transactions,
        changes: merged.changes,
      };
    },
  });
}
