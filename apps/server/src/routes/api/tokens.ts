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
      const created = app.audited(
        request,
        'token.created',
        (token) => ({
          target: `token:${token.name}`,
          details: { id: token.id, scope: token.scope },
        }),
        () => app.auth.createToken(request.body.name, request.body.scope, actor.name),
      );
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
  );
}
