/**
 * The process edge of an SMTP node: environment, attach to the console,
 * listen, and SIGHUP (reload) / SIGTERM (drain and stop). With more than one
 * worker (IMS_SMTP_WORKERS) this process is the primary (cluster/primary.ts)
 * and its workers listen; with one, it listens itself.
 */

import { readFileSync } from 'node:fs';
import { ConsoleLink, consoleFetch, isLoopbackHost } from '@ims/node-link';
import { orExit } from '@ims/settings';
import { type AttachedNode, smtpEngine } from './attach';
import { ClusterNode } from './cluster/primary';
import { readEnv } from './config/env';
import { createLogger, eventLog } from './log';
import { SmtpNode } from './smtp-node';

const env = orExit(readEnv);
const logger = createLogger({ level: env.logLevel });
const options = {
  listen: env.listen,
  port: env.port,
  dataDir: env.dataDir,
  logger,
  trafficWindowDays: env.trafficWindowDays,
  clientLimits: env.clientLimits,
  sessionLimits: env.sessionLimits,
  maxRecipients: env.maxRecipients,
  ...(env.smartHost ? { smartHost: env.smartHost } : {}),
  ...(env.tlsCertFile && env.tlsKeyFile
    ? { tls: { cert: readFileSync(env.tlsCertFile), key: readFileSync(env.tlsKeyFile) } }
    : {}),
};
const node: AttachedNode & {
  start(bundle: unknown): Promise<void>;
  stop(): Promise<void>;
} =
  env.workers > 1
    ? new ClusterNode({ ...options, workers: env.workers, logLevel: env.logLevel })
    : new SmtpNode(options);
const link = new ConsoleLink(smtpEngine(node), {
  consoleUrl: env.consoleUrl,
  fetch: consoleFetch(
    env.consoleCaFile ? readFileSync(env.consoleCaFile) : undefined,
    isLoopbackHost(new URL(env.consoleUrl).hostname),
  ),
  token: env.nodeToken,
  dataDir: env.dataDir,
  // The console link takes a log function: its events go to the same log.
  log: eventLog(logger),
});

// Started by the console's launcher (with an IPC channel): when the launcher
// is gone, even killed outright, the node stops instead of running on
// unsupervised and holding the port. Listened for before anything slow, so
// a launcher that dies during the start is not missed.
let started = false;
const parentGone = () => (started ? shutdown() : process.exit(0));
if (process.send !== undefined) {
  if (!process.connected) process.exit(0);
  process.once('disconnect', parentGone);
}

await node.start(await link.initialBundle());
started = true;
logger.info({
  event: 'listening',
  listen: node.listening,
  version: node.runningVersion,
  workers: env.workers,
});
void link.run();

process.on('SIGHUP', () => void link.requestRestart());
// As `postqueue -f`: try every queued message now.
process.on('SIGUSR1', () => node.queue.flush());
// A mail server stays up: a stray rejection is logged, not fatal.
process.on('unhandledRejection', (reason) =>
  logger.error({ event: 'unhandled-rejection', error: String(reason) }),
);
const shutdown = () => {
  // Sessions get the drain time; past it the process goes anyway (accepted
  // mail is on disk, so nothing acknowledged is lost).
  setTimeout(() => process.exit(0), 35_000).unref();
  link.stop();
  node
    .stop()
    .catch((err: unknown) => logger.error({ event: 'stop-failed', error: String(err) }))
    .finally(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
