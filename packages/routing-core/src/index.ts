// @ims/routing-core: the pure routing policy engine. No I/O, no Node APIs:
// the SMTP node, the console and the browser all run this same code.

export {
  type AdviceContext,
  advise,
  applyFix,
  CHECKS,
  type Check,
  type CheckContext,
  type Finding,
  type Fix,
  type JsonPatchOperation,
  type Severity,
} from './advise';
export {
  type AddressListName,
  type AddressRule,
  type CriterionRule,
  compile,
  InvalidConfigError,
  Policy,
  RESTRICTION_LABELS,
  type RouteRule,
  type Rule,
} from './compile';
export {
  type AddressList,
  defaultConfig,
  INBOUND,
  type IpEntry,
  MAX_ENTRIES,
  MAX_ROUTES,
  type RerouteMode,
  type Restrictions,
  type Route,
  type RoutingConfig,
  routingConfigJsonSchema,
} from './config';
export {
  type Directory,
  decide,
  directoryLookup,
  type Envelope,
  type Verdict,
  type WireReply,
} from './decide';
export { type ConfigChange, diffConfigs } from './diff';
export { isDomainAtOrBelow, normaliseDomain, punycodeEncode } from './domain';
export {
  type Action,
  type Decision,
  type EvaluateInput,
  type EvaluateOptions,
  evaluate,
  locateDomain,
  type NextHop,
  policyOf,
  type Reason,
} from './evaluate';
export {
  ACTIONS,
  envelopeOf,
  IMPACT_LOCAL_PART,
  type Impact,
  type ImpactChange,
  impact,
  mergeImpacts,
  recipientDomainOf,
  recordTotal,
  type TrafficKey,
  type TrafficRecord,
  trafficKeyOf,
} from './impact';
export { describeImpactChange, describeImpactSummary, impactOutcome } from './impact-text';
export {
  formatIp,
  type IpAddress,
  type IpFamily,
  parseIp,
  parseMask,
  parsePeerIp,
  prefixContains,
} from './ip';
export { IpPrefixTable } from './ip-table';
export {
  type DomainKind,
  type Mailbox,
  type ParsedPath,
  type ParsePathOptions,
  type PathError,
  parsePath,
} from './path';
export {
  formatLimitReply,
  formatReply,
  REPLIES,
  replyFor,
  type SmtpReply,
  START_MAIL_INPUT,
} from './replies';
export { findRoute, routeExistsMessage, sentToKey } from './route-exists';
export { type HostKind, hostKind, isSelfTarget, SMTP_PORT, splitHostPort } from './self-target';
export {
  escapePointer,
  formatRouteTarget,
  type Normalized,
  normalizeEntry,
  normalizeRoute,
  parseIpEntry,
  parseRouteTarget,
  parseSentTo,
  type RouteTarget,
  type ValidationIssue,
  type ValidationResult,
  validate,
} from './validate';
