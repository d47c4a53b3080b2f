/**
 * The routing configuration: read, save (If-Match), history, restore, diff,
 * advice on a draft, and the what-if evaluator.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import {
  advise,
  decide,
  diffConfigs,
  type Finding,
  type RoutingConfig,
  validate,
} from '@ims/routing-core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StaleVersionError, type Version } from '../../plugins/app/routing-repository';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

const etagOf = (version: number) => `"v${version}"`;

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
  /**
   * What the advisor should know of the service: where the nodes listen
   * (`host:port`, as they report it), the console's own HTTP port (a route to
   * it is a mistake), how many mailboxes there are.
   */
  const adviceContext = () => {
    const listen = new Set<string>();
    for (const node of app.nodes.list(() => false)) {
      for (const address of node.listen) listen.add(address);
    }
    const http = app.server.address();
    return {
      listen: [...listen].sort(),
      ...(http !== null && typeof http === 'object' ? { httpPort: http.port } : {}),
      mailboxCount: app.directory.count(),
    };
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
    const key = `${v.version}|${JSON.stringify(context)}`;
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
            ...(extra.restoredFrom === undefined ? {} : { restoredFrom: extra.restoredFrom }),
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

  app.route({
    ...routeOptions(routes.getRouting),
    handler: async (_request, reply) => {
      const current = app.routingVersions.current();
      reply.header('etag', etagOf(current.version));
      return stateOf(current);
    },
  });

  app.route({
    ...routeOptions(routes.putRouting),
    handler: async (request, reply) => {
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
  });

  app.route({
    ...routeOptions(routes.listVersions),
    handler: async (request) => {
      const limit = request.query.limit ?? 50;
      const versions = app.routingVersions.list(limit, request.query.before);
      const last = versions.at(-1);
      return versions.length === limit && last && last.version > 1
        ? { versions, nextBefore: last.version }
        : { versions };
    },
  });

  app.route({
    ...routeOptions(routes.getVersion),
    handler: async (request) => {
      const v = app.routingVersions.get(request.params.n);
      if (!v) throw new ProblemError('not-found', `There is no version ${request.params.n}.`);
      return v;
    },
  });

  app.route({
    ...routeOptions(routes.restoreVersion),
    // The body is optional: no body means no acknowledgements and the default comment.
    preValidation: async (request) => {
      request.body ??= {};
    },
    handler: async (request, reply) => {
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
      const { acknowledge, comment } = request.body;
      checkAcknowledged(advise(config, adviceContext()), acknowledge);
      return saveVersion(request, reply, config, basedOn, 'routing.restored', {
        restoredFrom: old.version,
        comment: comment ?? `Restored version ${old.version}`,
        ...(acknowledge ? { acknowledged: acknowledge } : {}),
      });
    },
  });

  app.route({
    ...routeOptions(routes.diff),
    handler: async (request) => {
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
  });

  app.route({
    ...routeOptions(routes.advice),
    config: { readOnly: true },
    handler: async (request) => {
      // advise() reports an invalid draft as findings with pointers, never throws.
      return { findings: advise(request.body.config as RoutingConfig, adviceContext()) };
    },
  });

  app.route({
    ...routeOptions(routes.evaluate),
    config: { readOnly: true },
    handler: async (request) => {
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
      // The directory the nodes have (their bundle's), so an unknown local
      // recipient gets here the 550 5.1.1 it gets on the wire; decide() is
      // the call the node's RCPT hook makes, so the line is the wire's line.
      const directory = app.directory.bundleEntries().map((e) => e.address);
      const { decision, reply } = decide(config, input, directory);
      return { against, ...(version === undefined ? {} : { version }), decision, reply };
    },
  });
}
