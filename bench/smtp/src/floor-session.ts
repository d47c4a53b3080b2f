/**
 * The floor's answer to one session (node-floor.ts runs it on the wire,
 * session-cost.ts in one process): a line splitter and fixed replies, a
 * reply per command line as the node's for a relay-denied exchange, the
 * recipient always refused with the node's own line. No protocol library,
 * no policy; not an SMTP server (it accepts no mail).
 */

import type { Socket } from 'node:net';

export function floorSession(socket: Socket): void {
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
