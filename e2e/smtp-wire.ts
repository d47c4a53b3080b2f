/**
 * SMTP on the wire for end-to-end tests: relay attempts and whole transactions
 * (with the SMTP node's raw client). Ports, processes and polling are in
 * @ims/test-support.
 */

import { RawSmtp } from '@ims/smtp/testing';

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
