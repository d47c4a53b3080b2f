/**
 * The routing configuration: read, save (If-Match), history, restore, diff,
 * advice on a draft, and the what-if evaluator.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AdviceBodySchema,
  AdviceSchema,
  DiffQuerySchema,
  DiffSchema,
  EvaluateBodySchema,
  EvaluateResultSchema,
  ProblemSchema,
  RestoreBodySchema,
  RoutingPutBodySchema,
  RoutingStateSchema,
  VersionListSchema,
  VersionParamsSchema,
  VersionSchema,
} from '@ims/api-contract';
import {
  advise,
  diffConfigs,
  evaluate,
  type Finding,
  formatReply,
  type RoutingConfig,
  replyFor,
  validate,
} from '@ims/routing-core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { StaleVersionError, type Version } from '../../plugins/app/routing-repository';
import { ProblemError } from '../../problems/problem-error';

const etagOf = (version: number) => `"v${version}"`;

/** The address part of `host:port` or `[v6]:port`. */
function hostOf(listen: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(listen);
  if (v6?.[1]) return v6[1];
  const colon = listen.lastIndexOf(':');
  return colon > 0 && listen.indexOf(':') === colon ? listen.slice(0, colon) : listen;
}

/** The version an If-Match header names: a number, `*` (any), or null when it names none. */
/**
 * The version an If-Match header bases a change on: '*', the saved version
 * when the header names it (RFC 9110 §13.1.1: the condition holds when any
 * tag in the list matches), else a version that is not the saved one (stale);
 * null when there is no header.
 */
function ifMatchVersion(header: string | undefined, saved: number): number | '*' | null {
  if (header === undefined) return null;
  if (header.trim() === '*') return '*';
  let named = -1; // present, but no version of ours: stale by definition
  for (const part of header.split(',')) {
    const m = /^\s*(?:W\/)?"v(\d+)"\s*$/.exec(part);
    if (!m?.[1]) continue;
    const version = Number(m[1]);
    if (version === saved) return version;
    if (named < 0) named = version;
  }
  return named;
}

/** Validates a document; a 422 problem with one error per field when it is invalid. */
function checkConfig(doc: unknown, pointerPrefix: string): RoutingConfig {
  const result = validate(doc);
  if (!result.ok) {
    throw new ProblemError(
      'policy-invalid',
      `The configuration has ${result.errors.length} error(s).`,
      {
        errors: result.errors.map((e) => ({
          pointer: `${pointerPrefix}${e.pointer}`,
          detail: e.message,
        })),
      },
    );
  }
  return result.config;
}

/** Refuses a configuration with critical findings the request did not acknowledge. */
function checkAcknowledged(findings: Finding[], acknowledge: readonly string[] = []): void {
  const missing = findings.filter((f) => f.severity === 'critical' && !acknowledge.includes(f.id));
  if (missing.length > 0) {
    throw new ProblemError(
      'unacknowledged-findings',
      `Saving this configuration needs an explicit acknowledgement of: ${missing.map((f) => f.id).join(', ')}.`,
      { findings: missing },
    );
  }
}

export default async function routingRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  /** What the advisor should know of the service: where the nodes listen, how many mailboxes. */
  const adviceContext = () => {
    const listen = new Set<string>();
    for (const node of app.nodes.list(() => false)) {
      for (const address of node.listen) listen.add(hostOf(address));
    }
    return { listenAddresses: [...listen], mailboxCount: app.directory.count() };
  };

  /** What runs now: the oldest version any online node still runs. */
  const runningVersion = (): number | undefined => {
    const running = app.serviceStatus
      .snapshot()
      .nodes.filter((n) => n.online && n.runningVersion !== null)
      .map((n) => n.runningVersion as number);
    return running.length > 0 ? Math.min(...running) : undefined;
  };

  // A version never changes, so its findings change only with the context:
  // computed once per (version, context), not on every read.
  let cachedFindings: { key: string; findings: Finding[] } | undefined;
  const findingsOf = (v: Version): Finding[] => {
    const context = adviceContext();
    const key = `${v.version}|${context.listenAddresses.join(',')}|${context.mailboxCount}`;
    if (cachedFindings?.key !== key) cachedFindings = { key, findings: advise(v.config, context) };
    return cachedFindings.findings;
  };

  const stateOf = (v: Version) => ({
    version: v.version,
    savedAt: v.savedAt,
    savedBy: v.savedBy,
    config: v.config,
    findings: findingsOf(v),
  });

  /** Saves a checked config as a new version, with its audit entry, in one transaction. */
  const saveVersion = (
    request: FastifyRequest,
    reply: FastifyReply,
    config: RoutingConfig,
    basedOn: number | '*',
    action: string,
    extra: { comment?: string; restoredFrom?: number; acknowledged?: string[] },
  ) => {
    const actor = request.actor!;
    try {
      // The version this save replaces is read in the same transaction as the save.
      const { saved } = app.audited(
        request,
        action,
        ({ before, saved: v }) => ({
          target: `routing:v${v.version}`,
          details: {
            from: before.version,
            to: v.version,
            changes: diffConfigs(before.config, v.config),
            ...(extra.acknowledged?.length ? { acknowledged: extra.acknowledged } : {}),
          },
        }),
        () => {
          const before = app.routingVersions.current();
          const v = app.routingVersions.save(
            config,
            basedOn === '*' ? before.version : basedOn,
            actor.name,
            {
              ...(extra.comment === undefined ? {} : { comment: extra.comment }),
              ...(extra.restoredFrom === undefined ? {} : { restoredFrom: extra.restoredFrom }),
            },
          );
          return { before, saved: v };
        },
      );
      reply.header('etag', etagOf(saved.version));
      app.serviceStatus.push();
      return stateOf(saved);
    } catch (err) {
      if (err instanceof StaleVersionError) {
        throw new ProblemError(
          'precondition-failed',
          `Version ${err.current.version} was saved by ${err.current.savedBy} at ${err.current.savedAt}; reload and apply your change to it.`,
          {
            currentVersion: err.current.version,
            savedBy: err.current.savedBy,
            savedAt: err.current.savedAt,
          },
        );
      }
      throw err;
    }
  };

  app.get(
    '/api/v1/routing',
    {
      schema: {
        tags: ['routing'],
        summary: 'The saved routing configuration, with its findings',
        response: { 200: RoutingStateSchema, 401: ProblemSchema },
      },
    },
    async (_request, reply) => {
      const current = app.routingVersions.current();
      reply.header('etag', etagOf(current.version));
      return stateOf(current);
    },
  );

  app.put(
    '/api/v1/routing',
    {
      schema: {
        tags: ['routing'],
        summary: 'Save a new routing configuration (needs If-Match with the ETag it was based on)',
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: RoutingPutBodySchema,
        response: {
          200: RoutingStateSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          412: ProblemSchema,
          422: ProblemSchema,
          428: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const current = app.routingVersions.current();
      const basedOn = ifMatchVersion(request.headers['if-match'], current.version);
      if (basedOn === null) {
        throw new ProblemError(
          'precondition-required',
          'Send If-Match with the ETag of the configuration your change is based on (GET /api/v1/routing).',
        );
      }
      if (basedOn !== '*' && basedOn !== current.version) {
        throw new ProblemError(
          'precondition-failed',
          `Version ${current.version} was saved by ${current.savedBy} at ${current.savedAt}; reload and apply your change to it.`,
          { currentVersion: current.version, savedBy: current.savedBy, savedAt: current.savedAt },
        );
      }
      const config = checkConfig(request.body.config, '/config');
      checkAcknowledged(advise(config, adviceContext()), request.body.acknowledge);
      return saveVersion(request, reply, config, basedOn, 'routing.saved', {
        ...(request.body.comment === undefined ? {} : { comment: request.body.comment }),
        ...(request.body.acknowledge ? { acknowledged: request.body.acknowledge } : {}),
      });
    },
  );

  app.get(
    '/api/v1/routing/versions',
    {
      schema: {
        tags: ['routing'],
        summary: 'Saved versions, newest first',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
          before: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
        response: { 200: VersionListSchema, 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const versions = app.routingVersions.list(limit, request.query.before);
      const last = versions.at(-1);
      return versions.length === limit && last && last.version > 1
        ? { versions, nextBefore: last.version }
        : { versions };
    },
  );

  app.get(
    '/api/v1/routing/versions/:n',
    {
      schema: {
        tags: ['routing'],
        summary: 'One saved version',
        params: VersionParamsSchema,
        response: {
          200: VersionSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const v = app.routingVersions.get(request.params.n);
      if (!v) throw new ProblemError('not-found', `There is no version ${request.params.n}.`);
      return v;
    },
  );

  app.post(
    '/api/v1/routing/versions/:n/restore',
    {
      // The body is optional: no body means no acknowledgements.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['routing'],
        summary: 'Save a new version equal to version n',
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        params: VersionParamsSchema,
        body: RestoreBodySchema,
        response: {
          200: RoutingStateSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          412: ProblemSchema,
          422: ProblemSchema,
          428: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const old = app.routingVersions.get(request.params.n);
      if (!old) throw new ProblemError('not-found', `There is no version ${request.params.n}.`);
      // Like PUT: a restore replaces the saved configuration, so it needs to
      // know which one it replaces.
      const basedOn = ifMatchVersion(
        request.headers['if-match'],
        app.routingVersions.current().version,
      );
      if (basedOn === null) {
        throw new ProblemError(
          'precondition-required',
          'Send If-Match with the ETag of the configuration the restore replaces (GET /api/v1/routing).',
        );
      }
      const config = checkConfig(old.config, '');
      const acknowledge = request.body.acknowledge;
      checkAcknowledged(advise(config, adviceContext()), acknowledge);
      return saveVersion(request, reply, config, basedOn, 'routing.restored', {
        restoredFrom: old.version,
        comment: `Restored version ${old.version}`,
        ...(acknowledge ? { acknowledged: acknowledge } : {}),
      });
    },
  );

  app.get(
    '/api/v1/routing/diff',
    {
      schema: {
        tags: ['routing'],
        summary: 'What changed between two versions (to: default the saved one)',
        querystring: DiffQuerySchema,
        response: {
          200: DiffSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request) => {
      const fromVersion = request.query.from === 'running' ? runningVersion() : request.query.from;
      if (fromVersion === undefined) {
        throw new ProblemError('conflict', 'No SMTP node is running a configuration right now.');
      }
      const from = app.routingVersions.get(fromVersion);
      const to =
        request.query.to === undefined
          ? app.routingVersions.current()
          : app.routingVersions.get(request.query.to);
      if (!from) throw new ProblemError('not-found', `There is no version ${request.query.from}.`);
      if (!to) throw new ProblemError('not-found', `There is no version ${request.query.to}.`);
      return { from: from.version, to: to.version, changes: diffConfigs(from.config, to.config) };
    },
  );

  app.post(
    '/api/v1/routing/advice',
    {
      config: { readOnly: true },
      schema: {
        tags: ['routing'],
        summary: 'Findings for a draft configuration (nothing is saved)',
        body: AdviceBodySchema,
        response: { 200: AdviceSchema, 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request) => {
      // advise() reports an invalid draft as findings with pointers, never throws.
      return { findings: advise(request.body.config as RoutingConfig, adviceContext()) };
    },
  );

  app.post(
    '/api/v1/routing/evaluate',
    {
      config: { readOnly: true },
      schema: {
        tags: ['routing'],
        summary: 'What-if: the decision and SMTP reply for one recipient',
        body: EvaluateBodySchema,
        response: {
          200: EvaluateResultSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          409: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request) => {
      const { against, config: draft, ...input } = request.body;
      let config: RoutingConfig;
      let version: number | undefined;
      if (against === 'draft') {
        if (draft === undefined) {
          throw new ProblemError(
            'validation-failed',
            'A draft evaluation needs the draft in "config".',
            {
              errors: [{ pointer: '/config', detail: 'Required when against is "draft".' }],
            },
          );
        }
        config = checkConfig(draft, '/config');
      } else if (against === 'saved') {
        const current = app.routingVersions.current();
        config = current.config;
        version = current.version;
      } else {
        const oldest = runningVersion();
        const v = oldest === undefined ? undefined : app.routingVersions.get(oldest);
        if (!v)
          throw new ProblemError('conflict', 'No SMTP node is running a configuration right now.');
        config = v.config;
        version = v.version;
      }
      const decision = evaluate(config, input);
      const reply = replyFor(decision);
      return {
        against,
        ...(version === undefined ? {} : { version }),
        decision,
        reply: { ...reply, line: formatReply(reply) },
      };
    },
  );
}
