/**
 * A minimal SMTP sink on loopback for the tests: it accepts every message
 * and records its envelope, standing in for a smart host or a routed host.
 */

import { createServer, type Server, type Socket } from 'node:net';

export interface SunkMessage {
  mailFrom: string;
  rcptTo: string[];
  data: string;
}

export interface SmtpSink {
  port: number;
  messages: SunkMessage[];
  /** Resolves once a message for `rcpt` arrived (polling; rejects after timeoutMs). */
  waitFor(rcpt: string, timeoutMs?: number): Promise<SunkMessage>;
  close(): Promise<void>;
}

function serve(socket: Socket, messages: SunkMessage[]): void {
  let buffer = '';
  let inData = false;
  let current: SunkMessage = { mailFrom: '', rcptTo: [], data: '' };
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.write('220 sink.invalid ESMTP\r\n');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (inData) {
        if (line === '.') {
          inData = false;
          messages.push(current);
          current = { mailFrom: '', rcptTo: [], data: '' };
          socket.write('250 2.0.0 Ok\r\n');
        } else {
          current.data += `${line}\n`;
        }
      } else {
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 sink.invalid\r\n');
        else if (verb === 'MAIL') {
          current.mailFrom = /<([^>]*)>/.exec(line)?.[1] ?? '';
          socket.write('250 2.1.0 Ok\r\n');
        } else if (verb === 'RCPT') {
          current.rcptTo.push((/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase());
          socket.write('250 2.1.5 Ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 2.0.0 Bye\r\n');
        } else socket.write('250 2.0.0 Ok\r\n');
      }
      nl = buffer.indexOf('\n');
    }
  });
}

export async function startSink(): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    serve(s, messages);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    messages,
    async waitFor(rcpt, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = messages.find((x) => x.rcptTo.includes(rcpt.toLowerCase()));
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`no message for ${rcpt} reached the sink`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
