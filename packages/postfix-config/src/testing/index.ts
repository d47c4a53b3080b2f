// Test helpers for a private Postfix (also for apps/postfix-node's tests): a
// fixture that starts and stops one from a rendering, and an SMTP sink.

export { type PostfixFixture, startPostfix, targetUnder, tempDir } from './postfix-fixture';
export { type SmtpSink, type SunkMessage, startSink } from './smtp-sink';
