/**
 * A client socket without the network: an in-memory stand-in for an
 * accepted net.Socket, for a session handed to a listener directly
 * (SmtpNode#acceptConnection, or a net.Server's 'connection' event). It
 * sends the commands of its script one at a time, each after the final line
 * of the reply before it (as a client that does not pipeline, smtp-source
 * say), and resolves `done` with the reply codes once the server has closed
 * the session. Each command is pushed at the next turn of the event loop, as
 * data read from a real socket arrives.
 *
 * The script must end with a command after which the server closes (QUIT):
 * the socket has no timers, so a server's idle timeout never fires on it and
 * `done` would wait for ever.
 *
 * bench/smtp's session-cost measures the CPU of a session this way, without
 * the kernel's share; the node's tests check that such a session gets the
 * replies a real one gets.
 */

import { Duplex } from 'node:stream';

let lastPort = 39_999;

/** A client port for each socket, as a client's ephemeral ports go round. */
function nextRemotePort(): number {
  lastPort = lastPort >= 65_535 ? 40_000 : lastPort + 1;
  return lastPort;
}

export class ScriptedSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort = nextRemotePort();
  readonly remoteFamily: string;
  readonly localAddress: string;
  readonly localPort: number;
  /** The reply codes, in order, once the server has closed the session. */
  readonly done: Promise<number[]>;
  private readonly codes: number[] = [];
  private step = 0;
  private received = '';

  constructor(
    private readonly script: readonly string[],
    addresses: { remoteAddress?: string; localAddress?: string; localPort?: number } = {},
  ) {
    super();
    this.remoteAddress = addresses.remoteAddress ?? '127.0.0.1';
    this.remoteFamily = this.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = addresses.localAddress ?? '127.0.0.1';
    this.localPort = addresses.localPort ?? 25;
    this.done = new Promise((resolve) => this.once('close', () => resolve(this.codes)));
    // The server half-closed (the library's QUIT without the node's override): the client closes too.
    this.once('finish', () => this.push(null));
  }

  /** As net.Socket reports it: smtp-server writes only while it is 'open'. */
  get readyState(): 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.readable) return this.writable ? 'open' : 'readOnly';
    return this.writable ? 'writeOnly' : 'closed';
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.received += chunk.toString('latin1');
    for (let eol = this.received.indexOf('\r\n'); eol >= 0; eol = this.received.indexOf('\r\n')) {
      const line = this.received.slice(0, eol);
      this.received = this.received.slice(eol + 2);
      // A continuation line (`250-…`) is not the end of a reply.
      if (line[3] === '-') continue;
      this.codes.push(Number(line.slice(0, 3)));
      const command = this.script[this.step++];
      if (command === undefined) continue;
      setImmediate(() => {
        if (!this.readableEnded && !this.destroyed) this.push(`${command}\r\n`);
      });
    }
    callback();
  }
}
