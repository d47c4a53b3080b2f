// Test helpers of the SMTP node, for its own tests and for e2e/.

export { ScriptedSocket } from './scripted-socket';
export { RawSmtp } from './smtp-client';
export { type SinkMessage, type SinkOptions, SmtpSink } from './smtp-sink';
