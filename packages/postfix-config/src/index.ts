// @ims/postfix-config: Postfix as the SMTP service the console drives.
// docs/postfix.md has the mapping and its limits.

export {
  PostfixCommandError,
  PostfixInstance,
  prepareDirectories,
  runPostfixCommand,
  validateRendering,
  writeRendering,
} from './instance';
export {
  FILES,
  isWildcard,
  type MailboxList,
  maildirName,
  PostfixRenderError,
  type PostfixTarget,
  postfixOwner,
  type RenderedPostfix,
  relayClassName,
  renderMaster,
  renderPostfix,
} from './render';
export {
  createSaslServer,
  directoryVerifier,
  MAX_LINE,
  MAX_PENDING,
  type SaslLog,
  type SaslServer,
  type SaslServerOptions,
} from './sasl-server';
export {
  type Disagreement,
  freePort,
  generateProbes,
  type ProbeCase,
  type SelfCheckOptions,
  type SelfCheckResult,
  selfCheck,
} from './self-check';
export { type Reply, SmtpProbe } from './smtp-probe';
