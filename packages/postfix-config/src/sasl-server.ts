/**
 * The server side of Postfix's Dovecot SASL client protocol (smtpd_sasl_type
 * = dovecot), on a Unix socket, checking PLAIN and LOGIN credentials against
 * the bundle's scrypt hashes. Dovecot 2.3 cannot verify scrypt, and the
 * protocol is small: docs/postfix.md says why the agent serves it itself.
 *
 * The server opens with VERSION, MECH PLAIN/LOGIN, SPID, CUID, COOKIE, DONE.
 * smtpd sends VERSION, CPID, then per login `AUTH <id> <mech> service=smtp …
 * [resp=<base64>]` and `CONT <id> <base64>`; the server answers `CONT`,
 * `OK <id> user=<name>` or `FAIL <id>`. Each smtpd keeps one connection.
 * A failure says nothing about whether the user exists.
 */

import { randomBytes } from 'node:crypto';
import { chmod, chown, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { DUMMY_HASH, verifyPassword } from '@ims/passwords';

export interface SaslLog {
  info(event: string, detail?: Record<string, unknown>): void;
  warn(event: string, detail?: Record<string, unknown>): void;
}

export interface SaslServerOptions {
  socketPath: string;
  verify(user: string, password: string): Promise<boolean>;
  log?: SaslLog;
  /** Owner of the socket (Postfix's smtpd connects as `postfix`); default: unchanged. */
  owner?: { uid: number; gid: number };
  /** Socket mode; default 0o600. */
  mode?: number;
}

export interface SaslServer {
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** Longest line accepted: a base64 PLAIN response of a long address and password fits many times. */
export const MAX_LINE = 16 * 1024;
/** Logins in progress on one connection (smtpd has one at a time). */
export const MAX_PENDING = 16;

const te = (s: string) => s.replace(/[\t\n\r]/g, ' ');

/** A directory's verify(): scrypt against the mailbox's hash, and the same work for an unknown user. */
export function directoryVerifier(
  directory: readonly { address: string; passwordHash: string }[],
): (user: string, password: string) => Promise<boolean> {
  const hashes = new Map<string, string>();
  for (const m of directory) hashes.set(m.address.toLowerCase(), m.passwordHash);
  return async (user, password) => {
    const stored = hashes.get(user.toLowerCase());
    const ok = await verifyPassword(password, stored ?? DUMMY_HASH);
    return ok && stored !== undefined;
  };
}

type Login = { mech: 'PLAIN' } | { mech: 'LOGIN'; user?: string };

function decode(b64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

class Connection {
  private buffer = '';
  private readonly pending = new Map<string, Login>();

  constructor(
    private readonly socket: Socket,
    private readonly opts: SaslServerOptions,
    cuid: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.write(
      [
        'VERSION\t1\t2',
        'MECH\tPLAIN\tplaintext',
        'MECH\tLOGIN\tplaintext',
        `SPID\t${process.pid}`,
        `CUID\t${cuid}`,
        `COOKIE\t${randomBytes(16).toString('hex')}`,
        'DONE',
        '',
      ].join('\n'),
    );
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      if (line.length > MAX_LINE) {
        this.drop('line-too-long');
        return;
      }
      this.onLine(line);
      if (this.socket.destroyed) return;
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > MAX_LINE) this.drop('line-too-long');
  }

  private drop(reason: string): void {
    this.opts.log?.warn('sasl-connection-dropped', { reason });
    this.buffer = '';
    this.socket.destroy();
  }

  private send(...fields: string[]): void {
    if (!this.socket.destroyed) this.socket.write(`${fields.map(te).join('\t')}\n`);
  }

  private onLine(line: string): void {
    const [command, ...args] = line.split('\t');
    switch (command) {
      case 'VERSION':
        if (args[0] !== '1') this.drop('version');
        return;
      case 'CPID':
        return;
      case 'AUTH': {
        this.onAuth(args);
        return;
      }
      case 'CONT': {
        this.onCont(args);
        return;
      }
      default:
        this.opts.log?.warn('sasl-unknown-command', { command: te(command ?? '').slice(0, 32) });
    }
  }

  private onAuth(args: string[]): void {
    const [id, mech, ...params] = args;
    if (!id || !/^\d{1,10}$/.test(id)) {
      this.drop('bad-id');
      return;
    }
    if (this.pending.size >= MAX_PENDING) {
      this.drop('too-many-pending');
      return;
    }
    let resp: string | undefined;
    for (const p of params) if (p.startsWith('resp=')) resp = p.slice(5);
    const m = (mech ?? '').toUpperCase();
    if (m === 'PLAIN') {
      if (resp === undefined) {
        this.pending.set(id, { mech: 'PLAIN' });
        this.send('CONT', id, '');
        return;
      }
      this.finishPlain(id, resp);
      return;
    }
    if (m === 'LOGIN') {
      if (resp === undefined || resp === '') {
        this.pending.set(id, { mech: 'LOGIN' });
        this.send('CONT', id, encode('Username:'));
        return;
      }
      const user = decode(resp);
      if (user === undefined) {
        this.fail(id);
        return;
      }
      this.pending.set(id, { mech: 'LOGIN', user });
      this.send('CONT', id, encode('Password:'));
      return;
    }
    this.send('FAIL', id, 'reason=Unsupported authentication mechanism');
  }

  private onCont(args: string[]): void {
    const [id, data = ''] = args;
    const login = id === undefined ? undefined : this.pending.get(id);
    if (!id || !login) {
      this.opts.log?.warn('sasl-unknown-request');
      return;
    }
    if (login.mech === 'PLAIN') {
      this.pending.delete(id);
      this.finishPlain(id, data);
      return;
    }
    const text = decode(data);
    if (text === undefined) {
      this.pending.delete(id);
      this.fail(id);
      return;
    }
    if (login.user === undefined) {
      login.user = text;
      this.send('CONT', id, encode('Password:'));
      return;
    }
    this.pending.delete(id);
    this.check(id, login.user, text);
  }

  private finishPlain(id: string, b64: string): void {
    const text = decode(b64);
    const parts = text?.split('\0');
    if (parts?.length !== 3) {
      this.fail(id);
      return;
    }
    const [authz, user, password] = parts as [string, string, string];
    if (authz !== '' && authz.toLowerCase() !== user.toLowerCase()) {
      this.fail(id);
      return;
    }
    this.check(id, user, password);
  }

  private check(id: string, user: string, password: string): void {
    if (user === '' || user.length > 320 || /[\t\n\r\0]/.test(user)) {
      // Same work as a real check, so the answer's timing says nothing.
      void verifyPassword(password, DUMMY_HASH).then(() => this.fail(id));
      return;
    }
    this.opts
      .verify(user, password)
      .then((ok) => {
        if (ok) {
          this.opts.log?.info('sasl-ok', { user });
          this.send('OK', id, `user=${user}`);
        } else {
          this.fail(id);
        }
      })
      .catch((err: unknown) => {
        this.opts.log?.warn('sasl-verify-error', { error: String(err) });
        this.send('FAIL', id, 'temp');
      });
  }

  private fail(id: string): void {
    this.send('FAIL', id);
  }
}

/** A Dovecot-protocol authentication server on a Unix socket. */
export function createSaslServer(opts: SaslServerOptions): SaslServer {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let cuid = 0;
  return {
    async listen() {
      await rm(opts.socketPath, { force: true });
      const s = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        new Connection(socket, opts, ++cuid);
      });
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(opts.socketPath, () => {
          s.off('error', reject);
          resolve();
        });
      });
      await chmod(opts.socketPath, opts.mode ?? 0o600);
      if (opts.owner) await chown(opts.socketPath, opts.owner.uid, opts.owner.gid);
    },
    async close() {
      const s = server;
      server = undefined;
      if (!s) return;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
      await rm(opts.socketPath, { force: true });
    },
  };
}
