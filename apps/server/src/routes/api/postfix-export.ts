/**
 * GET /api/v1/routing/versions/:n/export/postfix: a saved version rendered
 * as Postfix's files, for sites that deploy Postfix with configuration
 * management (docs/postfix.md). The rendering is @ims/postfix-config's, the
 * one the Postfix node agent runs; what Postfix cannot express is a 422.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import { PostfixRenderError, type PostfixTarget, renderPostfix } from '@ims/postfix-config';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

/** Where the exported files expect Postfix's directories (a `-c` instance beside the system one). */
export const EXPORT_DIRECTORIES = {
  configDirectory: '/etc/postfix-ims',
  queueDirectory: '/var/spool/postfix-ims',
  dataDirectory: '/var/lib/postfix-ims',
  mailDirectory: '/var/lib/ims/maildirs',
} as const;

function listenHosts(text: string | undefined): string[] {
  const hosts = (text ?? '0.0.0.0')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  return hosts.length > 0 ? [...new Set(hosts)] : ['0.0.0.0'];
}

export default async function postfixExportRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.route({
    ...routeOptions(routes.exportPostfix),
    handler: async (request) => {
      const v = app.routingVersions.get(request.params.n);
      if (!v) throw new ProblemError('not-found', `There is no version ${request.params.n}.`);
      const q = request.query;
      const port = q.port ?? 25;
      const target: PostfixTarget = {
        ...EXPORT_DIRECTORIES,
        listen: listenHosts(q.listen).map((host) => ({ host, port })),
        myhostname: q.myhostname ?? `mail.${v.config.siteDomain}`,
        logFile: '/var/log/postfix-ims.log',
      };
      if (q.smartHost !== undefined) target.smartHost = q.smartHost;
      if (q.saslSocket !== undefined) target.saslSocket = q.saslSocket;
      const directory = app.directory.list().map((m) => ({ address: m.address }));
      try {
        return { version: v.version, files: renderPostfix(v.config, directory, target).files };
      } catch (err) {
        if (!(err instanceof PostfixRenderError)) throw err;
        throw new ProblemError('postfix-unsupported', err.message, {
          errors: [{ pointer: err.field ?? '', detail: err.message }],
        });
      }
    },
  });
}
