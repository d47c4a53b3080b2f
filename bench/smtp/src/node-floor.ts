/**
 * The platform's floor for the relay-denied rows: the least a Node.js SMTP
 * responder can do per session, laid out as the node is (a primary and its
 * workers accepting from one shared socket, cluster's SCHED_NONE) but with
 * no protocol library and no policy: a line splitter and fixed replies, the
 * recipient always refused with the node's own line. What the node does
 * beyond this (smtp-server's state machine, the hooks, routing-core's
 * decision) is the difference between the two rates; what this does not
 * reach, no Node.js 20 server on this machine reaches.
 *
 * Not an SMTP server: it answers every command but RCPT, DATA and QUIT with
 * 250, and accepts no mail.
 *
 * Usage: node build/node-floor.js <port> [workers]   (prints `listening <port>`)
 */

import cluster from 'node:cluster';
import { createServer, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';

const [port = '0', workers] = process.argv.slice(2);
const n = Math.max(1, Number(workers ?? availableParallelism()));

/** Answers one session: a reply per command line, as the node's replies for a relay-denied exchange. */
function session(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.write('220 ims.bench.example ESMTP\r\n');
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let eol = pending.indexOf('\r\n'); eol >= 0; eol = pending.indexOf('\r\n')) {
      const verb = pending.slice(0, 4).toUpperCase();
      pending = pending.slice(eol + 2);
      if (verb === 'QUIT') {
        socket.end('221 2.0.0 Bye\r\n');
        return;
      }
      socket.write(
        verb === 'RCPT'
          ? '550 5.7.1 Relaying is prohibited\r\n'
          : verb === 'DATA'
            ? '503 5.5.1 Error: need RCPT command\r\n'
            : '250 2.0.0 OK\r\n',
      );
    }
  });
}

cluster.schedulingPolicy = cluster.SCHED_NONE;
if (n > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < n; i++) {
    cluster.fork().once('listening', () => {
      if (++ready === n) console.log(`listening ${port}`);
    });
  }
} else {
  const server = createServer(session);
  server.listen(Number(port), '127.0.0.1', () => {
    if (cluster.isPrimary) console.log(`listening ${port}`);
  });
}
