/** A raw-socket SMTP client for tests: exact reply lines, nothing hidden. */

import { connect, type Socket } from 'node:net';

export class RawSmtp {
  private buffer = '';
  private readonly waiting: ((reply: string) => void)[] = [];
  private readonly replies: string[] = [];
  private ended = false;
  /** Resolves when the server (or this client) has closed the connection. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        resolve();
      });
    });
    socket.on('error', () => {});
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

  /** The next whole reply (all its lines). Rejects once the connection has closed with none left. */
  reply(timeoutMs = 15_000): Promise<string> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(new Error('the connection is closed'));
    return new Promise((resolve, reject) => {
      // A reply that comes after the timeout is kept for the next reader.
      const give = (error: string) => {
        clearTimeout(timer);
        const i = this.waiting.indexOf(deliver);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(error));
      };
      const timer = setTimeout(() => give('no SMTP reply in time'), timeoutMs);
      const onClose = () => give('the connection is closed');
      const deliver = (r: string) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiting.push(deliver);
      void this.closed.then(onClose);
    });
  }

  /** Whether the connection has closed. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Writes raw bytes (NUL, 8-bit, TLS records …) exactly as given. */
  writeBytes(data: Buffer): void {
    this.socket.write(data);
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
