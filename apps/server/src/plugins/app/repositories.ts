/**
 * The repositories: SQL lives only in them, one file per resource. This
 * plugin decorates the app with each of them, on the one database handle, so
 * routes and app plugins reach data only through a repository.
 */

import type { ScryptParams } from '@ims/passwords';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { auditRepository } from './audit-repository';
import { authRepository } from './auth-repository';
import { directoryRepository } from './directory-repository';
import { nodesRepository } from './nodes-repository';
import { routingRepository } from './routing-repository';

declare module 'fastify' {
  interface FastifyInstance {
    audit: ReturnType<typeof auditRepository>;
    auth: ReturnType<typeof authRepository>;
    directory: ReturnType<typeof directoryRepository>;
    nodes: ReturnType<typeof nodesRepository>;
    routingVersions: ReturnType<typeof routingRepository>;
  }
}

export interface RepositoriesOptions {
  /**
   * The scrypt cost of new password hashes (default @ims/passwords'
   * DEFAULT_PARAMS, OWASP's minimum). Only tests set it, to a cheaper cost;
   * the process edges (console-from-env.ts) never do.
   */
  passwordCost?: ScryptParams | undefined;
}

export default fp(
  async (app: FastifyInstance, opts: RepositoriesOptions) => {
    app.decorate('audit', auditRepository(app.db));
    app.decorate('auth', authRepository(app.db, opts.passwordCost));
    app.decorate('directory', directoryRepository(app.db, opts.passwordCost));
    app.decorate('nodes', nodesRepository(app.db));
    app.decorate('routingVersions', routingRepository(app.db));
  },
  { name: 'repositories', dependencies: ['db'] },
);
