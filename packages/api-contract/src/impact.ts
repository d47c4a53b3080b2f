/**
 * Impact preview (issue 14 §1-2): the decision records the SMTP nodes keep,
 * as a node sends them to the console (`traffic.records`, a request on the
 * node's event stream, in pages), and `POST /api/v1/routing/impact`: what a
 * draft would change for the traffic the nodes saw.
 */

import { type Static, Type } from 'typebox';

export const DecisionActionSchema = Type.Union([
  Type.Literal('deliver'),
  Type.Literal('relay'),
  Type.Literal('reject'),
  Type.Literal('accept-ndr'),
]);

const Count = Type.Integer({ minimum: 0 });

/** RCPT decisions of one key over the node's window, by action. No message content. */
export const TrafficRecordSchema = Type.Object(
  {
    clientIp: Type.String({ maxLength: 64 }),
    serverIp: Type.String({ maxLength: 64 }),
    authenticated: Type.Boolean(),
    /** A local recipient's address, `Postmaster`, or a non-local recipient's domain only. */
    recipient: Type.String({ maxLength: 512 }),
    /** Whether the recipient was local when it was recorded. */
    local: Type.Boolean(),
    counts: Type.Object(
      { deliver: Count, relay: Count, reject: Count, 'accept-ndr': Count },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type TrafficRecordWire = Static<typeof TrafficRecordSchema>;

/** Records a node sends in one answer at most. */
export const TRAFFIC_PAGE_LIMIT = 5000;

/** `traffic.records`: one page of the node's records, in key order; `next` is the cursor of the next page. */
export const TrafficPageSchema = Type.Object({
  /** Since when the node has records (the start of its window, or of its first record if later). */
  since: Type.String({ format: 'date-time' }),
  windowDays: Type.Integer({ minimum: 1 }),
  records: Type.Array(TrafficRecordSchema, { maxItems: TRAFFIC_PAGE_LIMIT }),
  next: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type TrafficPage = Static<typeof TrafficPageSchema>;

export const ImpactBodySchema = Type.Object(
  { config: Type.Unknown({ description: 'The draft configuration document' }) },
  { additionalProperties: false },
);
export type ImpactBody = Static<typeof ImpactBodySchema>;

export const ImpactChangeSchema = Type.Object({
  clientIp: Type.String(),
  serverIp: Type.String(),
  authenticated: Type.Boolean(),
  recipientDomain: Type.String(),
  /** What the running version decides. */
  before: DecisionActionSchema,
  /** What the draft would decide. */
  after: DecisionActionSchema,
  /** RCPT decisions of the window this row stands for. */
  count: Type.Integer({ minimum: 1 }),
});
export type ImpactChange = Static<typeof ImpactChangeSchema>;

export const ImpactSchema = Type.Object({
  /** Since when the records reach back (ISO time). */
  since: Type.String({ format: 'date-time' }),
  /** RCPT decisions the records of every online node hold. */
  transactions: Type.Integer({ minimum: 0 }),
  /** Only rows whose action changes, most transactions first. */
  changes: Type.Array(ImpactChangeSchema),
});
export type ImpactResult = Static<typeof ImpactSchema>;
