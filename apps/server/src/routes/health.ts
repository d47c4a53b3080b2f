/** GET /healthz: the process is up and its database answers. */

import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { routeOptions } from './route-options';

export default async function healthRoutes(app: FastifyInstance) {
  app.route({
    ...routeOptions(routes.health),
    config: { public: true },
    handler: async () => {
      app.checkDb();
      return { status: 'ok' as const };
    },
  });
}
