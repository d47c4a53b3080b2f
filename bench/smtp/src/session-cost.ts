/**
 * CPU per relay-denied session in one process, without the network: the
 * node's listener (SmtpNode#acceptConnection), a bare smtp-server with the
 * node's settings and one hook that refuses the recipient, and the bare
 * Node.js responder of the floor (floor-session.ts). Every session is a
 * ScriptedSocket running smtp-source's exchange with `-A` (EHLO, MAIL FROM,
 * RCPT TO refused, DATA, QUIT), ten at a time; the three take turns in
 * rounds and each reports its median.
 *
 * What the wire rows cannot show: with the kernel left out (the write, read,
 * accept and close of a session, most of its cost on the wire) and no load
 * generator sharing the CPUs, what is left is the JavaScript of a session,
 * measured steadily enough to compare the node with its library. On the
 * wire the node's worker spends about 350 µs of CPU per relay-denied
 * transaction and the floor's about 220 (docs/benchmarks-notes.md).
 *
 *   pnpm --filter @ims/bench-smtp run session-cost            full run (about a minute)
 *   pnpm --filter @ims/bench-smtp run session-cost --quick    smoke run
 *   … run session-cost --only=node    one of them alone (node, library, floor): to profile it
 *
 * Prints a table, then one JSON line for scripts/bench.mjs.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@ims/routing-core';
import { SmtpNode } from '@ims/smtp';
import { ScriptedSocket } from '@ims/smtp/testing';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { floorSession } from './floor-session';

const SCRIPT = [
  'EHLO source.bench.example',
  'MAIL FROM:<sender@remote.example>',
  'RCPT TO:<victim@elsewhere.example>',
  'DATA',
  'QUIT',
];
/** The replies every one of the three must give: the run stops if one does not. */
const EXPECTED = '220 250 250 550 503 221';
const CONCURRENT = 10;

const quick = process.argv.includes('--quick');
const sessionsPerRound = quick ? 500 : 10_000;
const rounds = quick ? 3 : 9;
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

/**
 * smtp-server as it comes, with the node's settings (listener.ts) and a
 * recipient hook that refuses with the node's line. One change, in its
 * init(): the library waits 100 ms before its greeting (an early-talker
 * check), which the node does not (ims-smtp-server.ts, 1); this greets at
 * once too, so that a round does not wait on timers. The wait is idle time,
 * not CPU. init()'s connection-count check is kept. A session's error is
 * emitted on the server, which has no listener here: it ends the run, as it
 * should, for scripted sessions have none.
 */
class BareSmtpServer extends SMTPServer {
  override connect(socket: Socket, options?: ConstructorParameters<typeof SMTPConnection>[2]) {
    const connection = new SMTPConnection(this, socket, options);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection._setListeners(() => {
      const max = this.options.maxClients;
      if (max && this.connections.size > max) {
        connection.send(
          421,
          `${connection.name} Too many connected clients, try again in a moment`,
          false,
        );
        return;
      }
      connection.connectionReady();
    });
  }
}

function bareLibrary(): Server {
  const refused = Object.assign(new Error('5.7.1 Relaying is prohibited'), { responseCode: 550 });
  const options: SMTPServerOptions = {
    name: 'ims.bench.example',
    banner: 'Internet Mail Service ready',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: true,
    hideSTARTTLS: true,
    disabledCommands: ['STARTTLS', 'WIZ', 'SHELL', 'KILL'],
    hideENHANCEDSTATUSCODES: false,
    hideSMTPUTF8: true,
    lenientAddressParsing: true,
    hideDSN: true,
    disableReverseLookup: true,
    logger: false,
    maxClients: 100_000,
    onRcptTo: (_address, _session, callback) => callback(refused),
  };
  return new BareSmtpServer(options).server;
}

/** CPU microseconds per session over `count` sessions, CONCURRENT at a time. */
async function round(accept: (socket: ScriptedSocket) => void, count: number): Promise<number> {
  const before = process.cpuUsage();
  let started = 0;
  let finished = 0;
  await new Promise<void>((resolve) => {
    const next = () => {
      if (started === count) return;
      started++;
      const socket = new ScriptedSocket(SCRIPT);
      accept(socket);
      void socket.done.then(() => {
        if (++finished === count) resolve();
        else next();
      });
    };
    for (let i = 0; i < CONCURRENT; i++) next();
  });
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const median = (values: readonly number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
};

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ims-bench-session-'));
  // The node as bench/smtp runs it (node-host.ts): a new install's configuration, no per-address limits.
  const node = new SmtpNode({
    listen: ['127.0.0.1'],
    port: 0,
    dataDir,
    hostname: 'ims.bench.example',
    maxClients: 100_000,
    clientLimits: { maxConnectionsPerClient: 0, connectionRatePerMinute: 0 },
  });
  try {
    await node.start({
      version: 1,
      config: defaultConfig('example.com'),
      directory: [{ address: 'alice@example.com', passwordHash: 'scrypt$1024$8$1$AAAA$AAAA' }],
    });
    const bare = bareLibrary();
    const floor = createServer(floorSession);
    const all = [
      {
        id: 'node',
        name: 'the node (SmtpNode, its hooks and routing-core)',
        accept: (s: ScriptedSocket) => node.acceptConnection(s),
        samplesUs: [] as number[],
      },
      {
        id: 'library',
        name: 'bare smtp-server, one refusing hook',
        accept: (s: ScriptedSocket) => bare.emit('connection', s),
        samplesUs: [] as number[],
      },
      {
        id: 'floor',
        name: 'bare Node.js responder (the floor)',
        accept: (s: ScriptedSocket) => floor.emit('connection', s),
        samplesUs: [] as number[],
      },
    ];
    const peers = all.filter((p) => only === undefined || p.id === only);
    if (peers.length === 0)
      throw new Error(`--only=${only}: not one of ${all.map((p) => p.id).join(', ')}`);
    for (const peer of peers) {
      const socket = new ScriptedSocket(SCRIPT);
      peer.accept(socket);
      const replies = (await socket.done).join(' ');
      if (replies !== EXPECTED) throw new Error(`${peer.name} replied ${replies}, not ${EXPECTED}`);
      await round(peer.accept, sessionsPerRound); // warm-up, not counted
    }
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < peers.length; k++) {
        const peer = peers[(r + k) % peers.length] as (typeof peers)[number];
        peer.samplesUs.push(await round(peer.accept, sessionsPerRound));
      }
    }
    const width = Math.max(...peers.map((p) => p.name.length));
    console.log(
      `relay-denied sessions in one process, no network: ${rounds} rounds of ${sessionsPerRound} sessions each, ${CONCURRENT} at a time`,
    );
    console.log(`${'server'.padEnd(width)}  µs of CPU per session (median, min–max)`);
    for (const p of peers) {
      console.log(
        `${p.name.padEnd(width)}  ${median(p.samplesUs).toFixed(1).padStart(6)}  (${Math.min(...p.samplesUs).toFixed(1)}–${Math.max(...p.samplesUs).toFixed(1)})`,
      );
    }
    if (peers.length < all.length) return;
    const medianOf = (id: string) => median(all.find((p) => p.id === id)?.samplesUs ?? []);
    const nodeUs = medianOf('node');
    const libraryUs = medianOf('library');
    const floorUs = medianOf('floor');
    console.log(
      `node ÷ bare smtp-server ${(nodeUs / libraryUs).toFixed(2)} (lower is better); node − floor ${(nodeUs - floorUs).toFixed(1)} µs per session`,
    );
    console.log(
      JSON.stringify({
        bench: 'smtp-session',
        nodeUs: +nodeUs.toFixed(1),
        libraryUs: +libraryUs.toFixed(1),
        floorUs: +floorUs.toFixed(1),
        ratio: +(nodeUs / libraryUs).toFixed(2),
      }),
    );
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
