/**
 * Per-client and per-session limits on the wire (#13 items 3 and 4), as
 * Postfix's anvil and smtpd: exact reply lines, and a client at another
 * address (127.0.0.2) unaffected.
 */

import { describe, expect, it, onTestFinished } from 'vitest';
import { plain, session, startNode } from '../testing/node-fixture';
import { RawSmtp } from '../testing/smtp-client';
import { InProcessAnvil } from './anvil';

const TOO_MANY = (ip: string) => `421 4.7.0 mx.example.com Error: too many connections from ${ip}`;

async function openRaw(port: number, localAddress?: string): Promise<RawSmtp> {
  const c = await RawSmtp.open(port, '127.0.0.1', localAddress);
  onTestFinished(() => c.close());
  return c;
}

/** Replies until the connection closes or `ms` pass without one. */
async function drain(c: RawSmtp, ms = 3000): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    try {
      out.push(await c.reply(ms));
    } catch {
      return out;
    }
  }
}

describe('sessions per client address (smtpd_client_connection_count_limit)', () => {
  it('both session limits at 0: nothing is counted, the Anvil is not asked at connect, AUTH limits still are', async () => {
    const asked: string[] = [];
    const anvil = new InProcessAnvil({ maxConnectionsPerClient: 0, connectionRatePerMinute: 0 });
    const counting = {
      connect: (ip: string) => {
        asked.push(`connect ${ip}`);
        return anvil.connect(ip);
      },
      disconnect: (ip: string) => {
        asked.push(`disconnect ${ip}`);
        return anvil.disconnect(ip);
      },
      authAllowed: (ip: string, user: string) => {
        asked.push(`auth ${ip}`);
        return anvil.authAllowed(ip, user);
      },
      authDone: anvil.authDone.bind(anvil),
    };
    const { port } = await startNode(undefined, undefined, {
      clientLimits: { maxConnectionsPerClient: 0, connectionRatePerMinute: 0 },
      anvil: counting,
    });
    const held: RawSmtp[] = [];
    for (let i = 0; i < 60; i++) held.push(await session(port));
    expect(await held[59]?.cmd('EHLO many.example')).toMatch(/^250[- ]/);
    expect(await held[0]?.cmd('EHLO first.example')).toMatch(/^250[- ]/);
    expect(await held[0]?.cmd('AUTH PLAIN AGFsaWNlAHdyb25n')).toMatch(/^535 5\.7\.8 /);
    expect(asked).toEqual(['auth 127.0.0.1']);
  });

  it('by default the 51st session of one address gets 421 4.7.0; another address is still served', async () => {
    const { port, node } = await startNode();
    const held: RawSmtp[] = [];
    for (let i = 0; i < 50; i++) held.push(await session(port));
    const refused = await openRaw(port);
    expect(await refused.reply()).toBe(TOO_MANY('127.0.0.1'));
    await refused.closed;
    const other = await session(port, '127.0.0.2');
    expect(await other.cmd('EHLO other.example')).toMatch(/^250[- ]/);
    expect(node.counters.connectionsRefused).toBe(1);
    // One of the 50 leaves: its place is free again.
    held[0]?.close();
    await held[0]?.closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = await session(port);
    expect(await again.cmd('NOOP')).toBe('250 2.0.0 OK');
  });

  it('connection rate per minute (smtpd_client_connection_rate_limit): past it 421 4.7.0', async () => {
    const { port } = await startNode(undefined, undefined, {
      clientLimits: { connectionRatePerMinute: 5 },
    });
    for (let i = 0; i < 5; i++) {
      const c = await session(port);
      expect(await c.cmd('QUIT')).toBe('221 2.0.0 Bye');
    }
    const refused = await openRaw(port);
    expect(await refused.reply()).toBe(TOO_MANY('127.0.0.1'));
    const other = await session(port, '127.0.0.2');
    expect(await other.cmd('EHLO other.example')).toMatch(/^250[- ]/);
  });
});

describe('per session (smtpd_timeout for the greeting, smtpd_*_error_limit)', () => {
  it('a client that says nothing gets 421 4.4.2 after the greeting timeout, well before the idle timeout', async () => {
    const { port } = await startNode(undefined, undefined, {
      sessionLimits: { greetingTimeoutMs: 300 },
    });
    const silent = await session(port);
    const talker = await session(port);
    expect(await talker.cmd('EHLO talker.example')).toMatch(/^250[- ]/);
    const started = Date.now();
    expect(await silent.reply(5000)).toBe('421 4.4.2 mx.example.com Error: timeout exceeded');
    await silent.closed;
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 200));
    expect(await talker.cmd('NOOP')).toBe('250 2.0.0 OK');
  });

  it('a directory harvest: past 10 errors each reply waits, at 20 the session ends with 421 4.7.0', async () => {
    const { port } = await startNode(undefined, undefined, {
      sessionLimits: { errorSleepMs: 200 },
    });
    const c = await session(port);
    await c.cmd('EHLO harvester.example');
    expect(await c.cmd('MAIL FROM:<h@remote.example>')).toMatch(/^250 /);
    // 297 guesses in one go, as the review did.
    c.write(Array.from({ length: 297 }, (_, i) => `RCPT TO:<guess${i}@example.com>\r\n`).join(''));
    const started = Date.now();
    const replies = await drain(c);
    const elapsed = Date.now() - started;
    expect(replies.slice(0, 20)).toEqual(
      Array(20).fill('550 5.1.1 Recipient address rejected: no such user here'),
    );
    expect(replies.slice(20)).toEqual(['421 4.7.0 mx.example.com Error: too many errors']);
    // Errors 11 to 20 each waited 200 ms.
    expect(elapsed).toBeGreaterThanOrEqual(10 * 200 - 50);
  });

  it('past the soft limit, the late reply to a message still comes before a pipelined QUIT’s 221', async () => {
    const { port } = await startNode(undefined, undefined, {
      sessionLimits: { errorSleepMs: 100 },
    });
    const c = await session(port);
    await c.cmd('EHLO looper.example');
    // Eleven errors: each reply from now on waits.
    c.write('RCPT TO:<alice@example.com>\r\n'.repeat(11));
    expect(await drain(c, 1000)).toEqual(Array(11).fill('503 5.5.1 Need MAIL command'));
    expect(await c.cmd('MAIL FROM:<a@remote.example>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
    expect(await c.cmd('DATA')).toMatch(/^354 /);
    // A looping message (refused at its end, so its reply waits), then QUIT, in one write.
    const hops = Array.from({ length: 120 }, (_, i) => `Received: from h${i}.example\r\n`).join('');
    c.write(`${hops}Subject: loop\r\n\r\nAgain.\r\n.\r\nQUIT\r\n`);
    expect(await drain(c)).toEqual(['554 5.4.6 Too many hops: a mail loop?', '221 2.0.0 Bye']);
  });

  it('the recipient cap counts per session: a new MAIL FROM does not reset it', async () => {
    const { port } = await startNode(undefined, undefined, { maxRecipients: 3 });
    const c = await session(port);
    await c.cmd('EHLO client.example');
    expect(await c.cmd('MAIL FROM:<a@remote.example>')).toMatch(/^250 /);
    for (let i = 0; i < 2; i++) expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
    expect(await c.cmd('RSET')).toBe('250 2.0.0 OK');
    expect(await c.cmd('MAIL FROM:<b@remote.example>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toBe('452 4.5.3 Too many recipients');
  });
});

describe('AUTH throttling (#13 item 4)', () => {
  const wrong = plain('alice@example.com', 'wrong');
  const right = plain('alice@example.com', 'alice-password');

  it('past the failure limit AUTH gets 454 4.7.0 without a password check; alice from another address still signs in', async () => {
    const { port, node } = await startNode(undefined, undefined, {
      clientLimits: { authFailureLimit: 3 },
    });
    const attacker = await session(port);
    await attacker.cmd('EHLO attacker.example');
    for (let i = 0; i < 3; i++)
      expect(await attacker.cmd(`AUTH PLAIN ${wrong}`)).toBe(
        '535 5.7.8 Authentication credentials invalid',
      );
    // Even the right password is not checked now.
    expect(await attacker.cmd(`AUTH PLAIN ${right}`)).toBe(
      '454 4.7.0 Too many authentication attempts, please try again later',
    );
    const fresh = await session(port);
    await fresh.cmd('EHLO attacker.example');
    expect(await fresh.cmd(`AUTH PLAIN ${right}`)).toMatch(/^454 4\.7\.0 /);
    expect(node.counters.authFailures).toBe(3);
    // The owner, from another address: checked, and in.
    const owner = await session(port, '127.0.0.2');
    await owner.cmd('EHLO owner.example');
    expect(await owner.cmd(`AUTH PLAIN ${right}`)).toBe('235 2.7.0 Authentication successful');
    expect(await owner.cmd('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
    expect(await owner.cmd('RCPT TO:<bob@outside.example>')).toMatch(/^250 2\.1\.5 /);
  });

  it('guesses spread over usernames still count per address; a username under attack is refused to addresses that failed', async () => {
    const { port } = await startNode(undefined, undefined, {
      clientLimits: { authFailureLimit: 2, maxConcurrentAuthPerClient: 0 },
    });
    const a = await session(port, '127.0.0.3');
    await a.cmd('EHLO a.example');
    expect(await a.cmd(`AUTH PLAIN ${plain('postmaster@example.com', 'x')}`)).toMatch(/^535 /);
    const b = await session(port, '127.0.0.4');
    await b.cmd('EHLO b.example');
    expect(await b.cmd(`AUTH PLAIN ${wrong}`)).toMatch(/^535 /);
    const c = await session(port, '127.0.0.5');
    await c.cmd('EHLO c.example');
    expect(await c.cmd(`AUTH PLAIN ${wrong}`)).toMatch(/^535 /);
    // alice has failed twice: 127.0.0.3 (which failed, for another user) is refused for her.
    expect(await a.cmd(`AUTH PLAIN ${right}`)).toMatch(/^454 4\.7\.0 /);
    const owner = await session(port, '127.0.0.6');
    await owner.cmd('EHLO owner.example');
    expect(await owner.cmd(`AUTH PLAIN ${right}`)).toMatch(/^235 /);
  });

  it('concurrent AUTH from one address is capped: the ones past the cap get 454 4.7.0 at once', async () => {
    const { port } = await startNode(undefined, undefined, {
      clientLimits: { maxConcurrentAuthPerClient: 2 },
    });
    const first = await session(port);
    await first.cmd('EHLO first.example');
    // One failure: the next checks from this address wait 250 ms, holding their slot.
    expect(await first.cmd(`AUTH PLAIN ${wrong}`)).toMatch(/^535 /);
    const sessions = await Promise.all(Array.from({ length: 5 }, () => session(port)));
    for (const s of sessions) await s.cmd('EHLO parallel.example');
    const replies = await Promise.all(sessions.map((s) => s.cmd(`AUTH PLAIN ${wrong}`)));
    expect(replies.filter((r) => r.startsWith('535 ')).length).toBe(2);
    expect(replies.filter((r) => r.startsWith('454 4.7.0 ')).length).toBe(3);
  });
});
