/**
 * The process edge of a Postfix node: environment, the private instance, the
 * AUTH socket, attach to the console; SIGHUP re-applies the target version,
 * SIGTERM stops Postfix and the agent.
 */

import { readFileSync } from 'node:fs';
import { ConsoleLink, consoleFetch, isLoopbackHost } from '@ims/node-link';
import { orExit } from '@ims/settings';
import { pino } from 'pino';
import { PostfixNode } from './agent';
import { readEnv } from './config/env';

const env = orExit(readEnv);
const logger = pino({ level: env.logLevel, base: { pid: process.pid, engine: 'postfix' } });
const log = (entry: Record<string, unknown>) =>
  entry.event === 'restart-failed' ? logger.error(entry) : logger.info(entry);

const node = new PostfixNode({
  root: env.dataDir.startsWith('/') ? env.dataDir : `${process.cwd()}/${env.dataDir}`,
  target: {
    listen: env.listen.map((host) => ({ host, port: env.port })),
    myhostname: env.myhostname,
    ...(env.smartHost ? { smartHost: env.smartHost } : {}),
    ...(env.tlsCertFile && env.tlsKeyFile
      ? { tls: { cert: env.tlsCertFile, key: env.tlsKeyFile } }
      : {}),
  },
  log,
});
const link = new ConsoleLink(node, {
  consoleUrl: env.consoleUrl,
  // An HTTPS console with a certificate of its own (IMS_CONSOLE_CA), as the SMTP node.
  fetch: consoleFetch(
    env.consoleCaFile ? readFileSync(env.consoleCaFile) : undefined,
    isLoopbackHost(new URL(env.consoleUrl).hostname),
  ),
  token: env.nodeToken,
  dataDir: env.dataDir,
  log,
  // A Postfix reload takes a while: the console shows it; the agent logs `restarted`.
  announceRestarts: true,
  // A failed apply may leave Postfix on neither version: the next restart applies again.
  reapplyAfterError: true,
});

let started = false;
let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 30_000).unref();
  link.stop();
  node
    .stop()
    .catch((err: unknown) => logger.error({ event: 'stop-failed', error: String(err) }))
    .finally(() => process.exit(0));
};
// Started by the console's launcher (with an IPC channel): when it is gone,
// Postfix and the agent stop instead of running on unsupervised.
if (process.send !== undefined) {
  if (!process.connected) process.exit(0);
  process.once('disconnect', () => (started ? shutdown() : process.exit(0)));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
process.on('unhandledRejection', (reason) =>
  logger.error({ event: 'unhandled-rejection', error: String(reason) }),
);

await node.start();
await link.startWith(await link.initialBundle());
started = true;
logger.info({ event: 'listening', listen: node.listening, version: node.runningVersion });
void link.run();
process.on('SIGHUP', () => void link.requestRestart());
