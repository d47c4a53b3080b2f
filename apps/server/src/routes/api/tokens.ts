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
    // Only a signed-in user mints tokens: a token cannot mint its successors.
    config: { sessionOnly: true },
    handler: async (request, reply) => {
      const actor = request.actor;
      if (!actor?.sessionId) throw new ProblemError('forbidden', 'Only a signed-in user may.');
      const sessionId = actor.sessionId;
      const { name, scope, expiresIn } = request.body;
      const created = app.audited(
        request,
        'token.created',
        (token) => ({
          target: `token:${token.name}`,
          details: {
            id: token.id,
            scope: token.scope,
            ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}),
          },
        }),
        () => app.auth.createToken(name, scope, actor.name, sessionId, expiresIn),
      );
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
      // Nothing to revoke: the change throws, so no entry is written.
      app.audited(
        request,
        'token.revoked',
        (token) => ({ target: `token:${token.name}`, details: { id: token.id } }),
        () => {
          const token = app.auth.revokeToken(request.params.id);
          if (!token)
            throw new ProblemError('not-found', `There is no token ${request.params.id}.`);
          return token;
        },
      );
      return reply.code(204).send(null);
    },
  });
}
