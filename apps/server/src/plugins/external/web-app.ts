/**
 * Serves the built web app (apps/web/dist) at `/` when it exists, with
 * `index.html` for the app's own client-side routes. The API, the docs and
 * the operational endpoints keep their own answers.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../../web/dist', import.meta.url));

export interface WebAppOptions {
  webDir: string;
}

const NOT_THE_APP = /^\/(api|docs|healthz|metrics)(\/|$)/;

export default fp(
  async (app: FastifyInstance, opts: WebAppOptions) => {
    if (!existsSync(join(opts.webDir, 'index.html'))) {
      app.log.info({ webDir: opts.webDir }, 'no built web app: the console serves the API only');
      return;
    }
    await app.register(fastifyStatic, {
      root: opts.webDir,
      wildcard: false,
      index: ['index.html'],
    });
    app.get('/*', { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (NOT_THE_APP.test(path) || /\.[a-z0-9]+$/i.test(path)) {
        return reply.callNotFound();
      }
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    });
  },
  { name: 'web-app' },
);
