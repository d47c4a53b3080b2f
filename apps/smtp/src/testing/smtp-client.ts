/** A raw-socket SMTP client for tests: exact reply lines, nothing hidden. */

import { connect, type Socket } from 'node:net';

export class RawSmtp {
  private buffer = '';
  private readonly waiting: ((reply: string) => void)[] = [];
  private readonly replies: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      // A reply ends with a line "NNN text" (a space after the code).
      for (;;) {
        const m = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n)/.exec(this.buffer);
        if (!m?.[1]) break;
        this.buffer = this.buffer.slice(m[1].length);
        const reply = m[1].trimEnd();
        const w = this.waiting.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    });
  }

  static open(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () =>
        resolve(new RawSmtp(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** The next whole reply (all its lines). */
  reply(timeoutMs = 5000): Promise<string> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no SMTP reply in time')), timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  /** Sends one command line and returns its reply. */
  async cmd(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** Hands over the socket (for a TLS upgrade after STARTTLS); this client reads no more. */
  detach(): Socket {
    this.socket.removeAllListeners('data');
    return this.socket;
  }

  close(): void {
    this.socket.destroy();
  }
}
