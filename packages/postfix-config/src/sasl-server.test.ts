/**
 * The agent's SASL socket (Postfix's Dovecot client protocol): the
 * protocol as smtpd speaks it, and its abuse cases as a battery (garbage
 * lines, huge lines, wrong mechanisms, bad base64, unknown requests,
 * floods). After every abuse the server still answers a good login.
 */

import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@ims/passwords';
import { battery } from '@ims/reliability';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSaslServer,
  directoryVerifier,
  MAX_LINE,
  MAX_PENDING,
  type SaslServer,
} from './sasl-server';

const record = battery({
  id: 'postfix-sasl-socket',
  title: "Postfix node's SASL socket: garbage, huge lines and wrong mechanisms",
  deliverable: 2,
  file: import.meta.filename,
});

const PASSWORD = 'correct horse battery';
let dir: string;
let socketPath: string;
let server: SaslServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ims-sasl-'));
  socketPath = join(dir, 'auth');
  // A cheap scrypt cost: the protocol is under test here, not the hash.
  const hash = await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 });
  server = createSaslServer({
    socketPath,
    verify: directoryVerifier([{ address: 'alice@example.com', passwordHash: hash }]),
  });
  await server.listen();
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A client of the socket: sends lines, reads lines. */
class Client {
  private buffer = '';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl = this.buffer.indexOf('\n');
      while (nl >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
        nl = this.buffer.indexOf('\n');
      }
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static async open(): Promise<Client> {
    const socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new Client(socket);
    const handshake: string[] = [];
    for (;;) {
      const line = await c.line();
      handshake.push(line);
      if (line === 'DONE') break;
    }
    expect(handshake).toContain('MECH\tPLAIN\tplaintext');
    expect(handshake).toContain('MECH\tLOGIN\tplaintext');
    c.send('VERSION\t1\t2', `CPID\t${process.pid}`);
    return c;
  }

  send(...lines: string[]): void {
    this.socket.write(`${lines.join('\n')}\n`);
  }

  async line(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('closed');
      if (Date.now() > deadline) throw new Error('no answer');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return this.lines.shift() as string;
  }

  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

const b64 = (t: string) => Buffer.from(t).toString('base64');
const plain = (user: string, password: string, authz = '') => b64(`${authz}\0${user}\0${password}`);

async function goodLogin(c?: Client): Promise<void> {
  const client = c ?? (await Client.open());
  client.send(`AUTH\t900\tPLAIN\tservice=smtp\tresp=${plain('alice@example.com', PASSWORD)}`);
  expect(await client.line()).toBe('OK\t900\tuser=alice@example.com');
  if (!c) client.close();
}

describe('the protocol as smtpd speaks it', () => {
  it('accepts PLAIN with an initial response', async () => {
    await record.check('PLAIN, initial response', () => goodLogin());
  });

  it('accepts PLAIN after an empty challenge, and LOGIN in two steps', async () => {
    await record.check('PLAIN without initial response, LOGIN', async () => {
      const c = await Client.open();
      c.send('AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.1');
      expect(await c.line()).toBe('CONT\t1\t');
      c.send(`CONT\t1\t${plain('alice@example.com', PASSWORD)}`);
      expect(await c.line()).toBe('OK\t1\tuser=alice@example.com');
      c.send('AUTH\t2\tLOGIN\tservice=smtp');
      expect(await c.line()).toBe(`CONT\t2\t${b64('Username:')}`);
      c.send(`CONT\t2\t${b64('alice@example.com')}`);
      expect(await c.line()).toBe(`CONT\t2\t${b64('Password:')}`);
      c.send(`CONT\t2\t${b64(PASSWORD)}`);
      expect(await c.line()).toBe('OK\t2\tuser=alice@example.com');
      c.close();
    });
  });

  it('fails a wrong password and an unknown user with the same line', async () => {
    await record.check('unknown user and wrong password alike', async () => {
      const c = await Client.open();
      c.send(`AUTH\t3\tPLAIN\tservice=smtp\tresp=${plain('alice@example.com', 'wrong')}`);
      const wrong = await c.line();
      c.send(`AUTH\t3\tPLAIN\tservice=smtp\tresp=${plain('nobody@example.com', 'wrong')}`);
      const unknown = await c.line();
      expect(wrong).toBe('FAIL\t3');
      expect(unknown).toBe(wrong);
      c.close();
    });
  });

  it('fails an authorization identity other than the user', async () => {
    await record.check('authzid of another user', async () => {
      const c = await Client.open();
      c.send(
        `AUTH\t4\tPLAIN\tservice=smtp\tresp=${plain('alice@example.com', PASSWORD, 'admin@example.com')}`,
      );
      expect(await c.line()).toBe('FAIL\t4');
      c.close();
    });
  });
});

describe('abuse of the socket (battery)', () => {
  const source = 'SASL socket abuse';

  it('refuses mechanisms it does not offer', async () => {
    for (const mech of ['CRAM-MD5', 'ANONYMOUS', 'GSSAPI', 'XOAUTH2', '', 'PLAIN ', 'plainx']) {
      await record.check(
        `wrong mechanism "${mech}"`,
        async () => {
          const c = await Client.open();
          c.send(`AUTH\t5\t${mech}\tservice=smtp`);
          expect(await c.line()).toMatch(/^FAIL\t5\b/);
          await goodLogin(c);
          c.close();
        },
        source,
      );
    }
  });

  it('fails bad base64 and malformed PLAIN responses', async () => {
    const bad = ['!!!!', b64('no-nuls'), b64('\0only-one'), b64('a\0b\0c\0d'), '====', 'A'];
    for (const resp of bad) {
      await record.check(
        `bad response ${JSON.stringify(resp)}`,
        async () => {
          const c = await Client.open();
          c.send(`AUTH\t6\tPLAIN\tservice=smtp\tresp=${resp}`);
          expect(await c.line()).toBe('FAIL\t6');
          c.close();
        },
        source,
      );
    }
  });

  it('ignores garbage lines and CONT for unknown requests, and still serves', async () => {
    const garbage = [
      'HELLO',
      '\u0000\u0001\u0002',
      'CONT\t77\tZm9v',
      'CONT',
      'GET / HTTP/1.1',
      '\u00ff\u00fe binary',
      'VERSION\t1\t2',
      '\t\t\t',
    ];
    for (const line of garbage) {
      await record.check(
        `garbage line ${JSON.stringify(line)}`,
        async () => {
          const c = await Client.open();
          c.send(line);
          await goodLogin(c);
          c.close();
        },
        source,
      );
    }
  });

  it('drops a connection that sends a huge line, with or without its newline', async () => {
    for (const [name, payload] of [
      ['huge line', `${'A'.repeat(MAX_LINE + 10)}\n`],
      ['huge line, no newline', 'B'.repeat(MAX_LINE + 10)],
      ['huge AUTH response', `AUTH\t7\tPLAIN\tresp=${'Q'.repeat(MAX_LINE * 2)}\n`],
    ] as const) {
      await record.check(
        name,
        async () => {
          const c = await Client.open();
          c.socket.write(payload);
          expect(await c.waitClosed()).toBe(true);
          await goodLogin();
        },
        source,
      );
    }
  });

  it('drops a connection with a bad request id, too many logins in progress or another version', async () => {
    for (const line of ['AUTH\tabc\tPLAIN', 'AUTH', 'AUTH\t\tPLAIN', 'AUTH\t12345678901\tPLAIN']) {
      await record.check(
        `bad request id ${JSON.stringify(line)}`,
        async () => {
          const c = await Client.open();
          c.send(line);
          expect(await c.waitClosed()).toBe(true);
        },
        source,
      );
    }
    await record.check(
      'too many logins in progress',
      async () => {
        const c = await Client.open();
        for (let i = 0; i <= MAX_PENDING; i++) c.send(`AUTH\t${i + 10}\tLOGIN\tservice=smtp`);
        expect(await c.waitClosed()).toBe(true);
        await goodLogin();
      },
      source,
    );
    await record.check(
      'wrong protocol version',
      async () => {
        const c = await Client.open();
        c.send('VERSION\t2\t0');
        expect(await c.waitClosed()).toBe(true);
      },
      source,
    );
  });

  it('serves 40 connections at once', async () => {
    await record.check(
      '40 concurrent logins',
      async () => {
        await Promise.all(Array.from({ length: 40 }, () => goodLogin()));
      },
      source,
    );
  });

  it('survives random lines (fast-check) and still serves', async () => {
    let runs = 0;
    let passed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 200, unit: 'binary' }), { maxLength: 8 }),
        async (lines) => {
          runs++;
          const c = await Client.open();
          c.socket.write(`${lines.map((l) => l.replace(/\n/g, ' ')).join('\n')}\n`);
          c.close();
          await goodLogin();
          passed++;
        },
      ),
      { numRuns: 60 },
    );
    record.recordRuns('random lines, then a good login', runs, passed, source);
    expect(passed).toBe(runs);
  });
});
