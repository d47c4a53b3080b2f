/**
 * The console app: external plugins, then app plugins, then routes, with one
 * error handler that answers RFC 9457 problem+json. `server.ts` is the only
 * file that listens.
 */

import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { NO_CONTROL_CHARACTERS, routes } from '@ims/api-contract';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import { ConsoleLogController } from './logging';
import allowedHosts, { type AllowedHostsOptions } from './plugins/app/allowed-hosts';
import audited from './plugins/app/audited';
import authenticate from './plugins/app/authenticate';
import bootstrap, { type BootstrapOptions } from './plugins/app/bootstrap';
import nodeEvents, { type NodeEventsOptions } from './plugins/app/node-events';
import nodeRequests, { type NodeRequestsOptions } from './plugins/app/node-requests';
import repositories, { type RepositoriesOptions } from './plugins/app/repositories';
import rollout, { type RolloutOptions } from './plugins/app/rollout';
import serviceStatus from './plugins/app/service-status';
import signInThrottle from './plugins/app/sign-in-throttle';
import db from './plugins/external/db';
import webApp, { DEFAULT_WEB_DIR } from './plugins/external/web-app';
import { type FieldError, ProblemError, problemBody } from './problems/problem-error';
import auditRoutes from './routes/api/audit';
import backupRoutes from './routes/api/backup';
import directoryRoutes from './routes/api/directory';
import impactRoutes from './routes/api/impact';
import postfixExportRoutes from './routes/api/postfix-export';
import queueRoutes from './routes/api/queue';
import relayTestRoutes from './routes/api/relay-test';
import routingRoutes from './routes/api/routing';
import serviceRoutes from './routes/api/service';
import sessionRoutes from './routes/api/session';
import sessionsRoutes from './routes/api/sessions';
import tokenRoutes from './routes/api/tokens';
import healthRoutes from './routes/health';
import metricsRoutes from './routes/metrics';
import { routeOptions } from './routes/route-options';

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: { method: string; url: string; hidden: boolean }[];
  }
}

export interface AppOptions
  extends BootstrapOptions,
    NodeEventsOptions,
    NodeRequestsOptions,
    AllowedHostsOptions,
    RolloutOptions,
    RepositoriesOptions {
  /** Data directory, or `:memory:` (tests). */
  dataDir: string;
  /** IMS_METRICS_TOKEN_REQUIRED: /metrics needs an API token or a session. */
  metricsTokenRequired?: boolean | undefined;
  /** The built web app to serve at `/` (default: apps/web/dist, when it exists). */
  webDir?: string;
  logger?: FastifyServerOptions['logger'];
  /**
   * Which peers' X-Forwarded-For/-Proto/-Host to believe (IMS_TRUST_PROXY,
   * Fastify's `trustProxy`): true (any), a hop count, or addresses/CIDRs.
   * Default none: the client is the peer of the TCP connection.
   */
  trustProxy?: boolean | number | string[] | undefined;
  /** Serve HTTPS with this certificate and key (PEM; IMS_HTTP_TLS_CERT / IMS_HTTP_TLS_KEY). */
  tls?: { cert: Buffer | string; key: Buffer | string } | undefined;
}

/** HSTS, sent only on HTTPS (on plain HTTP a browser ignores it, and it must not pin a LAN address). */
const HSTS = 'max-age=31536000';

/** Never log secrets: passwords, tokens, cookies. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
];

/** Fastify's trustProxy; a hop count as the function Fastify itself makes of one (its types omit numbers). */
function trustProxyOption(
  trust: AppOptions['trustProxy'],
): Pick<FastifyServerOptions, 'trustProxy'> {
  if (trust === undefined) return {};
  if (typeof trust === 'number') return { trustProxy: (_address, hop) => hop < trust };
  return { trustProxy: trust };
}

interface AjvIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Ajv errors as per-field errors with JSON Pointers into the request part. */
function fieldErrors(issues: readonly AjvIssue[]): FieldError[] {
  return issues.map((e) => {
    let pointer = e.instancePath;
    if (e.keyword === 'required') pointer += `/${String(e.params.missingProperty)}`;
    if (e.keyword === 'additionalProperties') pointer += `/${String(e.params.additionalProperty)}`;
    const detail =
      e.keyword === 'additionalProperties'
        ? `Unknown field "${String(e.params.additionalProperty)}".`
        : e.keyword === 'pattern' && e.params.pattern === NO_CONTROL_CHARACTERS
          ? 'must not contain control characters'
          : `${e.message ?? 'is not valid'}`;
    return { pointer, detail };
  });
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger
      ? {
          ...(typeof opts.logger === 'object' ? opts.logger : {}),
          redact: { paths: REDACT, censor: '[redacted]' },
        }
      : false,
    // Routine requests (node status reports, event streams, health checks) log at debug.
    logController: new ConsoleLogController(),
    bodyLimit: 8 * 1024 * 1024,
    // A queued message's id is its queue file's name, host name included
    // (api-contract's queue.ts allows 200 characters); longer is 414.
    routerOptions: { maxParamLength: 200 },
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    ...trustProxyOption(opts.trustProxy),
    // HTTPS when given a certificate. An https.Server is an http.Server with
    // TLS under it (Fastify's own `https` option builds the same).
    serverFactory: (handler) =>
      opts.tls
        ? (createHttpsServer(
            { cert: opts.tls.cert, key: opts.tls.key },
            handler,
          ) as unknown as Server)
        : createHttpServer(handler),
  });

  // Bodies are validated strictly (no type coercion, no silently dropped
  // fields); query strings and params get the usual coercion of "10" to 10.
  const strict = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: true });
  const lenient = new Ajv({
    allErrors: true,
    strict: false,
    coerceTypes: 'array',
    useDefaults: true,
  });
  addFormats.default(strict);
  addFormats.default(lenient);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : lenient).compile(schema),
  );

  app.setErrorHandler((error: FastifyError | ProblemError, request, reply) => {
    const instance = request.url.split('?')[0] ?? request.url;
    let status: number;
    let body: Record<string, unknown>;
    if (error instanceof ProblemError) {
      status = error.status;
      body = problemBody(error.slug, error.message, instance, request.id, error.extensions);
    } else if (error.validation) {
      status = 400;
      const part = error.validationContext ?? 'body';
      body = problemBody(
        'validation-failed',
        `The request ${part} is not valid.`,
        instance,
        request.id,
        {
          errors: fieldErrors(error.validation as AjvIssue[]),
        },
      );
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      const slug =
        status === 413
          ? 'payload-too-large'
          : status === 415
            ? 'unsupported-media-type'
            : status === 429
              ? 'too-many-requests'
              : 'bad-request';
      body = problemBody(slug, error.message, instance, request.id);
      body.status = status;
    } else {
      request.log.error({ err: error }, 'request failed');
      status = 500;
      body = problemBody(
        'internal-error',
        'Something went wrong on the server; the log has the details.',
        instance,
        request.id,
      );
    }
    reply.code(status).type('application/problem+json').send(body);
  });

  // Every route, as registered: the OpenAPI check compares the two.
  const registered: { method: string; url: string; hidden: boolean }[] = [];
  app.decorate('registeredRoutes', registered);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = Boolean((route.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of methods) registered.push({ method, url: route.url, hidden });
  });

  app.setNotFoundHandler((request, reply) => {
    const instance = request.url.split('?')[0] ?? request.url;
    reply
      .code(404)
      .type('application/problem+json')
      .send(
        problemBody(
          'not-found',
          `There is no ${request.method} ${instance}.`,
          instance,
          request.id,
        ),
      );
  });

  // JSON bodies; an empty body (a POST with nothing to say, sent with a JSON
  // content type anyway, as many clients do) is no body rather than an error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ProblemError('bad-request', 'The body is not valid JSON.'), undefined);
    }
  });

  // External plugins.
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        // Not on plain HTTP: a browser that opened the console by a LAN
        // address would ask for every script and style over HTTPS, and fail.
        upgradeInsecureRequests: null,
      },
    },
    // Only on HTTPS (below).
    strictTransportSecurity: false,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
  });
  // Before any route: requests for a name that is not the console's (DNS rebinding).
  await app.register(allowedHosts, { bindHost: opts.bindHost, allowedHosts: opts.allowedHosts });
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'IMS Routing Console API',
        version: '1',
        description:
          'The routing configuration of the Internet Mail Service, its versions, audit log and SMTP nodes. Errors are RFC 9457 problem details.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'ims_session' },
          node: {
            type: 'http',
            scheme: 'bearer',
            description: 'A node token (imsn_…), for /api/v1/node/* only',
          },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.route({
    ...routeOptions(routes.openapi),
    config: { public: true },
    handler: async () => app.swagger(),
  });
  await app.register(db, { dataDir: opts.dataDir });
  await app.register(repositories, { passwordCost: opts.passwordCost });

  // App plugins.
  await app.register(
    nodeEvents,
    opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs },
  );
  await app.register(nodeRequests, {
    ...(opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs }),
    ...(opts.maxPendingPerNode === undefined ? {} : { maxPendingPerNode: opts.maxPendingPerNode }),
  });
  await app.register(serviceStatus);
  await app.register(rollout, {
    ...(opts.rolloutSettleMs === undefined ? {} : { rolloutSettleMs: opts.rolloutSettleMs }),
    ...(opts.rolloutTimeoutMs === undefined ? {} : { rolloutTimeoutMs: opts.rolloutTimeoutMs }),
  });
  await app.register(authenticate);
  await app.register(signInThrottle);
  await app.register(audited);
  await app.register(bootstrap, opts);

  // Routes.
  await app.register(healthRoutes);
  await app.register(metricsRoutes, { tokenRequired: opts.metricsTokenRequired });
  await app.register(sessionRoutes);
  await app.register(sessionsRoutes);
  await app.register(tokenRoutes);
  await app.register(routingRoutes);
  await app.register(auditRoutes);
  await app.register(backupRoutes);
  await app.register(webApp, { webDir: opts.webDir ?? DEFAULT_WEB_DIR });
  await app.register(directoryRoutes);
  await app.register(serviceRoutes);
  await app.register(relayTestRoutes);
  await app.register(postfixExportRoutes);
  await app.register(queueRoutes);
  await app.register(impactRoutes);
  return app;
}
