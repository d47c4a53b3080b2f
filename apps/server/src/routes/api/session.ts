/** Sign in and out: POST / DELETE /api/v1/session, and GET for who is signed in. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { SESSION_COOKIE } from '../../plugins/app/authenticate';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

/** Failed sign-ins allowed per client address in a window before it must wait. */
export const MAX_FAILED_LOGINS = 5;
const WINDOW_MS = 15 * 60 * 1000;
/** The largest sign-in body: a user name and a password fit in far less. */
export const SIGN_IN_BODY_LIMIT = 4096;

export default async function sessionRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const failures = new Map<string, { count: number; resetAt: number }>();

  app.route({
    ...routeOptions(routes.signIn),
    // A user name and a password: a larger body is refused (413) before it is parsed.
    bodyLimit: SIGN_IN_BODY_LIMIT,
    config: { public: true },
    handler: async (request, reply) => {
      const now = Date.now();
      if (failures.size > 10_000) {
        for (const [ip, entry] of failures) if (entry.resetAt <= now) failures.delete(ip);
      }
      let f = failures.get(request.ip);
      if (f && f.resetAt <= now) {
        failures.delete(request.ip);
        f = undefined;
      }
      if (f && f.count >= MAX_FAILED_LOGINS) {
        reply.header('retry-after', Math.ceil((f.resetAt - now) / 1000));
        throw new ProblemError(
          'too-many-requests',
          'Too many failed sign-ins from this address: wait and try again.',
        );
      }
      // Count the attempt before checking it, so a burst of parallel attempts
      // cannot all pass the limit while their password checks run.
      f = f ?? { count: 0, resetAt: now + WINDOW_MS };
      f.count++;
      failures.set(request.ip, f);
      const { username, password } = request.body;
      const userId = await app.auth.checkPassword(username, password);
      if (userId === undefined) {
        // A mistyped password pasted into the user name must not land in the log.
        const actor = app.auth.userExists(username) ? username : '(unknown user)';
        app.audited(request, 'login.failed', { actor });
        throw new ProblemError('login-failed');
      }
      failures.delete(request.ip);
      const session = app.audited(request, 'login', { actor: username }, () =>
        app.auth.createSession(userId, {
          clientAddress: request.ip,
          userAgent: request.headers['user-agent'] ?? '',
        }),
      );
      reply.setCookie(SESSION_COOKIE, session.id, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        expires: session.expiresAt,
      });
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
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  });
}
