/**
 * The local directory (docs/design.md §2 "The directory"): the mailboxes this
 * service delivers to and authenticates. The password is write-only: it is in
 * the create and update bodies, never in an answer.
 */

import { type Static, Type } from 'typebox';

export const MailboxSchema = Type.Object({
  id: Type.Integer(),
  /** Canonical and lower-case: `alice@example.com`. */
  address: Type.String(),
  displayName: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Mailbox = Static<typeof MailboxSchema>;

const PasswordSchema = Type.String({
  minLength: 8,
  maxLength: 1000,
  description: 'Write-only: stored as a slow salted hash, never returned',
});
/**
 * No control characters (C0, DEL, C1, line and paragraph separators): a
 * display name ends up in headers, logs and terminals.
 */
export const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029]*$';
const DisplayNameSchema = Type.String({
  maxLength: 200,
  pattern: NO_CONTROL_CHARACTERS,
  description: 'Any text without control characters',
});

export const MailboxCreateBodySchema = Type.Object(
  {
    address: Type.String({
      maxLength: 254,
      description:
        'local@domain, under an <inbound> domain of the saved configuration or the site domain',
    }),
    displayName: DisplayNameSchema,
    password: PasswordSchema,
  },
  { additionalProperties: false },
);
export type MailboxCreateBody = Static<typeof MailboxCreateBodySchema>;

export const MailboxUpdateBodySchema = Type.Object(
  {
    displayName: Type.Optional(DisplayNameSchema),
    password: Type.Optional(PasswordSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type MailboxUpdateBody = Static<typeof MailboxUpdateBodySchema>;

export const MailboxListSchema = Type.Object({ mailboxes: Type.Array(MailboxSchema) });
export type MailboxList = Static<typeof MailboxListSchema>;

export const MailboxParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1 }) });
