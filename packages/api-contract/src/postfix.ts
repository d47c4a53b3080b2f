/** The Postfix export: a saved version rendered as Postfix's files (docs/postfix.md). */

import { Type } from 'typebox';

export const PostfixExportParamsSchema = Type.Object({ n: Type.Integer({ minimum: 1 }) });

export const PostfixExportQuerySchema = Type.Object(
  {
    listen: Type.Optional(
      Type.String({
        maxLength: 1000,
        pattern: '^[0-9A-Fa-f.:,\\[\\] ]*$',
        description:
          'Comma list of the addresses Postfix listens on (IMS_SMTP_LISTEN); default 0.0.0.0, every address',
      }),
    ),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 25 })),
    smartHost: Type.Optional(
      Type.String({
        maxLength: 270,
        pattern: '^[^\\s]+$',
        description: 'IMS_SMART_HOST, host:port',
      }),
    ),
    myhostname: Type.Optional(Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' })),
    saslSocket: Type.Optional(
      Type.String({
        maxLength: 500,
        pattern: '^/[^\\s]*$',
        description: "Absolute path of the agent's auth socket; absent = no SMTP AUTH",
      }),
    ),
  },
  { additionalProperties: false },
);

export const PostfixExportSchema = Type.Object({
  version: Type.Integer(),
  /** File name (relative to Postfix's config directory) -> content. */
  files: Type.Record(Type.String(), Type.String()),
});
