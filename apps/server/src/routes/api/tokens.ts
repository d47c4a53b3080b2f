/** API tokens for scripts: create (shown once), list, revoke. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  IdParamsSchema,
  ProblemSchema,
  TokenCreateBodySchema,
  TokenCreatedSchema,
  TokenListSchema,
} from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ProblemError } from '../../problems/problem-error';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema };

export default async function tokenRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token (the secret is in this answer only)',
        body: TokenCreateBodySchema,
        response: { 201: TokenCreatedSchema, ...errors },
      },
    },
    async (request, reply) => {
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
  );

  app.get(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'List API tokens (never their secrets)',
        response: { 200: TokenListSchema, 401: ProblemSchema },
      },
    },
    async () => ({ tokens: app.auth.listTokens() }),
  );

  app.delete(
    '/api/v1/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token',
        params: IdParamsSchema,
        response: { 204: Type.Null(), 404: ProblemSchema, ...errors },
      },
    },
    async (request, reply) => {
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
  );
}
