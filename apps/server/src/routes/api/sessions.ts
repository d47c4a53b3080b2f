/**
 * A user's own password and sessions: PUT /api/v1/session/password (a
 * signed-in user, with the current password; every other session of the user
 * is signed out), GET /api/v1/sessions and DELETE /api/v1/sessions/:id.
 *
 * Tokens and sessions: a token records the session it was created in.
 * Revoking a session (here, or by a password change) revokes those tokens
 * too, so a session an administrator does not recognise leaves nothing it
 * minted behind. Signing out (DELETE /api/v1/session) ends the session only:
 * that is how `ims login` keeps its token after signing in with the password.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

/** Wrong current passwords a session may send before it must sign in again. */
export const MAX_WRONG_CURRENT_PASSWORDS = 5;

export default async function sessionsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  /** Wrong current passwords per session: a stolen cookie cannot guess the password here. */
  const wrong = new Map<string, number>();

  app.route({
    ...routeOptions(routes.changePassword),
    bodyLimit: 4096,
    config: { sessionOnly: true },
    handler: async (request) => {
      const actor = request.actor;
      if (!actor?.sessionHash || actor.userId === undefined) {
        throw new ProblemError('forbidden', 'Only a signed-in user may change the password.');
      }
      const { sessionHash, userId } = actor;
      const misses = wrong.get(sessionHash) ?? 0;
      if (misses >= MAX_WRONG_CURRENT_PASSWORDS) {
        throw new ProblemError(
          'too-many-requests',
          'Too many wrong current passwords in this session: sign in again.',
        );
      }
      const { currentPassword, newPassword } = request.body;
      if (newPassword === currentPassword) {
        throw new ProblemError('validation-failed', 'The new password is the current one.', {
          errors: [{ pointer: '/newPassword', detail: 'must differ from the current password' }],
        });
      }
      // Counted before the check, so parallel guesses cannot all pass the limit.
      wrong.set(sessionHash, misses + 1);
      if ((await app.auth.checkPassword(actor.name, currentPassword)) !== userId) {
        app.audited(request, 'password.failed', { target: actor.name });
        throw new ProblemError('forbidden', 'The current password is not right.', {
          errors: [{ pointer: '/currentPassword', detail: 'is not right' }],
        });
      }
      wrong.delete(sessionHash);
      const hash = await app.auth.hash(newPassword);
      return app.audited(
        request,
        'password.changed',
        (r) => ({ target: actor.name, details: r }),
        () => app.auth.setPassword(userId, hash, sessionHash),
      );
    },
  });

  app.route({
    ...routeOptions(routes.listSessions),
    handler: async (request) => ({ sessions: app.auth.listSessions(request.actor?.sessionId) }),
  });

  app.route({
    ...routeOptions(routes.revokeSession),
    handler: async (request) => {
      const { id } = request.params;
      return app.audited(
        request,
        'session.revoked',
        (r) => ({
          target: `session:${id}`,
          details: { username: r.username, revokedTokens: r.revokedTokens },
        }),
        () => {
          const revoked = app.auth.revokeSession(id);
          if (!revoked) throw new ProblemError('not-found', `There is no session ${id}.`);
          return revoked;
        },
      );
    },
  });
}
