/** Schemas of the SMTP node registry, the service status and the node attach API (docs/design.md §4). */

import { type Static, Type } from 'typebox';
import { RoutingConfigSchema } from './config-schema';

export const NodeCreateBodySchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }) },
  { additionalProperties: false },
);
export const NodeCreatedSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  /** The node's token: in this answer only. It reaches only /api/v1/node/*. */
  token: Type.String(),
});

export const NodeStateSchema = Type.Union([
  Type.Literal('registered'),
  Type.Literal('running'),
  Type.Literal('restarting'),
  Type.Literal('error'),
  Type.Literal('offline'),
]);

/** What enforces the configuration on a node: the product's own SMTP node, or a Postfix instance its agent drives. */
export const NodeEngineSchema = Type.Union([Type.Literal('ims'), Type.Literal('postfix')]);
export type NodeEngine = Static<typeof NodeEngineSchema>;

export const NodeViewSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  /** The engine the node last reported ("ims" until it reports). */
  engine: NodeEngineSchema,
  state: NodeStateSchema,
  online: Type.Boolean(),
  runningVersion: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  listen: Type.Array(Type.String()),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  lastSeen: Type.Union([Type.String(), Type.Null()]),
  counters: Type.Record(Type.String(), Type.Number()),
});
export const NodeListSchema = Type.Object({ nodes: Type.Array(NodeViewSchema) });

/**
 * Where the last restart stands, as the console sees it. The console is the
 * one owner of this answer (docs/design.md §3 "Restart state"): the banner and
 * `ims` display it and never work it out again.
 */
export const RestartStateSchema = Type.Object({
  state: Type.Union(
    [
      Type.Literal('idle'),
      Type.Literal('pending'),
      Type.Literal('restarting'),
      Type.Literal('failed'),
      Type.Literal('waiting'),
    ],
    {
      description:
        'idle: every online node runs the saved version; pending: the saved version waits for a restart; restarting: the target is not yet running on every online node; failed: a node could not load the target; waiting: no node is online, or offline nodes are behind the target',
    },
  ),
  /** The version the nodes were last told to run. */
  targetVersion: Type.Integer(),
  /** Online nodes that do not run the target yet. */
  behind: Type.Array(Type.String()),
  /** Nodes that could not load the target (they keep their previous generation). */
  failed: Type.Array(
    Type.Object({
      name: Type.String(),
      runningVersion: Type.Union([Type.Integer(), Type.Null()]),
      error: Type.String(),
    }),
  ),
  /** Offline nodes behind the target: they load it when they attach. */
  waitingFor: Type.Array(Type.String()),
  /** No node is online. */
  noNodeOnline: Type.Boolean(),
  /** One sentence for people: what runs, and what waits for what. */
  summary: Type.String(),
});
export type RestartState = Static<typeof RestartStateSchema>;

/**
 * The latest restart as a rollout (issue #14): `all` signals every node at
 * once; `rolling` signals one node at a time in `order` (the first is the
 * canary) and halts at the first node that cannot run `version`, so the nodes
 * after it keep the version they ran. Field names are fixed (scripts depend on them).
 */
export const RolloutSchema = Type.Object({
  /** The version the rollout moves the nodes to. */
  version: Type.Integer(),
  strategy: Type.Union([Type.Literal('all'), Type.Literal('rolling')]),
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('halted')]),
  /** Node names in the order they are (or were) signalled; the first is the canary. */
  order: Type.Array(Type.String()),
  /** Nodes that run `version`, in the order they reached it. */
  done: Type.Array(Type.String()),
  /** The node the rollout stopped at. */
  haltedAt: Type.Optional(Type.String()),
  /** Why it stopped there. */
  error: Type.Optional(Type.String()),
});
export type Rollout = Static<typeof RolloutSchema>;

export const RestartBodySchema = Type.Object(
  {
    strategy: Type.Optional(
      Type.Union([Type.Literal('all'), Type.Literal('rolling')], {
        description:
          'all (the default): every node at once; rolling: one node at a time, the first in `order` being the canary',
      }),
    ),
    order: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }), {
        maxItems: 1000,
        uniqueItems: true,
        description:
          'rolling: the nodes to restart, in this order (default: every registered node, by name)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RestartBody = Static<typeof RestartBodySchema>;

export const RollbackResultSchema = Type.Object({
  /** The new saved version: a copy of `restoredFrom`. */
  version: Type.Integer(),
  /** The version the fleet ran before the latest rollout started. */
  restoredFrom: Type.Integer(),
  /** Nodes signalled now to run `version`. */
  signalled: Type.Integer(),
});

export const ServiceSchema = Type.Object({
  savedVersion: Type.Integer(),
  /** Who saved it: a user name, or "token:<name>". */
  savedBy: Type.String(),
  /** The version the nodes were last told to run (by a restart). */
  targetVersion: Type.Integer(),
  /** True while any attached (online) node runs an older version than the saved one. */
  pendingRestart: Type.Boolean(),
  /** True while a requested restart has not reached every online node. */
  restartInProgress: Type.Boolean(),
  restart: RestartStateSchema,
  /** The latest restart's progress, or null before the first one. */
  rollout: Type.Union([RolloutSchema, Type.Null()]),
  nodes: Type.Array(NodeViewSchema),
});

export const RestartResultSchema = Type.Object({
  version: Type.Integer(),
  /** True when a restart to this version was already under way: no new signal was sent. */
  coalesced: Type.Boolean(),
  /** Nodes signalled now (offline ones get it when they re-attach). */
  signalled: Type.Integer(),
});

export const NodeBundleQuerySchema = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 1 })),
});
export const NodeBundleSchema = Type.Object({
  version: Type.Integer(),
  config: RoutingConfigSchema,
  directory: Type.Array(Type.Object({ address: Type.String(), passwordHash: Type.String() })),
  issuedAt: Type.String({ format: 'date-time' }),
  /** The version the nodes were last told to run (what a starting node should load). */
  targetVersion: Type.Integer(),
});

export const NodeStatusBodySchema = Type.Object(
  {
    runningVersion: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    state: Type.Union([Type.Literal('running'), Type.Literal('restarting'), Type.Literal('error')]),
    lastError: Type.Optional(Type.String({ maxLength: 2000 })),
    listen: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 64 }),
    startedAt: Type.String({ format: 'date-time' }),
    counters: Type.Record(Type.String({ maxLength: 64 }), Type.Number(), { maxProperties: 100 }),
    /** The node's engine; a node that does not say is "ims". */
    engine: Type.Optional(NodeEngineSchema),
  },
  { additionalProperties: false },
);
