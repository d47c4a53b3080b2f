/** Helpers for end-to-end tests: free ports, child processes, relay attempts (with the SMTP node's raw client). */

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { RawSmtp } from '@ims/smtp/testing';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface Child {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `tsx <entry> [args]` in a workspace with the given environment. */
export function start(
  cwd: string,
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += String(d);
  });
  proc.stderr?.on('data', (d) => {
    out += String(d);
  });
  return {
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        // Already gone (exited, or killed by a signal such as kill -9): nothing to wait for.
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** Polls `check` until it returns a value, or fails after `ms`. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  ms = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** One unauthenticated relay attempt: the RCPT reply. */
export async function relayAttempt(
  port: number,
  rcpt = 'victim@elsewhere.example',
): Promise<string> {
  const c = await RawSmtp.open(port);
  try {
    await c.reply();
    await c.cmd('EHLO e2e.example');
    await c.cmd('MAIL FROM:<tester@remote.example>');
    return await c.cmd(`RCPT TO:<${rcpt}>`);
  } finally {
    c.close();
  }
}

export interface MailAttempt {
  port: number;
  /** Server address to connect to (default 127.0.0.1). */
  host?: string;
  /** Client address to connect from. */
  localAddress?: string;
  auth?: { user: string; pass: string };
  from: string;
  to: string[];
  body?: string;
}

/**
 * One whole SMTP transaction with exact replies: the RCPT reply per
 * recipient and, when any was accepted, the reply after DATA.
 */
export async function sendMail(m: MailAttempt): Promise<{ rcpt: string[]; data?: string }> {
  const c = await RawSmtp.open(m.port, m.host ?? '127.0.0.1', m.localAddress);
  try {
    await c.reply();
    await c.cmd('EHLO e2e.example');
    if (m.auth) {
      const r = await c.cmd(
        `AUTH PLAIN ${Buffer.from(`\0${m.auth.user}\0${m.auth.pass}`).toString('base64')}`,
      );
      if (!r.startsWith('235')) throw new Error(`AUTH failed: ${r}`);
    }
    const mail = await c.cmd(`MAIL FROM:<${m.from}>`);
    if (!mail.startsWith('250')) throw new Error(`MAIL FROM refused: ${mail}`);
    const rcpt: string[] = [];
    for (const to of m.to) rcpt.push(await c.cmd(`RCPT TO:<${to}>`));
    if (!rcpt.some((r) => r.startsWith('250'))) return { rcpt };
    await c.cmd('DATA');
    const data = await c.cmd(`${m.body ?? 'Subject: e2e\r\n\r\nend to end'}\r\n.`);
    await c.cmd('QUIT');
    return { rcpt, data };
  } finally {
    c.close();
  }
}
