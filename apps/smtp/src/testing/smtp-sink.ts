/**
 * A loopback SMTP sink for tests: a real smtp-server listener that stands in
 * for the outside world. It records every message it accepts, and can refuse
 * chosen recipients (permanently or for now) to exercise the queue.
 */

import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface SinkMessage {
  mailFrom: string;
  rcptTo: string[];
  data: Buffer;
  /** Client address the message came from. */
  client: string;
}

export interface SinkOptions {
  host?: string;
  port?: number;
  /** A reply for a recipient ('550 5.1.1 No such user'), or undefined to accept it. */
  rcptReply?: (address: string, session: SMTPServerSession) => string | undefined;
}

export class SmtpSink {
  readonly messages: SinkMessage[] = [];
  private readonly waiting: (() => void)[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(opts: SinkOptions = {}): Promise<SmtpSink> {
    const host = opts.host ?? '127.0.0.1';
    let sink: SmtpSink | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      disableReverseLookup: true,
      onRcptTo(address, session, callback) {
        const reply = opts.rcptReply?.(address.address, session);
        if (!reply) return callback();
        const m = /^(\d{3}) (.*)$/.exec(reply);
        const err = new Error(m?.[2] ?? reply) as Error & { responseCode: number };
        err.responseCode = Number(m?.[1] ?? 550);
        callback(err);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          sink?.record({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks),
            client: session.remoteAddress,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const port = (server.server.address() as AddressInfo).port;
    sink = new SmtpSink(server, host, port);
    return sink;
  }

  private record(message: SinkMessage): void {
    this.messages.push(message);
    for (const w of this.waiting.splice(0)) w();
  }

  /** Waits until `count` messages have arrived. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<SinkMessage[]> {
    const until = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      const left = until - Date.now();
      if (left <= 0)
        throw new Error(`the sink got ${this.messages.length} of ${count} messages in time`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.messages;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
