/**
 * An SMTP worker (started by cluster/primary.ts with cluster.fork): one
 * SmtpNode that listens on the node's shared sockets, with its own journal
 * segment directory (so group commit still batches its sessions), and hands
 * each queue job it writes to the primary's one queue runner.
 */

import { join } from 'node:path';
import type { Action, TrafficKey } from '@ims/routing-core';
import type { DecisionRecorder } from '../decision-records';
import type { Anvil } from '../limits/anvil';
import { createLogger } from '../log';
import { SmtpNode } from '../smtp-node';
import { type Call, Channel, type Port, proxy } from './channel';
import type { PrimaryToWorker, QueueRunner, TrafficSink, WorkerToPrimary } from './protocol';

if (process.send === undefined) {
  process.stderr.write('cluster/worker.ts is started by the node (main.ts), not on its own\n');
  process.exit(2);
}

const port: Port = {
  send: (m) => process.send?.(m),
  on: (e, fn) => process.on(e, fn),
  off: (e, fn) => process.off(e, fn),
};
const channel = new Channel<WorkerToPrimary, PrimaryToWorker>(port);
// The primary decides: a terminal's Ctrl-C or hang-up reaches the whole group.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGUSR1'] as const) process.on(signal, () => undefined);

const { slot, settings, bundle } = await channel.request('init', null);
const { logLevel, ...options } = settings;
const logger = createLogger({ level: logLevel }).child({ worker: slot });
const call = (c: Call) => channel.request('call', c);
// Per-client limits count across workers: the primary holds the node's one Anvil.
const anvil = proxy<Anvil>(call, 'anvil', ['connect', 'disconnect', 'authAllowed', 'authDone']);
// Decision records go to the primary's one store, in batches (record() never waits).
const sink = proxy<TrafficSink>(call, 'traffic', ['recordBatch']);
let batch: [TrafficKey, Action][] = [];
const flushTraffic = (): Promise<void> => {
  if (batch.length === 0) return Promise.resolve();
  const out = batch;
  batch = [];
  return sink
    .recordBatch(out)
    .catch((err: unknown) => logger.warn({ event: 'traffic-forward-failed', error: String(err) }));
};
setInterval(flushTraffic, 250).unref();
const trafficRecorder: DecisionRecorder = {
  record: (key, action) => {
    batch.push([key, action]);
    if (batch.length >= 500) void flushTraffic();
  },
};
const runner = proxy<QueueRunner>(call, 'queue', ['adopt']);
const node = new SmtpNode({
  ...options,
  ...(options.tls
    ? { tls: { cert: Buffer.from(options.tls.cert), key: Buffer.from(options.tls.key) } }
    : {}),
  logger,
  anvil,
  trafficRecorder,
  journalDir: join(options.dataDir, 'journal', `w${slot}`),
  queueHandOff: (name, at) =>
    void runner
      .adopt(name, at)
      .catch((err: unknown) =>
        logger.error({ event: 'queue-handoff-failed', job: name, error: String(err) }),
      ),
});

channel.handle('load', (b) => {
  node.load(b);
  return node.runningVersion ?? 0;
});
// The console reads the decision records: what this worker counted so far goes first.
channel.handle('flushTraffic', () => flushTraffic().then(() => null));
channel.handle('settled', async () => {
  await node.settled();
  return node.counters;
});
channel.on('directory', (entries) => node.setDirectory(entries));

const stop = () => {
  void flushTraffic();
  setTimeout(() => process.exit(0), 35_000).unref();
  node
    .stop()
    .catch((err: unknown) => logger.error({ event: 'stop-failed', error: String(err) }))
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.on('unhandledRejection', (reason) =>
  logger.error({ event: 'unhandled-rejection', error: String(reason) }),
);

try {
  await node.start(bundle);
} catch (err) {
  channel.notify('failed', { error: err instanceof Error ? err.message : String(err) });
  // Let the note go out before the exit.
  setTimeout(() => process.exit(1), 100);
  await new Promise(() => undefined);
}
channel.notify('ready', { version: node.runningVersion ?? 0, listening: node.listening });
const totals = setInterval(() => channel.notify('totals', node.counters), 1000);
totals.unref();
