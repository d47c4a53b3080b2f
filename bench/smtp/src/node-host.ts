/**
 * The product's SMTP node for the benchmark, as its own process: the
 * default configuration of a new install (site domain example.com,
 * authenticated relay only), alice@example.com (and 1alice … 50alice) in the
 * directory, no per-address session limits (as the Postfix peer), no console. With more than one worker (the third argument,
 * default the available cores, as IMS_SMTP_WORKERS) it is a primary and its
 * SMTP workers sharing the socket, as the node runs. It logs as a new
 * install does (level info: a line per RCPT decision) to its standard
 * output, which main.ts points at a file, as the Postfix peer writes its
 * maillog_file.
 * Prints `listening <port>` once ready.
 *
 * Usage: node --import tsx src/node-host.ts <port> <dataDir> [workers]
 *        node build/node-host.js …   (built by main.ts with scripts/build.mjs)
 */

import { availableParallelism } from 'node:os';
import { defaultConfig } from '@ims/routing-core';
import { ClusterNode, createLogger, SmtpNode } from '@ims/smtp';

const [port = '0', dataDir = '/tmp/ims-bench-node', workers] = process.argv.slice(2);
const n = Number(workers ?? availableParallelism());
const options = {
  listen: ['127.0.0.1'],
  port: Number(port),
  dataDir,
  hostname: 'ims.bench.example',
  // 1,000 idle sessions are held in the memory rows: room for them all on any one worker.
  maxClients: 1000 * Math.max(1, n) + 1000,
  // As the Postfix it is measured against (postfix.ts: smtpd_client_connection_count_limit
  // and smtpd_client_connection_rate_limit 0): smtp-source opens every session from
  // 127.0.0.1, thousands a minute, which the defaults (50 at once, 600 a minute) refuse.
  clientLimits: { maxConnectionsPerClient: 0, connectionRatePerMinute: 0 },
};
const node =
  n > 1
    ? new ClusterNode({ ...options, workers: n, logLevel: 'info' })
    : new SmtpNode({ ...options, logger: createLogger({ level: 'info' }) });
await node.start({
  version: 1,
  config: defaultConfig('example.com'),
  // smtp-source names the recipients of a multi-recipient message 1alice, 2alice, …
  directory: ['alice', ...Array.from({ length: 50 }, (_, i) => `${i + 1}alice`)].map((u) => ({
    address: `${u}@example.com`,
    passwordHash: 'scrypt$1024$8$1$AAAA$AAAA',
  })),
});
process.stdout.write(`listening ${node.listening[0]?.split(':').at(-1)}\n`);
const stop = async () => {
  await node.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
