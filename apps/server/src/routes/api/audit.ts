/** GET /api/v1/audit: the append-only log, newest first, paged and filterable. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AuditPageSchema, AuditQuerySchema, ProblemSchema } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';

export default async function auditRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit log, newest first; page with `before`',
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request) => {
      const { limit = 50, before, action, actor } = request.query;
      const entries = app.audit.list({
        limit,
        ...(before === undefined ? {} : { before }),
        ...(action === undefined ? {} : { action }),
        ...(actor === undefined ? {} : { actor }),
      });
      const last = entries.at(-1);
      return entries.length === limit && last ? { entries, nextBefore: last.id } : { entries };
    },
  );
}
