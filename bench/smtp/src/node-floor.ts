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
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { floorSession } from './floor-session';

const [port = '0', workers] = process.argv.slice(2);
const n = Math.max(1, Number(workers ?? availableParallelism()));

cluster.schedulingPolicy = cluster.SCHED_NONE;
if (n > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < n; i++) {
    cluster.fork().once('listening', () => {
      if (++ready === n) console.log(`listening ${port}`);
    });
  }
} else {
  const server = createServer(floorSession);
  server.listen(Number(port), '127.0.0.1', () => {
    if (cluster.isPrimary) console.log(`listening ${port}`);
  });
}
