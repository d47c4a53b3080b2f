/**
 * Relay battery against Postfix (a reliability battery: an open relay is the
 * worst bug this product can have). The same open-relay tricks as the SMTP
 * node's battery (@ims/reliability/relay-cases), from an unauthorised client
 * (127.0.0.2), against a real private Postfix running what renderPostfix()
 * makes of the same configurations: the default install, one with
 * routing-table hosts, IP and internal-address lists, and "Do not reroute"
 * with recipient rejection. Each case is a fresh session; when a recipient is
 * accepted the message is sent too, so a relay would show as mail at the
 * smart host or the routed host, a loopback sink. Nothing may reach it.
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '@ims/passwords';
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
import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postfixOwner } from './render';
import { createSaslServer, directoryVerifier, type SaslServer } from './sasl-server';
import { freePort } from './self-check';
import { SmtpProbe } from './smtp-probe';
import { type PostfixFixture, startPostfix, targetUnder, tempDir } from './testing/postfix-fixture';
import { type SmtpSink, startSink } from './testing/smtp-sink';

const record = battery({
  id: 'relay-postfix',
  title: 'Relay battery against Postfix: the same tricks, on Postfix as the product renders it',
  deliverable: 1,
  file: import.meta.filename,
});

const cases = relayCases();

interface Server {
  name: string;
  port: number;
  postfix: PostfixFixture;
  sasl: SaslServer;
}

let sink: SmtpSink;
const servers: Server[] = [];
let defaultServer: Server;
let noRerouteServer: Server;
/** Other safe configurations the same tricks run against. */
const others: Server[] = [];

async function server(name: string, config: RoutingConfig): Promise<Server> {
  const dir = tempDir('ims-relay-postfix-');
  const port = await freePort();
  const directory = [
    {
      address: 'alice@example.com',
      passwordHash: await hashPassword('alice-password', { N: 1024, r: 8, p: 1 }),
    },
  ];
  const target = targetUnder(dir, {
    listen: [{ host: RELAY_IP, port }],
    myhostname: RELAY_SERVER_NAME,
    smartHost: `${RELAY_IP}:${sink.port}`,
    saslSocket: join(dir, 'auth'),
  });
  const sasl = createSaslServer({
    socketPath: join(dir, 'auth'),
    verify: directoryVerifier(directory),
    owner: postfixOwner(),
  });
  await sasl.listen();
  const postfix = await startPostfix(dir, target, config, directory);
  const s = { name, port, postfix, sasl };
  servers.push(s);
  return s;
}

/** Messages in a Postfix queue (every queue: one deferred would be a delivery tried somewhere). */
async function queued(postfix: PostfixFixture): Promise<number> {
  let n = 0;
  for (const q of ['maildrop', 'incoming', 'active', 'deferred', 'hold']) {
    const entries = await readdir(join(postfix.target.queueDirectory, q), {
      recursive: true,
      withFileTypes: true,
    }).catch(() => []);
    n += entries.filter((e) => e.isFile()).length;
  }
  return n;
}

beforeAll(async () => {
  sink = await startSink();
  const { noReroute, busy } = relayConfigurations(`${RELAY_IP}:${sink.port}`);
  // One after the other: each takes a free port and binds it before the next looks.
  defaultServer = await server('the default install', defaultConfig('example.com'));
  noRerouteServer = await server(NO_REROUTE_NAME, noReroute);
  others.push(await server(BUSY_NAME, busy), noRerouteServer);
}, 180_000);

afterAll(async () => {
  for (const s of servers) {
    await s.postfix.stop();
    await s.sasl.close();
  }
  await sink?.close();
});

const last = (r: { lines: string[] }) => r.lines[r.lines.length - 1] ?? '';

/** One attempt in a fresh session; returns what went wrong, for the assertion. */
async function attempt(
  c: RelayCase,
  target = c.noReroute ? noRerouteServer : defaultServer,
): Promise<string[]> {
  const { probe, greeting } = await SmtpProbe.open(RELAY_IP, target.port, {
    localAddress: RELAY_CLIENT,
  });
  try {
    if (greeting.code !== 220) return [`greeting: ${last(greeting)}`];
    // Postfix answers a message it took with "250 2.0.0 Ok: queued as …".
    return await playRelayCase(c, async (line) => last(await probe.command(line)), /^250 /);
  } finally {
    await probe.quit();
  }
}

describe('relay battery against Postfix: an unauthorised client on the default configuration', () => {
  relayCaseTests(record, cases, others, attempt);

  it('afterwards nothing reached a non-local recipient: the sink got nothing, every queue is empty', async () => {
    await record.check(
      'nothing-relayed',
      async () => {
        // Postfix delivers after the 250: wait until its queues are empty.
        const deadline = Date.now() + 60_000;
        for (const s of servers) {
          while ((await queued(s.postfix)) > 0 && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 200));
          expect(await queued(s.postfix), `${s.name}: messages left in the queue`).toBe(0);
        }
        expect(sink.messages).toEqual([]);
      },
      'project',
    );
    record.note(
      `${cases.length} relay attempts, each in a fresh session from ${RELAY_CLIENT} to a private Postfix running renderPostfix()'s rendering, on the default configuration and again on: ${others.map((o) => o.name).join('; ')}.`,
    );
  });
});
