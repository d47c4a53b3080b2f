/** Wire types, derived from the api-contract schemas (types only: nothing of it is bundled). */

import type {
  AuditEntrySchema,
  AuditPageSchema,
  ConfigChangeSchema,
  DiffSchema,
  EvaluateBodySchema,
  EvaluateResultSchema,
  FindingSchema,
  MailboxListSchema,
  MailboxSchema,
  NodeViewSchema,
  RelayTestCaseSchema,
  RelayTestResultSchema,
  RestartResultSchema,
  RoutingStateSchema,
  ServiceSchema,
  SessionSchema,
  VersionListSchema,
  VersionSchema,
  VersionSummarySchema,
} from '@ims/api-contract';
import type { Static } from 'typebox';

export type RoutingState = Static<typeof RoutingStateSchema>;
export type FindingBody = Static<typeof FindingSchema>;
export type Session = Static<typeof SessionSchema>;
export type SessionInfo = {
  user: { username: string; scope?: 'read' | 'write' };
  csrfToken?: string;
};
export type Service = Static<typeof ServiceSchema>;
export type NodeView = Static<typeof NodeViewSchema>;
export type RestartResult = Static<typeof RestartResultSchema>;
export type VersionList = Static<typeof VersionListSchema>;
export type VersionSummary = Static<typeof VersionSummarySchema>;
export type Version = Static<typeof VersionSchema>;
export type Diff = Static<typeof DiffSchema>;
export type ConfigChange = Static<typeof ConfigChangeSchema>;
export type EvaluateBody = Static<typeof EvaluateBodySchema>;
export type EvaluateResult = Static<typeof EvaluateResultSchema>;
export type AuditPage = Static<typeof AuditPageSchema>;
export type AuditEntry = Static<typeof AuditEntrySchema>;
export type MailboxList = Static<typeof MailboxListSchema>;
export type Mailbox = Static<typeof MailboxSchema>;

/** POST /api/v1/service/relay-test */
export type RelayTestCase = Static<typeof RelayTestCaseSchema>;
export type RelayTestResult = Static<typeof RelayTestResultSchema>;
