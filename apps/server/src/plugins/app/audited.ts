/**
 * `app.audited(request, action, note, fn)`: a change and its audit entry in
 * one transaction. Routes call this instead of opening transactions or
 * writing audit rows themselves, so the actor and the source address are
 * taken from the request in one place, and the entry commits (or rolls back)
 * with the change it records.
 */

import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** What the entry says besides the action, the actor and the source. */
export interface AuditNote {
  target?: string;
  details?: unknown;
  /**
   * The actor, when the request has none yet (a sign-in names the user it
   * signs in). Otherwise it is the request's signed-in user or node.
   */
  actor?: string;
}

/**
 * A change to run in the transaction. Synchronous: a SQLite transaction
 * cannot span an `await` (do the slow work, such as hashing, before it).
 */
type Change<T> = () => T extends PromiseLike<unknown> ? never : T;

export interface Audited {
  /** Records the entry alone (a failed sign-in; or inside a repository's own transaction). */
  (request: FastifyRequest, action: string, note: AuditNote): void;
  /**
   * Runs `change` and records the entry in one transaction, and returns what
   * `change` returned. `note` may be a function of that result (the target
   * of a creation is named by what was created). If `change` throws, nothing
   * is written.
   */
  <T>(
    request: FastifyRequest,
    action: string,
    note: AuditNote | ((result: T) => AuditNote),
    change: Change<T>,
  ): T;
}

declare module 'fastify' {
  interface FastifyInstance {
    audited: Audited;
  }
}

/** Who made the request: the signed-in user, else the node, else the note's actor. */
function actorOf(request: FastifyRequest, note: AuditNote): string {
  if (note.actor !== undefined) return note.actor;
  if (request.actor) return request.actor.name;
  if (request.node) return `node:${request.node.name}`;
  throw new Error(`An audited ${request.method} ${request.url} has no actor`);
}

export default fp(
  async (app: FastifyInstance) => {
    function audited<T>(
      request: FastifyRequest,
      action: string,
      note: AuditNote | ((result: T) => AuditNote),
      change?: Change<T>,
    ): T | undefined {
      return app.db.transaction(() => {
        const result = change ? change() : undefined;
        const n = typeof note === 'function' ? note(result as T) : note;
        const person = n.actor === undefined ? request.actor?.person : undefined;
        app.audit.record({
          actor: actorOf(request, n),
          ...(person === undefined ? {} : { person }),
          source: request.ip,
          action,
          ...(n.target === undefined ? {} : { target: n.target }),
          ...(n.details === undefined ? {} : { details: n.details }),
        });
        return result;
      })();
    }
    app.decorate('audited', audited as Audited);
  },
  { name: 'audited', dependencies: ['db', 'repositories', 'authenticate'] },
);
