/**
 * The Queues tab (issue 17 §4): the outbound queue of every online node, and
 * the two actions on one message (retry now, delete). The console reaches a
 * node only through the event stream the node opened: it sends a `request`
 * event and the node answers with `PUT /api/v1/node/requests/{id}`.
 */

import { type Static, Type } from 'typebox';
import { TrafficPageSchema } from './impact';

/** A node's name, as registered. */
const NodeName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' });
/** A queued message's id on its node (the queue file's name). */
const MessageId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._-]+$' });

export const QueuedMessageSchema = Type.Object({
  id: MessageId,
  /** MAIL FROM; '' for the null sender (a non-delivery report). */
  from: Type.String(),
  /** The recipients still to be delivered. */
  recipients: Type.Array(Type.String()),
  /** The message's size in bytes. */
  size: Type.Integer({ minimum: 0 }),
  queuedAt: Type.String({ format: 'date-time' }),
  /** Delivery attempts so far. */
  attempts: Type.Integer({ minimum: 0 }),
  nextAttemptAt: Type.String({ format: 'date-time' }),
  /** The last reply or error of a recipient still pending; null before the first attempt. */
  lastError: Type.Union([Type.String(), Type.Null()]),
});
export type QueuedMessage = Static<typeof QueuedMessageSchema>;

export const QueueListSchema = Type.Object({
  nodes: Type.Array(
    Type.Object({
      name: Type.String(),
      messages: Type.Array(QueuedMessageSchema),
    }),
  ),
});
export type QueueList = Static<typeof QueueListSchema>;

export const QueueMessageParamsSchema = Type.Object({ node: NodeName, id: MessageId });
export type QueueMessageParams = Static<typeof QueueMessageParamsSchema>;

export const QueueDeleteQuerySchema = Type.Object({
  /** Return the message to its sender with a non-delivery report (RFC 3464). */
  ndr: Type.Optional(Type.Boolean({ default: false })),
});

// ---- Requests from the console to a node, over the node's event stream ----

/** The methods a node answers. */
export const NodeRequestMethodSchema = Type.Union([
  Type.Literal('queue.list'),
  Type.Literal('queue.retry'),
  Type.Literal('queue.delete'),
  Type.Literal('traffic.records'),
]);
export type NodeRequestMethod = Static<typeof NodeRequestMethodSchema>;

/** The `request` event's data. */
export const NodeRequestSchema = Type.Object({
  id: Type.String(),
  method: NodeRequestMethodSchema,
  params: Type.Record(Type.String(), Type.Unknown()),
});
export type NodeRequest = Static<typeof NodeRequestSchema>;

/** What each method answers (`result`), checked by the console before use. */
export const NodeResultSchemas = {
  'queue.list': Type.Object({ messages: Type.Array(QueuedMessageSchema, { maxItems: 10_000 }) }),
  /** The message as it was when the retry was asked for. */
  'queue.retry': Type.Object({ message: QueuedMessageSchema }),
  /** The message as it was before it was deleted, and whether a report went to its sender. */
  'queue.delete': Type.Object({ message: QueuedMessageSchema, ndrSent: Type.Boolean() }),
  /** One page of the node's decision records (impact.ts). */
  'traffic.records': TrafficPageSchema,
} as const;
export type NodeResult<M extends NodeRequestMethod> = Static<(typeof NodeResultSchemas)[M]>;

export const NodeRequestParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9-]+$' }),
});

/** A node's answer to one request. */
export const NodeAnswerBodySchema = Type.Union([
  Type.Object({ ok: Type.Literal(true), result: Type.Unknown() }, { additionalProperties: false }),
  Type.Object(
    {
      ok: Type.Literal(false),
      error: Type.Object(
        {
          /** `not-found`: no such message; `bad-request`: params not understood; `failed`: anything else. */
          code: Type.Union([
            Type.Literal('not-found'),
            Type.Literal('bad-request'),
            Type.Literal('failed'),
          ]),
          message: Type.String({ maxLength: 2000 }),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);
export type NodeAnswerBody = Static<typeof NodeAnswerBodySchema>;
