/** API tokens for scripts: create (shown once), list, revoke. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ProblemSchema, routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

const _errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema };

export default async function tokenRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.route({
    ...routeOptions(routes.createToken),
    handler: async (request, reply) => {
      const actor = request.actor!;
      const created = app.db.transaction(() => {
        const token = app.auth.createToken(request.body.name, request.body.scope, actor.name);
        app.audit.record({
          actor: actor.name,
          source: request.ip,
          action: 'token.created',
          target: `token:${token.name}`,
          details: { id: token.id, scope: token.scope },
        });
        return token;
      })();
      return reply.code(201).send(created);
    },
  });

  app.route({
    ...routeOptions(routes.listTokens),
    handler: async () => ({ tokens: app.auth.listTokens() }),
  });

  app.route({
    ...routeOptions(routes.revokeToken),
    handler: async (request, reply) => {
      const actor = request.actor!;
      const revoked = app.db.transaction(() => {
        const token = app.auth.revokeToken(request.params.id);
        if (token) {
          app.audit.record({
            actor: actor.name,
            source: request.ip,
            action: 'token.revoked',
            target: `token:${token.name}`,
            details: { id: token.id },
          });
        }
        return token;
      })();
      if (!revoked) throw new ProblemError('not-found', `There is no token ${request.params.id}.`);
      return reply.code(204).send(null);
    },
  });
}
