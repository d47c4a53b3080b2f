/**
 * A small raw SMTP client for probing a Postfix instance: one command, one
 * (possibly multi-line) reply. The self-check and the wire tests use it.
 */

import { connect, type Socket } from 'node:net';

export interface Reply {
  code: number;
  /** The enhanced status code of the last line, when there is one. */
  enhanced?: string;
  /** Every line, without CRLF. */
  lines: string[];
}

export class SmtpProbe {
  private buffer = '';
  private waiting: ((reply: Reply) => void) | undefined;
  private failed: ((err: Error) => void) | undefined;
  private lines: string[] = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      this.closed = true;
      this.fail(new Error('connection closed'));
    });
  }

  /** Connects (optionally from a local address) and reads the greeting. */
  static async open(
    host: string,
    port: number,
    opts: { localAddress?: string; timeoutMs?: number } = {},
  ): Promise<{ probe: SmtpProbe; greeting: Reply }> {
    const socket = connect({ host, port, localAddress: opts.localAddress });
    socket.setTimeout(opts.timeoutMs ?? 30_000, () => socket.destroy(new Error('timed out')));
    const probe = new SmtpProbe(socket);
    const greeting = await probe.read();
    return { probe, greeting };
  }

  private fail(err: Error): void {
    const f = this.failed;
    this.waiting = undefined;
    this.failed = undefined;
    f?.(err);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.lines.push(line);
      if (/^\d{3}( |$)/.test(line)) {
        const lines = this.lines;
        this.lines = [];
        const reply: Reply = { code: Number(line.slice(0, 3)), lines };
        const enhanced = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(line)?.[1];
        if (enhanced) reply.enhanced = enhanced;
        const w = this.waiting;
        this.waiting = undefined;
        this.failed = undefined;
        w?.(reply);
      }
      nl = this.buffer.indexOf('\n');
    }
  }

  read(): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }

  /** Sends one command line and reads its reply. */
  command(line: string): Promise<Reply> {
    const reply = this.read();
    this.socket.write(`${line}\r\n`);
    return reply;
  }

  /** QUIT, then close. */
  async quit(): Promise<void> {
    try {
      if (!this.closed) await this.command('QUIT');
    } catch {
      // closed already
    }
    this.socket.destroy();
  }
}
