/**
 * Runs the battery against an SMTP service: one fresh unauthenticated session
 * per case, from a chosen source address (`localAddress`), never past RCPT TO
 * (no message is ever sent). A relay attempt passes when it is refused with a
 * 5xx at MAIL FROM or RCPT TO; a control passes when RCPT TO gets a 2xx.
 */

import { connect, isIP, type Socket } from 'node:net';
import { type RelayCaseSpec, relayBattery } from './battery';

export interface RelayCaseResult extends RelayCaseSpec {
  /** The deciding reply line, or what went wrong (connection refused, timeout). */
  reply: string;
  passed: boolean;
}

export interface RelayTestResult {
  from: string;
  target: { host: string; port: number };
  passed: boolean;
  cases: RelayCaseResult[];
}

export interface RelayTestOptions {
  /** The SMTP service. */
  host: string;
  port: number;
  /** The source address of every attempt (a loopback address). */
  from: string;
  /** The site domain of the configuration the service runs. */
  siteDomain: string;
  /** Time allowed for each case, connection to RCPT reply (default 10 s). */
  timeoutMs?: number;
  /** Sessions at a time (default 4). */
  concurrency?: number;
  /** The cases to run (default: the whole battery). */
  cases?: RelayCaseSpec[];
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
export function isLoopback(address: string): boolean {
  const a = address.trim().toLowerCase();
  if (isIP(a) === 4) return a.startsWith('127.');
  if (isIP(a) === 6) return a === '::1' || /^::ffff:127\.\d+\.\d+\.\d+$/.test(a);
  return false;
}

/** A minimal SMTP session: reads whole (multi-line) replies, one command at a time. */
class Session {
  private buffer = '';
  private waiting: ((reply: string) => void) | undefined;
  private readonly replies: string[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    /** When the whole case must be done by (epoch ms). */
    private readonly deadline: number,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (;;) {
        const m = /^((?:\d{3}-[^\r\n]*\r?\n)*\d{3}(?: [^\r\n]*)?\r?\n)/.exec(this.buffer);
        if (!m?.[1]) break;
        this.buffer = this.buffer.slice(m[1].length);
        // The deciding line is the last one of a multi-line reply.
        const reply = m[1].trimEnd().split(/\r?\n/).at(-1) ?? '';
        const w = this.waiting;
        this.waiting = undefined;
        if (w) w(reply);
        else this.replies.push(reply);
      }
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      const w = this.waiting;
      this.waiting = undefined;
      w?.('');
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
  }

  static open(host: string, port: number, from: string, timeoutMs: number): Promise<Session> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress: from, timeout: timeoutMs });
      const onError = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once('timeout', () => onError(new Error(`no connection within ${timeoutMs} ms`)));
      socket.once('connect', () => {
        socket.off('error', onError);
        socket.setTimeout(0);
        resolve(new Session(socket, deadline, timeoutMs));
      });
    });
  }

  reply(): Promise<string> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiting = undefined;
          reject(new Error(`no reply within ${this.timeoutMs} ms`));
        },
        Math.max(0, this.deadline - Date.now()),
      );
      this.waiting = (r) => {
        clearTimeout(timer);
        if (this.failure && r === '') reject(this.failure);
        else resolve(r);
      };
    });
  }

  cmd(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    if (!this.socket.destroyed) {
      this.socket.end('QUIT\r\n');
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
  }
}

const codeOf = (reply: string) => Number(reply.slice(0, 3));

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'ECONNREFUSED') return `connection refused (${e.address ?? ''}:${e.port ?? ''})`;
  if (e.code === 'EADDRNOTAVAIL') return 'the source address is not available on this machine';
  return e.code ? `${e.code}: ${e.message}` : (e.message ?? String(err));
}

/** Runs one case in its own session. */
export async function runCase(
  spec: RelayCaseSpec,
  opts: Required<Pick<RelayTestOptions, 'host' | 'port' | 'from' | 'timeoutMs'>>,
): Promise<RelayCaseResult> {
  let session: Session | undefined;
  const done = (reply: string, passed: boolean): RelayCaseResult => ({ ...spec, reply, passed });
  try {
    session = await Session.open(opts.host, opts.port, opts.from, opts.timeoutMs);
    const greeting = await session.reply();
    if (codeOf(greeting) !== 220) return done(`greeting: ${greeting}`, false);
    let ehlo = await session.cmd('EHLO relay-test.invalid');
    if (codeOf(ehlo) !== 250) ehlo = await session.cmd('HELO relay-test.invalid');
    if (codeOf(ehlo) !== 250) return done(`HELO: ${ehlo}`, false);
    const mail = await session.cmd(`MAIL FROM:${spec.mailFrom}`);
    if (codeOf(mail) !== 250) {
      // Refused at MAIL FROM: a pass for a relay attempt if it is permanent.
      const permanent = codeOf(mail) >= 500;
      return done(`MAIL FROM: ${mail}`, spec.expected === 'reject' && permanent);
    }
    const rcpt = await session.cmd(`RCPT TO:${spec.rcptTo}`);
    const code = codeOf(rcpt);
    const passed = spec.expected === 'accept' ? code >= 200 && code < 300 : code >= 500;
    return done(rcpt, passed);
  } catch (err) {
    return done(`no answer: ${describeError(err)}`, false);
  } finally {
    session?.close();
  }
}

/** Runs the battery (or `cases`) and reports every case. */
export async function runRelayTest(opts: RelayTestOptions): Promise<RelayTestResult> {
  const specs =
    opts.cases ?? relayBattery({ siteDomain: opts.siteDomain, serverAddress: opts.host });
  const run = {
    host: opts.host,
    port: opts.port,
    from: opts.from,
    timeoutMs: opts.timeoutMs ?? 10_000,
  };
  const results: RelayCaseResult[] = new Array(specs.length);
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const i = next++;
      results[i] = await runCase(specs[i] as RelayCaseSpec, run);
    }
  };
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 4, specs.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    from: opts.from,
    target: { host: opts.host, port: opts.port },
    passed: results.length > 0 && results.every((r) => r.passed),
    cases: results,
  };
}
