/** Sign in and out: POST / DELETE /api/v1/session, and GET for who is signed in. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { sessionCookie } from '../../plugins/app/authenticate';
import { isRefusal } from '../../plugins/app/sign-in-throttle';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

/** The largest sign-in body: a user name and a password fit in far less. */
export const SIGN_IN_BODY_LIMIT = 4096;

export default async function sessionRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.route({
    ...routeOptions(routes.signIn),
    // A user name and a password: a larger body is refused (413) before it is parsed.
    bodyLimit: SIGN_IN_BODY_LIMIT,
    config: { public: true },
    handler: async (request, reply) => {
      const { username, password } = request.body;
      const exists = app.auth.userExists(username);
      // Counted before the password is checked (sign-in-throttle.ts).
      const attempt = app.signInThrottle.begin(request.ip, exists ? username : undefined);
      if (isRefusal(attempt)) {
        reply.header('retry-after', attempt.retryAfterSeconds);
        throw new ProblemError(
          'too-many-requests',
          // One text whatever was locked: it must not tell which user names exist.
          `Too many failed sign-ins: try again in ${attempt.retryAfterSeconds} s.`,
          { retryAfter: attempt.retryAfterSeconds },
        );
      }
      const userId = await app.auth.checkPassword(username, password);
      if (userId === undefined) {
        // A mistyped password pasted into the user name must not land in the log.
        const actor = exists ? username : '(unknown user)';
        app.audited(request, 'login.failed', { actor });
        throw new ProblemError('login-failed');
      }
      app.signInThrottle.succeeded(attempt);
      const session = app.audited(request, 'login', { actor: username }, () =>
        app.auth.createSession(userId, {
          clientAddress: request.ip,
          userAgent: request.headers['user-agent'] ?? '',
        }),
      );
      const cookie = sessionCookie(request);
      reply.setCookie(cookie.name, session.id, { ...cookie.options, expires: session.expiresAt });
      return { user: { username }, csrfToken: session.csrfToken };
    },
  });

  app.route({
    ...routeOptions(routes.whoami),
    handler: async (request) => {
      const actor = request.actor;
      if (!actor) throw new ProblemError('unauthenticated');
      return {
        user: { username: actor.name },
        ...(actor.csrfToken ? { csrfToken: actor.csrfToken } : {}),
      };
    },
  });

  app.route({
    ...routeOptions(routes.signOut),
    handler: async (request, reply) => {
      const actor = request.actor;
      if (!actor?.sessionHash)
        throw new ProblemError('not-found', 'This request has no browser session.');
      const sessionHash = actor.sessionHash;
      app.audited(request, 'logout', {}, () => app.auth.deleteSession(sessionHash));
      const cookie = sessionCookie(request);
      reply.clearCookie(cookie.name, cookie.options);
      return reply.code(204).send(null);
    },
  });
}
