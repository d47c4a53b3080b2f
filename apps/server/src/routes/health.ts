/** GET /healthz: the process is up and its database answers. */

import { HealthSchema, ProblemSchema } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance) {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Health',
        security: [],
        response: { 200: HealthSchema, 500: ProblemSchema },
      },
    },
    async () => {
      app.checkDb();
      return { status: 'ok' as const };
    },
  );
}
