/**
 * The SMTP bad-input battery against the Postfix engine (issue 12): the
 * families that are the MTA's business (apps/smtp/src/bad-input.test.ts has
 * them for the product's node), sent over the wire to a private Postfix that
 * the agent runs with its AUTH socket. Each case checks the reply class
 * (Postfix words its replies itself: code and enhanced code where they are
 * the contract), and after each one a fresh connection still gets 220 and
 * EHLO still gets 250. Nothing is ever relayed for a stranger.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@ims/passwords';
import { freePort } from '@ims/postfix-config';
import { battery } from '@ims/reliability';
import { defaultConfig } from '@ims/routing-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostfixNode } from './agent';

const installed = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v postfix && command -v postconf'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

const record = battery({
  id: 'postfix-bad-input',
  title: 'SMTP bad-input battery against the Postfix engine',
  deliverable: 2,
  file: import.meta.filename,
});

const b64 = (text: string) => Buffer.from(text).toString('base64');
const plain = (user: string, pass: string) => b64(`\0${user}\0${pass}`);

/** A raw connection: write bytes, read whole replies (the last line of each). */
class Raw {
  private buffer = '';
  private lines: string[] = [];
  private waiters: ((line: string | undefined) => void)[] = [];
  closed = false;
  private constructor(private readonly socket: ReturnType<typeof connect>) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, i).replace(/\r$/, '');
        this.buffer = this.buffer.slice(i + 1);
        if (/^\d{3}-/.test(line)) continue;
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    const end = () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(port: number, localAddress = '127.0.0.3'): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress }, () =>
        resolve(new Raw(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** The next reply's last line; undefined when the server closed the connection. */
  reply(timeoutMs = 30_000): Promise<string | undefined> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('(no reply)'), timeoutMs);
      this.waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  write(bytes: string | Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  async cmd(line: string): Promise<string | undefined> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}

let root = '';
let node: PostfixNode;
let port = 0;

async function ready(): Promise<Raw> {
  const c = await Raw.open(port);
  expect(await c.reply()).toMatch(/^220 /);
  expect(await c.cmd('EHLO client.test')).toMatch(/^250 /);
  return c;
}

async function stillUp(): Promise<void> {
  const c = await ready();
  expect(await c.cmd('QUIT')).toMatch(/^221 /);
  c.close();
}

interface Case {
  id: string;
  source: string;
  run: () => Promise<void>;
}

const cases: Case[] = [
  {
    id: 'command-line-too-long',
    source: 'RFC 5321 §4.5.3.1.4',
    run: async () => {
      const c = await ready();
      expect(await c.cmd(`NOOP ${'x'.repeat(5000)}`)).toMatch(/^(250|5\d\d) /);
      c.close();
    },
  },
  {
    id: 'local-part-too-long',
    source: 'RFC 5321 §4.5.3.1.1',
    run: async () => {
      const c = await ready();
      await c.cmd('MAIL FROM:<a@remote.example>');
      expect(await c.cmd(`RCPT TO:<${'l'.repeat(300)}@example.com>`)).toMatch(/^5\d\d /);
      c.close();
    },
  },
  {
    id: 'nul-in-command',
    source: 'garbage bytes',
    run: async () => {
      const c = await ready();
      c.write('MAIL FROM:<a\0b@remote.example>\r\n');
      expect(await c.reply()).toMatch(/^(250|5\d\d) /);
      c.close();
    },
  },
  {
    id: 'unknown-command',
    source: 'RFC 5321 §4.2.4',
    run: async () => {
      const c = await ready();
      // Postfix answers 500 (apps/smtp 502): a permanent syntax error either way.
      expect(await c.cmd('FROBNICATE now')).toMatch(/^50[02] 5\.5\.[12] /);
      c.close();
    },
  },
  {
    id: 'out-of-order-rcpt-before-mail',
    source: 'RFC 5321 §4.1.4',
    run: async () => {
      const c = await ready();
      expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^503 5\.5\.1 /);
      c.close();
    },
  },
  {
    id: 'out-of-order-data-before-rcpt',
    source: 'RFC 5321 §4.1.4',
    run: async () => {
      const c = await ready();
      await c.cmd('MAIL FROM:<a@remote.example>');
      // Postfix answers 554 5.5.1 (no valid recipients); apps/smtp 503.
      expect(await c.cmd('DATA')).toMatch(/^5\d\d 5\.5\.1 /);
      c.close();
    },
  },
  {
    id: 'http-request-on-smtp-port',
    source: 'cross-protocol attack',
    run: async () => {
      const c = await Raw.open(port);
      await c.reply();
      c.write('POST / HTTP/1.1\r\nHost: mx\r\n\r\n');
      const r = await c.reply();
      expect(r === undefined || /^(221|5\d\d) /.test(r)).toBe(true);
      c.close();
    },
  },
  {
    id: 'tls-client-hello-in-clear',
    source: 'TLS bytes on a plain port',
    run: async () => {
      const c = await Raw.open(port);
      await c.reply();
      c.write(Buffer.from('16030100a5010000a10303', 'hex'));
      c.write('\r\n');
      const r = await c.reply();
      expect(r === undefined || /^5\d\d /.test(r)).toBe(true);
      c.close();
    },
  },
  {
    id: 'pregreet-talker',
    source: 'spamware that talks first',
    run: async () => {
      const c = await Raw.open(port);
      c.write('EHLO early.example\r\n');
      expect(await c.reply()).toMatch(/^220 /);
      c.close();
    },
  },
  {
    id: 'pipelined-noop-flood',
    source: 'RFC 2920 abuse',
    run: async () => {
      const c = await ready();
      c.write('NOOP\r\n'.repeat(500));
      for (let i = 0; i < 500; i++) {
        const r = await c.reply();
        if (r === undefined) break;
        expect(r).toMatch(/^(250|421|5\d\d) /);
      }
      c.close();
    },
  },
  {
    id: 'too-many-recipients',
    source: 'smtpd_recipient_limit',
    run: async () => {
      const c = await ready();
      await c.cmd('MAIL FROM:<a@remote.example>');
      // A valid recipient each time: rejected ones would hit the error limit first.
      c.write('RCPT TO:<alice@example.com>\r\n'.repeat(1010));
      const replies: (string | undefined)[] = [];
      for (let i = 0; i < 1010; i++) replies.push(await c.reply());
      expect(replies.filter((r) => r?.startsWith('250 ')).length).toBe(1000);
      expect(replies.at(-1)).toMatch(/^452 4\.5\.3 /);
      c.close();
    },
  },
  {
    id: 'auth-wrong-password',
    source: 'RFC 4954 §6: 535 5.7.8',
    run: async () => {
      const c = await ready();
      expect(await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'wrong')}`)).toMatch(
        /^535 5\.7\.8 /,
      );
      c.close();
    },
  },
  {
    id: 'auth-unknown-user-same-reply',
    source: 'no user enumeration',
    run: async () => {
      const a = await ready();
      const wrong = await a.cmd(`AUTH PLAIN ${plain('alice@example.com', 'wrong')}`);
      a.close();
      const b = await ready();
      const unknown = await b.cmd(`AUTH PLAIN ${plain('nobody@example.com', 'wrong')}`);
      b.close();
      expect(unknown).toMatch(/^535 5\.7\.8 /);
      expect(unknown).toBe(wrong);
    },
  },
  {
    id: 'auth-bad-base64',
    source: 'malformed AUTH',
    run: async () => {
      const c = await ready();
      expect(await c.cmd('AUTH PLAIN !!!not-base64!!!')).toMatch(/^5\d\d /);
      c.close();
    },
  },
  {
    id: 'auth-unknown-mechanism',
    source: 'malformed AUTH',
    run: async () => {
      const c = await ready();
      expect(await c.cmd('AUTH CRAM-MD5')).toMatch(/^5\d\d /);
      c.close();
    },
  },
  {
    id: 'auth-login-cancelled',
    source: 'RFC 4954 §4 (client cancels with *)',
    run: async () => {
      const c = await ready();
      expect(await c.cmd('AUTH LOGIN')).toMatch(/^334 /);
      expect(await c.cmd('*')).toMatch(/^501 /);
      c.close();
    },
  },
  {
    id: 'stranger-relay',
    source: 'open-relay testers',
    run: async () => {
      const c = await ready();
      await c.cmd('MAIL FROM:<a@remote.example>');
      expect(await c.cmd('RCPT TO:<victim@elsewhere.example>')).toMatch(/^550 5\.7\.1 /);
      c.close();
    },
  },
  {
    id: 'address-literal-to-system-account',
    source: 'root@[127.0.0.1] (prototype pitfall)',
    run: async () => {
      const c = await ready();
      await c.cmd('MAIL FROM:<a@remote.example>');
      expect(await c.cmd('RCPT TO:<root@[127.0.0.1]>')).toMatch(/^5\d\d /);
      c.close();
    },
  },
  {
    id: 'disconnect-in-data',
    source: 'broken clients',
    run: async () => {
      const c = await ready();
      await c.cmd('MAIL FROM:<a@remote.example>');
      expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
      expect(await c.cmd('DATA')).toMatch(/^354 /);
      c.write('Subject: half\r\n\r\nand then the line drops');
      c.close();
    },
  },
  {
    id: 'connection-flood',
    source: '60 connections at once',
    run: async () => {
      const all = await Promise.all(Array.from({ length: 60 }, () => Raw.open(port)));
      const greetings = await Promise.all(all.map((c) => c.reply()));
      for (const g of greetings) expect(g === undefined || /^(220|421) /.test(g)).toBe(true);
      for (const c of all) c.close();
    },
  },
];

describe.skipIf(!installed)('SMTP bad-input battery, Postfix engine', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ims-pfx-bad-'));
    port = await freePort();
    node = new PostfixNode({
      root,
      target: { listen: [{ host: '127.0.0.1', port }], myhostname: 'mx.example.com' },
    });
    await node.start();
    await node.apply({
      version: 1,
      config: defaultConfig('example.com'),
      directory: [
        {
          address: 'alice@example.com',
          passwordHash: await hashPassword('alice-password', { N: 1024, r: 8, p: 1 }),
        },
        {
          address: 'postmaster@example.com',
          passwordHash: await hashPassword('pm-password', { N: 1024, r: 8, p: 1 }),
        },
      ],
    });
  });

  afterAll(async () => {
    await node?.stop().catch(() => undefined);
    try {
      const pid = Number(readFileSync(join(root, 'queue', 'pid', 'master.pid'), 'utf8').trim());
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('master'))
        process.kill(pid, 'SIGKILL');
    } catch {
      // stopped
    }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each(cases.map((c) => [`${c.id} (${c.source})`, c] as const))('%s', async (_name, c) => {
    await record.check(
      c.id,
      async () => {
        await c.run();
        await stillUp();
      },
      c.source,
    );
  });

  it('authenticated Alice still works, and nothing was relayed for a stranger', async () => {
    await record.check(
      'auth-good-and-nothing-relayed',
      async () => {
        const c = await ready();
        expect(await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'alice-password')}`)).toMatch(
          /^235 2\.7\.0 /,
        );
        c.close();
        const queue = execFileSync('postqueue', ['-c', join(root, 'etc'), '-j']).toString();
        expect(queue).not.toContain('elsewhere.example');
      },
      'after the battery',
    );
  });
});
