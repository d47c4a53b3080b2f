/** GET /api/v1/audit: the append-only log, newest first, paged and filterable. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { routeOptions } from '../route-options';

export default async function auditRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.route({
    ...routeOptions(routes.audit),
    handler: async (request) => {
      const { limit = 50, before, action, actor, signIns } = request.query;
      const entries = app.audit.list({
        limit,
        ...(before === undefined ? {} : { before }),
        ...(action === undefined ? {} : { action }),
        ...(actor === undefined ? {} : { actor }),
        ...(signIns === undefined ? {} : { signIns }),
      });
      const last = entries.at(-1);
      return entries.length === limit && last ? { entries, nextBefore: last.id } : { entries };
    },
  });
}
