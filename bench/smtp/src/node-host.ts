/**
 * The product's SMTP node for the benchmark, as its own process: the
 * default configuration of a new install (site domain example.com,
 * authenticated relay only), alice@example.com (and 1alice … 50alice) in the
 * directory, no console.
 * Prints `listening <port>` once ready.
 *
 * Usage: node --import tsx src/node-host.ts <port> <dataDir>
 */

import { defaultConfig } from '@ims/routing-core';
import { SmtpNode } from '@ims/smtp';

const [port = '0', dataDir = '/tmp/ims-bench-node'] = process.argv.slice(2);
const node = new SmtpNode({
  listen: ['127.0.0.1'],
  port: Number(port),
  dataDir,
  hostname: 'ims.bench.example',
  maxClients: 1000,
});
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
