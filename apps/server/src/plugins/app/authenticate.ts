/**
 * Authentication for everything under /api/v1: a session cookie (browser) or
 * `Authorization: Bearer <token>` (scripts). Routes marked `config.public`
 * (login, health) need neither. Writes need a write scope, and
 * cookie-authenticated writes the session's CSRF token in `X-CSRF-Token`.
 */

import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../../problems/problem-error';
import type { Actor } from './auth-repository';
import { NODE_TOKEN_PREFIX } from './nodes-repository';

export const SESSION_COOKIE = 'ims_session';
/** The session cookie's name on HTTPS: the browser then keeps it to this exact origin, Secure. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

/**
 * The session cookie for this request: on HTTPS (directly, or per
 * X-Forwarded-Proto from a trusted proxy) `__Host-ims_session`, Secure; on
 * plain HTTP `ims_session`.
 */
export function sessionCookie(request: FastifyRequest): {
  name: string;
  options: { path: '/'; httpOnly: true; sameSite: 'strict'; secure: boolean };
} {
  const secure = request.protocol === 'https';
  return {
    name: secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE,
    options: { path: '/', httpOnly: true, sameSite: 'strict', secure },
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    /** The SMTP node making a /api/v1/node/* request. */
    node: { id: number; name: string } | null;
  }
  interface FastifyContextConfig {
    /** No credentials needed. */
    public?: boolean;
    /** A POST that changes nothing (advice, what-if): a read token may use it. */
    readOnly?: boolean;
    /**
     * Only a signed-in user (a session), never a bearer token: minting
     * credentials (tokens, node tokens), changing the password, taking a
     * backup. A stolen token cannot mint itself successors.
     */
    sessionOnly?: boolean;
  }
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The actor of a request, or a problem explaining why there is none. */
function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '';
}

export function actorOf(app: FastifyInstance, request: FastifyRequest): Actor {
  const header = request.headers.authorization;
  if (header !== undefined) {
    if (bearerOf(request)?.startsWith(NODE_TOKEN_PREFIX)) {
      throw new ProblemError('forbidden', 'A node token reaches only /api/v1/node/*.');
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const actor = m?.[1] ? app.auth.tokenActor(m[1]) : undefined;
    if (!actor) throw new ProblemError('unauthenticated', 'The bearer token is not valid.');
    return actor;
  }
  const cookie = request.cookies[sessionCookie(request).name];
  const actor = cookie ? app.auth.sessionActor(cookie) : undefined;
  if (!actor) {
    throw new ProblemError(
      'unauthenticated',
      'Sign in (POST /api/v1/session) or send Authorization: Bearer <token>.',
    );
  }
  return actor;
}

export default fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('actor', null);
    app.decorateRequest('node', null);
    app.addHook('onRequest', async (request) => {
      // Decide on the route that matched, never on the raw URL: the router
      // decodes %-escapes and absolute-form request lines, the text does not.
      // An unmatched request reaches only the 404 handler.
      const route = request.routeOptions.url;
      if (
        route === undefined ||
        !route.startsWith('/api/v1/') ||
        request.routeOptions.config.public
      ) {
        return;
      }
      if (route.startsWith('/api/v1/node/')) {
        // The node attach API: node tokens only, and nothing else for them.
        const bearer = bearerOf(request);
        const node = bearer?.startsWith(NODE_TOKEN_PREFIX) ? app.nodes.byToken(bearer) : undefined;
        if (!node)
          throw new ProblemError('unauthenticated', 'The node attach API needs a node token.');
        request.node = node;
        return;
      }
      const actor = actorOf(app, request);
      request.actor = actor;
      if (request.routeOptions.config.sessionOnly && actor.via !== 'session') {
        throw new ProblemError(
          'forbidden',
          'Only a signed-in user may do this, not a token: sign in (POST /api/v1/session, or the ims command with your password).',
        );
      }
      if (!WRITE_METHODS.has(request.method) || request.routeOptions.config.readOnly) return;
      if (actor.scope !== 'write') {
        throw new ProblemError('forbidden', 'This token may read but not write.');
      }
      if (actor.via === 'session') {
        const sent = request.headers['x-csrf-token'];
        if (typeof sent !== 'string' || !actor.csrfToken || !sameSecret(sent, actor.csrfToken)) {
          throw new ProblemError(
            'csrf-token-missing',
            "Cookie-authenticated writes must send the session's CSRF token in X-CSRF-Token.",
          );
        }
      }
    });
  },
  { name: 'authenticate', dependencies: ['repositories'] },
);
