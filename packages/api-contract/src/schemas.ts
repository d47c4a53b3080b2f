/** The schemas of the core resources: problems, routing, session and tokens, audit. */

import { type Static, Type } from 'typebox';

// ---- Errors (RFC 9457) ----------------------------------------------------

export const FieldErrorSchema = Type.Object({
  /** JSON Pointer (RFC 6901) into the request body. */
  pointer: Type.String(),
  detail: Type.String(),
});
export type FieldError = Static<typeof FieldErrorSchema>;

export const FindingSchema = Type.Object({
  id: Type.String(),
  code: Type.String(),
  severity: Type.Union([Type.Literal('critical'), Type.Literal('warning'), Type.Literal('info')]),
  message: Type.String(),
  reference: Type.String(),
  pointer: Type.Optional(Type.String()),
  fix: Type.Optional(
    Type.Object({
      description: Type.String(),
      patch: Type.Array(
        Type.Object({
          op: Type.String(),
          path: Type.String(),
          value: Type.Optional(Type.Unknown()),
        }),
      ),
    }),
  ),
});
export type FindingBody = Static<typeof FindingSchema>;

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
    findings: Type.Optional(Type.Array(FindingSchema)),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof ProblemSchema>;

// ---- The routing configuration document ---------------------------------

export { RoutingConfigSchema } from './config-schema';

import { RoutingConfigSchema } from './config-schema';

export const ActorSchema = Type.String({ description: 'User name, or "token:<name>"' });

export const RoutingStateSchema = Type.Object({
  version: Type.Integer(),
  savedAt: Type.String({ format: 'date-time' }),
  savedBy: ActorSchema,
  config: RoutingConfigSchema,
  findings: Type.Array(FindingSchema),
});
export type RoutingState = Static<typeof RoutingStateSchema>;

export const AcknowledgeSchema = Type.Array(Type.String({ maxLength: 300 }), {
  maxItems: 1000,
  description: 'Ids of critical findings the caller accepts',
});

export const RoutingPutBodySchema = Type.Object(
  {
    config: RoutingConfigSchema,
    acknowledge: Type.Optional(AcknowledgeSchema),
    comment: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type RoutingPutBody = Static<typeof RoutingPutBodySchema>;

export const VersionSummarySchema = Type.Object({
  version: Type.Integer(),
  savedAt: Type.String({ format: 'date-time' }),
  savedBy: ActorSchema,
  comment: Type.Optional(Type.String()),
  restoredFrom: Type.Optional(Type.Integer()),
});
export type VersionSummary = Static<typeof VersionSummarySchema>;

export const VersionListSchema = Type.Object({
  versions: Type.Array(VersionSummarySchema),
  /** Pass as `before` for the next, older page. */
  nextBefore: Type.Optional(Type.Integer()),
});

export const VersionSchema = Type.Object({
  ...VersionSummarySchema.properties,
  config: RoutingConfigSchema,
});

export const VersionsQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
});

export const VersionParamsSchema = Type.Object({ n: Type.Integer({ minimum: 1 }) });

export const RestoreBodySchema = Type.Object(
  {
    acknowledge: Type.Optional(AcknowledgeSchema),
    comment: Type.Optional(
      Type.String({
        maxLength: 500,
        description: 'The new version\'s comment (default: "Restored version n")',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RestoreBody = Static<typeof RestoreBodySchema>;

export const DiffQuerySchema = Type.Object({
  from: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('running')], {
    description: 'A version, or "running": the oldest version an online node runs',
  }),
  to: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: the saved version' })),
});

export const ConfigChangeSchema = Type.Object({
  /** JSON Pointer into the `from` document (remove, change) or the `to` document (add). */
  pointer: Type.String(),
  kind: Type.Union([Type.Literal('add'), Type.Literal('remove'), Type.Literal('change')]),
  /** What changed, in the dialog's words. */
  summary: Type.String(),
  before: Type.Optional(Type.Unknown()),
  after: Type.Optional(Type.Unknown()),
});

export const DiffSchema = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  changes: Type.Array(ConfigChangeSchema),
});

export const AdviceBodySchema = Type.Object(
  { config: Type.Unknown({ description: 'A draft configuration document (may be invalid)' }) },
  { additionalProperties: false },
);
export const AdviceSchema = Type.Object({ findings: Type.Array(FindingSchema) });

export const EvaluateBodySchema = Type.Object(
  {
    against: Type.Union([Type.Literal('draft'), Type.Literal('saved'), Type.Literal('running')]),
    config: Type.Optional(Type.Unknown({ description: 'The draft, when against is "draft"' })),
    clientIp: Type.String({ maxLength: 64 }),
    serverIp: Type.String({ maxLength: 64 }),
    authenticated: Type.Boolean(),
    mailFrom: Type.String({ maxLength: 512 }),
    rcptTo: Type.String({ maxLength: 512 }),
  },
  { additionalProperties: false },
);
export type EvaluateBody = Static<typeof EvaluateBodySchema>;

export const EvaluateResultSchema = Type.Object({
  against: Type.String(),
  version: Type.Optional(Type.Integer()),
  decision: Type.Object(
    {
      action: Type.String(),
      reason: Type.String(),
      rule: Type.Optional(Type.Unknown()),
      route: Type.Optional(Type.Unknown()),
      trace: Type.Array(Type.String()),
    },
    { additionalProperties: true },
  ),
  reply: Type.Object({
    code: Type.Integer(),
    enhanced: Type.String(),
    text: Type.String(),
    /** The line as sent: `550 5.7.1 Relaying is prohibited`. */
    line: Type.String(),
  }),
});

// ---- Session and tokens ---------------------------------------------------

export const LoginBodySchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export const UserSchema = Type.Object({ username: Type.String() });
export const SessionSchema = Type.Object({ user: UserSchema, csrfToken: Type.String() });
export type Session = Static<typeof SessionSchema>;
/** GET /api/v1/session: the CSRF token is there for a browser session only. */
export const SessionInfoSchema = Type.Object({
  user: UserSchema,
  csrfToken: Type.Optional(Type.String()),
});
export type SessionInfo = Static<typeof SessionInfoSchema>;

/** The longest a token may be made to last: ten years. */
export const MAX_TOKEN_LIFETIME_SECONDS = 10 * 366 * 24 * 3600;
export const TokenScopeSchema = Type.Union([Type.Literal('read'), Type.Literal('write')]);
export type TokenScope = Static<typeof TokenScopeSchema>;
export const TokenCreateBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
    scope: TokenScopeSchema,
    /** Seconds until the token expires (none: it lasts until revoked). */
    expiresIn: Type.Optional(Type.Integer({ minimum: 60, maximum: MAX_TOKEN_LIFETIME_SECONDS })),
  },
  { additionalProperties: false },
);
export const TokenSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  scope: TokenScopeSchema,
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: ActorSchema,
  lastUsedAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** When it stops working (absent: until revoked). */
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
});
export const TokenCreatedSchema = Type.Object({
  ...TokenSchema.properties,
  /** The secret: shown once, stored only as a hash. */
  token: Type.String(),
});
export const TokenListSchema = Type.Object({ tokens: Type.Array(TokenSchema) });
export const IdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** PUT /api/v1/session/password: the signed-in user's own password. */
export const PasswordChangeBodySchema = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1000 }),
    newPassword: Type.String({ minLength: 8, maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export type PasswordChangeBody = Static<typeof PasswordChangeBodySchema>;
export const PasswordChangedSchema = Type.Object({
  /** The user's other sessions, signed out by the change. */
  revokedSessions: Type.Integer(),
  /** Tokens those sessions had created, revoked with them. */
  revokedTokens: Type.Integer(),
});
export type PasswordChanged = Static<typeof PasswordChangedSchema>;

/** One browser session (or `ims` sign-in) of a console user. */
export const SessionViewSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  clientAddress: Type.String(),
  userAgent: Type.String(),
  /** The session this request came from. */
  current: Type.Boolean(),
});
export type SessionView = Static<typeof SessionViewSchema>;
export const SessionListSchema = Type.Object({ sessions: Type.Array(SessionViewSchema) });
export type SessionList = Static<typeof SessionListSchema>;
export const SessionParamsSchema = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{24}$' }),
});
export const SessionRevokedSchema = Type.Object({
  /** Tokens created in that session, revoked with it. */
  revokedTokens: Type.Integer(),
});
export type SessionRevoked = Static<typeof SessionRevokedSchema>;

// ---- Audit ----------------------------------------------------------------

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: ActorSchema,
  /** For a token actor: the user who created the token (the person behind it). */
  person: Type.Optional(
    Type.String({ description: 'For a token actor: the user who created the token' }),
  ),
  /** Who, for reading: the actor, or "admin via token deploy" for a token. */
  by: Type.String({ description: 'Who, for reading: "admin", or "admin via token deploy"' }),
  source: Type.String({ description: 'Client address' }),
  action: Type.String(),
  target: Type.Optional(Type.String()),
  /**
   * One line a person reads, written by the server (the History tab's
   * sentences for a save: "Added route partner.example → mx.partner.example").
   */
  summary: Type.String({ description: 'A human-readable summary of the entry' }),
  details: Type.Optional(Type.Unknown()),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;
/** The actions that are sign-ins and sign-outs (hidden with `signIns=false`). */
export const SIGN_IN_ACTIONS = ['login', 'login.failed', 'logout'] as const;
export const AuditQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  action: Type.Optional(
    Type.String({
      maxLength: 100,
      description:
        'An action (`routing.saved`: that action only), or an action family ending with a dot (`routing.`: every action that starts with it)',
    }),
  ),
  actor: Type.Optional(Type.String({ maxLength: 100 })),
  signIns: Type.Optional(
    Type.Boolean({
      default: true,
      description:
        'false leaves out sign-ins and sign-outs (login, login.failed, logout); default true',
    }),
  ),
});
export type AuditQuery = Static<typeof AuditQuerySchema>;
export const AuditPageSchema = Type.Object({
  entries: Type.Array(AuditEntrySchema),
  nextBefore: Type.Optional(Type.Integer()),
});

export const HealthSchema = Type.Object({ status: Type.Literal('ok') });
