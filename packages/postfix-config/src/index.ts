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
  type MailboxList,
  maildirName,
  PostfixRenderError,
  type PostfixTarget,
  type RenderedPostfix,
  relayClassName,
  renderMaster,
  renderPostfix,
} from './render';
