/**
 * The open-relay self-test (POST /api/v1/service/relay-test): a battery of
 * relay attempts against the running SMTP service from a loopback source
 * address, each reported as pass or fail with the reply received.
 */

import { type Static, Type } from 'typebox';

export const RelayTestBodySchema = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          'Loopback source address of the attempts (127.0.0.0/8 or ::1); default 127.0.0.1',
      }),
    ),
    node: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'The node to test (default: the first online node)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RelayTestBody = Static<typeof RelayTestBodySchema>;

export const RelayTestExpectationSchema = Type.Union([
  Type.Literal('reject'),
  Type.Literal('accept'),
]);

export const RelayTestCaseSchema = Type.Object({
  /** Stable id, e.g. `percent-hack`. */
  id: Type.String(),
  /** The address-trick family, e.g. `percent-hack`, `ndr-relay`, `control`. */
  family: Type.String(),
  description: Type.String(),
  /** The MAIL FROM path as sent, with angle brackets. */
  mailFrom: Type.String(),
  /** The RCPT TO path as sent, with angle brackets. */
  rcptTo: Type.String(),
  /** `reject`: a relay attempt that must be refused; `accept`: a control that must be accepted. */
  expected: RelayTestExpectationSchema,
  /** The deciding reply line (or what went wrong: connection refused, timeout). */
  reply: Type.String(),
  /** True when the reply accepted a recipient this service does not deliver itself: the attempt relayed. */
  relayed: Type.Boolean({
    description: 'The attempt relayed (a 2xx for a recipient that is not local)',
  }),
  passed: Type.Boolean(),
});
export type RelayTestCase = Static<typeof RelayTestCaseSchema>;

export const RelayTestResultSchema = Type.Object({
  from: Type.String(),
  target: Type.Object({ host: Type.String(), port: Type.Integer() }),
  /** True when every case passed. */
  passed: Type.Boolean(),
  /** The verdict in words, written by the server: "2 of 21 cases relayed: …". */
  summary: Type.String({ description: 'The verdict in words: "2 of 21 cases relayed: …"' }),
  /**
   * Set when the running configuration lets the source address relay (on the
   * client list, an internal address, or no restriction ticked): the attempts
   * from it relay as configured, so they are not failures; the sentence says why.
   */
  sourceMayRelay: Type.Optional(
    Type.String({ description: 'Why the source address may relay, when it may' }),
  ),
  cases: Type.Array(RelayTestCaseSchema),
});
export type RelayTestResult = Static<typeof RelayTestResultSchema>;
