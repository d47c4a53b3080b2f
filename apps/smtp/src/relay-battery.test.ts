/**
 * Relay battery (a reliability battery: an open relay is the worst bug this product can have): every open-relay trick the public
 * relay testers try, from an unauthorised client (127.0.0.2) against the
 * real SMTP node on the default configuration. Each case is a fresh session;
 * when a recipient is accepted the message is sent too (as Metasploit's
 * smtp_relay does), so a relay would show as mail at the smart host, which
 * is a loopback sink. Nothing may reach it, nor any non-local recipient.
 *
 * The cases and their sources are in @ims/reliability/relay-cases, which
 * packages/postfix-config's battery runs against Postfix as the product
 * renders it.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { battery } from '@ims/reliability';
import {
  BUSY_NAME,
  NO_REROUTE_NAME,
  playRelayCase,
  RELAY_CLIENT,
  RELAY_IP,
  RELAY_SERVER_NAME,
  type RelayCase,
  relayCases,
  relayCaseTests,
  relayConfigurations,
} from '@ims/reliability/relay-cases';
import { defaultConfig } from '@ims/routing-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode } from './cluster/primary';
import { bundle } from './testing/node-fixture';
import { RawSmtp } from './testing/smtp-client';
import { SmtpSink } from './testing/smtp-sink';

const record = battery({
  id: 'relay',
  title: 'Relay battery: open-relay tricks from an unauthorised client',
  deliverable: 1,
  file: import.meta.filename,
});

/** SMTP workers of each node under test (cluster/): the battery runs against several. */
const WORKERS = 2;

const cases = relayCases();

let sink: SmtpSink;
const nodes: { node: ClusterNode; port: number; dataDir: string }[] = [];
let defaultNode: { node: ClusterNode; port: number };
let noRerouteNode: { node: ClusterNode; port: number };
/** Other safe configurations the same tricks run against. */
const others: { name: string; node: { node: ClusterNode; port: number } }[] = [];

async function node(config = defaultConfig('example.com')) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ims-relay-'));
  // Several SMTP workers sharing the socket, as a node runs by default.
  const n = new ClusterNode({
    listen: [RELAY_IP],
    port: 0,
    dataDir,
    hostname: RELAY_SERVER_NAME,
    smartHost: { host: sink.host, port: sink.port },
    queue: { retryScheduleMs: [100], connectionTimeoutMs: 2000 },
    workers: WORKERS,
    logLevel: 'silent',
  });
  await n.start(bundle(1, config));
  const entry = { node: n, port: Number(n.listening[0]?.split(':').at(-1)), dataDir };
  nodes.push(entry);
  return entry;
}

beforeAll(async () => {
  sink = await SmtpSink.start();
  const { noReroute, busy } = relayConfigurations(`127.0.0.1:${sink.port}`);
  // Started side by side: each is a primary and its worker processes.
  const starting = node(noReroute);
  defaultNode = await node();
  noRerouteNode = await starting;
  others.push({ name: BUSY_NAME, node: await node(busy) });
  others.push({ name: NO_REROUTE_NAME, node: noRerouteNode });
  // Worker processes start slowly on a busy machine.
}, 180_000);

afterAll(async () => {
  for (const n of nodes) {
    await n.node.stop();
    rmSync(n.dataDir, { recursive: true, force: true });
  }
  await sink?.close();
});

/** One attempt in a fresh session; returns what went wrong, for the assertion. */
async function attempt(
  c: RelayCase,
  target = c.noReroute ? noRerouteNode : defaultNode,
): Promise<string[]> {
  const s = await RawSmtp.open(target.port, RELAY_IP, RELAY_CLIENT);
  try {
    const greeting = await s.reply();
    if (!greeting.startsWith('220 ')) return [`greeting: ${greeting}`];
    const problems = await playRelayCase(
      c,
      (line) => s.cmd(line),
      /^250 2\.6\.0 Message accepted$/,
    );
    await s.cmd('QUIT');
    return problems;
  } finally {
    s.close();
  }
}

describe('relay battery: an unauthorised client on the default configuration', () => {
  relayCaseTests(record, cases, others, (c, other) => attempt(c, other?.node));

  it('afterwards nothing reached a non-local recipient: the smart host got nothing, the queue is empty, no report went out', async () => {
    await record.check(
      'nothing-relayed',
      async () => {
        // Copies are written just after each 250: wait for them, then for the queue.
        for (const n of nodes) {
          await n.node.settled();
          await n.node.queue.idle();
        }
        expect(sink.messages).toEqual([]);
        for (const n of nodes) {
          expect(n.node.counters).toMatchObject({
            queueMessages: 0,
            outboundDelivered: 0,
            outboundFailed: 0,
            ndrsSent: 0,
          });
        }
        // The controls and the mixed transaction were delivered locally: the node was deciding.
        expect(defaultNode.node.counters.messagesAccepted).toBe(3);
        expect(defaultNode.node.counters.relayDenied).toBeGreaterThan(50);
      },
      'project',
    );
    record.note(
      `${cases.length} relay attempts, each in a fresh session from ${RELAY_CLIENT} to nodes of ${WORKERS} SMTP workers, on the default configuration and again on: ${others.map((o) => o.name).join('; ')}.`,
    );
  });
});
