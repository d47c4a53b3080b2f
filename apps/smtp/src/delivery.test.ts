// Outbound delivery over real SMTP: the queue, retries, non-delivery reports
// (RFC 3464), the Q255695 NDR path, and STARTTLS with a configured certificate.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { maildirOf } from './maildir';
import { resolveTargets } from './outbound';
import { OutboundQueue } from './queue';
import { bundle, hash, plain, session, startNode } from './testing/node-fixture';
import { type SinkOptions, SmtpSink } from './testing/smtp-sink';

async function sink(opts: SinkOptions = {}) {
  const s = await SmtpSink.start(opts);
  onTestFinished(() => s.close());
  return s;
}

/** A node whose outbound mail goes to `smart` and retries quickly. */
async function nodeWithSmartHost(
  smart: SmtpSink,
  config: RoutingConfig = defaultConfig('example.com'),
  queue: { retryScheduleMs?: number[]; maxAgeMs?: number } = {},
) {
  return startNode(bundle(1, config), ['127.0.0.1'], {
    smartHost: { host: smart.host, port: smart.port },
    queue: { retryScheduleMs: [100], connectionTimeoutMs: 2000, ...queue },
  });
}

/** Alice authenticates and sends one message to `rcpts`. */
async function sendAsAlice(port: number, rcpts: string[], body = 'Subject: Hello\r\n\r\nHi.') {
  const c = await session(port);
  await c.cmd('EHLO client.example');
  expect(await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'alice-password')}`)).toMatch(/^235/);
  expect(await c.cmd('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
  for (const r of rcpts) expect(await c.cmd(`RCPT TO:<${r}>`)).toMatch(/^250 /);
  expect(await c.cmd('DATA')).toMatch(/^354 /);
  expect(await c.cmd(`${body}\r\n.`)).toBe('250 2.6.0 Message accepted');
  await c.cmd('QUIT');
}

function maildir(dataDir: string, mailbox: string): string[] {
  const dir = join(maildirOf(dataDir, mailbox), 'new');
  try {
    return readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
  } catch {
    return [];
  }
}

async function until<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('outbound queue: delivery over SMTP', () => {
  it('a relayed message reaches the smart host, with our Received: header, and the counters say so', async () => {
    const outside = await sink();
    const { node, port } = await nodeWithSmartHost(outside);
    await sendAsAlice(port, ['bob@outside.example', 'carol@outside.example']);
    const [m] = await outside.waitFor(1);
    expect(m?.mailFrom).toBe('alice@example.com');
    expect(m?.rcptTo.sort()).toEqual(['bob@outside.example', 'carol@outside.example']);
    expect(m?.data.toString()).toMatch(/^Received: from client\.example \(\[127\.0\.0\.1\]\)/);
    expect(m?.data.toString()).toContain('Hi.');
    await node.queue.idle();
    expect(node.counters).toMatchObject({
      queueMessages: 0,
      outboundDelivered: 2,
      outboundFailed: 0,
    });
  });

  it('a routing-table host gets its domain; the rest go to the smart host', async () => {
    const smart = await sink();
    const partner = await sink();
    const config = defaultConfig('example.com');
    config.routes.push({ sentTo: 'partner.example', routeTo: `127.0.0.1:${partner.port}` });
    const { port } = await nodeWithSmartHost(smart, config);
    await sendAsAlice(port, ['x@sub.partner.example', 'y@elsewhere.example']);
    const [p] = await partner.waitFor(1);
    const [s] = await smart.waitFor(1);
    expect(p?.rcptTo).toEqual(['x@sub.partner.example']);
    expect(s?.rcptTo).toEqual(['y@elsewhere.example']);
  });

  it('a 5xx from the next hop fails the recipient for good: an RFC 3464 report goes to the sender', async () => {
    const outside = await sink({
      rcptReply: (a) => (a.startsWith('nobody@') ? '550 5.1.1 No such user' : undefined),
    });
    const { node, port, dataDir } = await nodeWithSmartHost(outside);
    await sendAsAlice(
      port,
      ['nobody@outside.example', 'bob@outside.example'],
      'Subject: Plans\r\n\r\nSecret plans.',
    );
    await outside.waitFor(1);
    expect(outside.messages[0]?.rcptTo).toEqual(['bob@outside.example']);
    const [report] = await until(() => {
      const got = maildir(dataDir, 'alice@example.com');
      return got.length > 0 ? got : undefined;
    });
    expect(report).toMatch(/^From: Mail Delivery System <postmaster@example\.com>\r$/m);
    expect(report).toMatch(/^Subject: Undeliverable: Plans\r$/m);
    expect(report).toMatch(/^Auto-Submitted: auto-replied\r$/m);
    expect(report).toMatch(
      /^Content-Type: multipart\/report; report-type=delivery-status; boundary="[^"]+"\r$/m,
    );
    expect(report).toMatch(/^Reporting-MTA: dns; mx\.example\.com\r$/m);
    expect(report).toMatch(/^Final-Recipient: rfc822; nobody@outside\.example\r$/m);
    expect(report).toMatch(/^Action: failed\r$/m);
    expect(report).toMatch(/^Status: 5\.1\.1\r$/m);
    expect(report).toMatch(/^Remote-MTA: dns; 127\.0\.0\.1\r$/m);
    expect(report).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1 No such user\r$/m);
    expect(report).not.toContain('bob@outside.example>:');
    expect(report).toMatch(/Content-Type: message\/rfc822\r\n[\s\S]*Secret plans\./);
    await node.queue.idle();
    expect(node.counters).toMatchObject({ outboundDelivered: 1, outboundFailed: 1, ndrsSent: 1 });
  });

  it('a 4xx is retried with backoff until the next hop takes it', async () => {
    let tries = 0;
    const outside = await sink({
      rcptReply: () => (++tries < 3 ? '451 4.3.0 Try again later' : undefined),
    });
    const { node, port, log } = await nodeWithSmartHost(outside);
    await sendAsAlice(port, ['bob@outside.example']);
    await until(() => (node.counters.queueDeferred === 1 ? true : undefined));
    await outside.waitFor(1);
    await node.queue.idle();
    expect(tries).toBe(3);
    expect(node.counters).toMatchObject({
      queueMessages: 0,
      queueDeferred: 0,
      outboundDelivered: 1,
    });
    expect(log.filter((e) => e.event === 'deferred')).toHaveLength(2);
  });

  it('a message that stays undeliverable expires: a report with Status 4.4.7', async () => {
    const outside = await sink({ rcptReply: () => '451 4.3.0 Try again later' });
    const { node, port, dataDir } = await nodeWithSmartHost(outside, undefined, {
      retryScheduleMs: [50],
      maxAgeMs: 300,
    });
    await sendAsAlice(port, ['bob@outside.example']);
    const [report] = await until(() => {
      const got = maildir(dataDir, 'alice@example.com');
      return got.length > 0 ? got : undefined;
    });
    expect(report).toMatch(/^Status: 4\.4\.7\r$/m);
    expect(report).toMatch(/^Final-Recipient: rfc822; bob@outside\.example\r$/m);
    await node.queue.idle();
    expect(node.counters.queueMessages).toBe(0);
  });

  it('a message from the null sender that fails is dropped: no report to <>', async () => {
    const outside = await sink({ rcptReply: () => '550 5.1.1 No such user' });
    const { node, port, log } = await nodeWithSmartHost(outside);
    const c = await session(port);
    await c.cmd('EHLO client.example');
    await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'alice-password')}`);
    expect(await c.cmd('MAIL FROM:<>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<bob@outside.example>')).toMatch(/^250 /);
    await c.cmd('DATA');
    expect(await c.cmd('Subject: a bounce\r\n\r\nx\r\n.')).toMatch(/^250 /);
    await until(() => (log.some((e) => e.event === 'bounce-suppressed') ? true : undefined));
    await node.queue.idle();
    expect(node.counters).toMatchObject({ outboundFailed: 1, ndrsSent: 0 });
    expect(outside.messages).toHaveLength(0);
  });

  it('queued mail survives a stop: a new queue on the same directory delivers it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-queue-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const bounce = async () => undefined;
    // Nothing listens on the first smart host: the message waits.
    const closed = await sink();
    const deadPort = closed.port;
    await closed.close();
    const first = new OutboundQueue({
      dir,
      hostname: 'mx.example.com',
      smartHost: { host: '127.0.0.1', port: deadPort },
      retryScheduleMs: [60_000],
      connectionTimeoutMs: 1000,
      onBounce: bounce,
    });
    await first.start();
    await first.enqueue(
      'alice@example.com',
      [{ address: 'bob@outside.example', hop: { kind: 'outbound', domain: 'outside.example' } }],
      Buffer.from('Subject: kept\r\n\r\nkept\r\n'),
    );
    await until(() => (first.stats.queueDeferred === 1 ? true : undefined));
    await first.stop();

    const outside = await sink();
    const second = new OutboundQueue({
      dir,
      hostname: 'mx.example.com',
      smartHost: { host: outside.host, port: outside.port },
      onBounce: bounce,
    });
    await second.start();
    expect(second.stats).toMatchObject({ queueMessages: 1, queueDeferred: 1 });
    second.flush();
    const [m] = await outside.waitFor(1);
    expect(m?.data.toString()).toContain('kept');
    await second.idle();
    await second.stop();
    expect(readdirSync(join(dir, 'queue'))).toHaveLength(0);
  });

  it('a queue file that cannot be read is set aside, not retried for ever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-queue-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('mkdir', ['-p', join(dir, 'queue')]);
    execFileSync('sh', ['-c', `printf 'not json\\nbody' > ${join(dir, 'queue', 'junk')}`]);
    const q = new OutboundQueue({ dir, hostname: 'h', onBounce: async () => undefined });
    await q.start();
    expect(q.stats.queueMessages).toBe(0);
    expect(readdirSync(join(dir, 'corrupt'))).toEqual(['junk']);
    await q.stop();
  });

  it('after a restart too: a finished job keeps its name on disk for a minute, and a replay then does not send it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-queue-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const outside = await sink();
    const opts = {
      dir,
      hostname: 'mx.example.com',
      smartHost: { host: outside.host, port: outside.port },
      onBounce: async () => undefined,
    };
    const recipients = [
      { address: 'bob@outside.example', hop: { kind: 'outbound', domain: 'outside.example' } },
    ] as const;
    const message = Buffer.from('Subject: once\r\n\r\nonce\r\n');
    const first = new OutboundQueue(opts);
    await first.start();
    const name = await first.enqueue('alice@example.com', [...recipients], message, 1, {
      name: '1700000000.M2P1Q1R1.test',
      sync: false,
    });
    await outside.waitFor(1);
    await first.idle();
    await first.stop();
    // Its name, emptied: the message itself is not kept.
    expect(readdirSync(join(dir, 'done'))).toEqual([name]);
    expect(readFileSync(join(dir, 'done', name))).toHaveLength(0);
    // The whole node crashed: a new runner, nothing in memory, replays the journal.
    const second = new OutboundQueue(opts);
    await second.start();
    onTestFinished(() => second.stop());
    await second.enqueue('alice@example.com', [...recipients], message, 1, {
      name,
      sync: false,
      skipPresent: true,
    });
    expect(second.stats.queueMessages).toBe(0);
    second.flush();
    await second.idle();
    expect(outside.messages).toHaveLength(1);
    // A minute later the name is swept.
    const later = new OutboundQueue({ ...opts, now: () => Date.now() + 61_000 });
    await later.sweepDone();
    expect(readdirSync(join(dir, 'done'))).toEqual([]);
    // done/ removed by hand meanwhile: made again, and the job still leaves the queue.
    rmSync(join(dir, 'done'), { recursive: true });
    await second.enqueue('alice@example.com', [...recipients], message, 1, { sync: false });
    await outside.waitFor(2);
    await second.idle();
    expect(readdirSync(join(dir, 'queue'))).toEqual([]);
    expect(readdirSync(join(dir, 'done'))).toHaveLength(1);
  });

  it('what else lies in queue/done (a directory, a file with bytes) stops neither the start nor the sweep', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-queue-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('mkdir', ['-p', join(dir, 'done', 'a-directory')]);
    writeFileSync(join(dir, 'done', 'not-empty'), 'bytes');
    const later = new OutboundQueue({
      dir,
      hostname: 'h',
      onBounce: async () => undefined,
      now: () => Date.now() + 61_000,
    });
    await later.start();
    onTestFinished(() => later.stop());
    // The old file is swept; the directory is left (nothing the queue wrote).
    expect(readdirSync(join(dir, 'done'))).toEqual(['a-directory']);
    expect(later.stats.queueMessages).toBe(0);
  });

  it('a journal replayed after the job was delivered does not queue it again (a worker that died)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-queue-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const outside = await sink();
    const q = new OutboundQueue({
      dir,
      hostname: 'mx.example.com',
      smartHost: { host: outside.host, port: outside.port },
      onBounce: async () => undefined,
    });
    await q.start();
    onTestFinished(() => q.stop());
    const recipients = [
      { address: 'bob@outside.example', hop: { kind: 'outbound', domain: 'outside.example' } },
    ] as const;
    const message = Buffer.from('Subject: once\r\n\r\nonce\r\n');
    // As a message is first queued (the copies of a journaled message) …
    const name = await q.enqueue('alice@example.com', [...recipients], message, 1, {
      name: '1700000000.M1P1Q1R1.test',
      sync: false,
    });
    await outside.waitFor(1);
    await q.idle();
    expect(readdirSync(join(dir, 'queue'))).toEqual([]);
    // … then replayed from the journal, its record still there: not queued again.
    await q.enqueue('alice@example.com', [...recipients], message, 1, {
      name,
      sync: false,
      skipPresent: true,
    });
    expect(q.stats.queueMessages).toBe(0);
    expect(readdirSync(join(dir, 'queue'))).toEqual([]);
    // A worker that wrote it again and hands it over: removed, not delivered.
    const job = {
      kind: 'relay',
      mailFrom: 'alice@example.com',
      arrivalDate: new Date().toISOString(),
      version: 1,
      attempts: 0,
      nextAttemptAt: 0,
      recipients: recipients.map((r) => ({ ...r, state: 'pending' })),
    };
    writeFileSync(
      join(dir, 'queue', name),
      Buffer.concat([Buffer.from(`${JSON.stringify(job)}\n`), message]),
    );
    q.adopt(name, 0);
    await until(() => (readdirSync(join(dir, 'queue')).length === 0 ? true : undefined));
    q.flush();
    await q.idle();
    await new Promise((r) => setTimeout(r, 200));
    expect(q.stats.outboundDelivered).toBe(1);
    expect(outside.messages).toHaveLength(1);
    expect(readdirSync(dir)).not.toContain('corrupt');
  });
});

describe('Q255695: "Do not reroute" without recipient rejection', () => {
  it('accepts mail for anyone, then sends the message back to MAIL FROM as an NDR: the NDR relay', async () => {
    const outside = await sink();
    const config = defaultConfig('example.com');
    config.rerouteMode = 'no-reroute';
    config.rejectUnknownRecipients = false;
    const { port } = await nodeWithSmartHost(outside, config);
    // An unauthenticated intruder puts the victim in MAIL FROM.
    const c = await session(port, '127.0.0.9');
    await c.cmd('EHLO spammer.example');
    expect(await c.cmd('MAIL FROM:<victim@target.example>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<anyone@nowhere.example>')).toMatch(/^250 2\.1\.5 /);
    await c.cmd('DATA');
    expect(await c.cmd('Subject: Buy now\r\n\r\nSpam payload.\r\n.')).toBe(
      '250 2.6.0 Message accepted',
    );
    const [ndr] = await outside.waitFor(1);
    expect(ndr?.mailFrom).toBe('');
    expect(ndr?.rcptTo).toEqual(['victim@target.example']);
    const text = ndr?.data.toString() ?? '';
    expect(text).toMatch(/^Final-Recipient: rfc822; anyone@nowhere\.example\r$/m);
    expect(text).toMatch(/^Status: 5\.4\.4\r$/m);
    expect(text).toContain('Spam payload.');
  });

  it('with recipient rejection on, the same recipient is refused at RCPT and nothing goes out', async () => {
    const outside = await sink();
    const config = defaultConfig('example.com');
    config.rerouteMode = 'no-reroute';
    const { port } = await nodeWithSmartHost(outside, config);
    const c = await session(port);
    await c.cmd('EHLO spammer.example');
    await c.cmd('MAIL FROM:<victim@target.example>');
    expect(await c.cmd('RCPT TO:<anyone@nowhere.example>')).toBe(
      '550 5.7.1 Relaying is prohibited',
    );
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
  });

  it('an unknown local recipient without rejection: accepted, then an NDR with 5.1.1', async () => {
    const outside = await sink();
    const config = defaultConfig('example.com');
    config.rejectUnknownRecipients = false;
    const { port } = await nodeWithSmartHost(outside, config);
    const c = await session(port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<sender@remote.example>');
    expect(await c.cmd('RCPT TO:<nobody@example.com>')).toMatch(/^250 /);
    await c.cmd('DATA');
    expect(await c.cmd('Subject: hi\r\n\r\nx\r\n.')).toMatch(/^250 /);
    const [ndr] = await outside.waitFor(1);
    expect(ndr?.rcptTo).toEqual(['sender@remote.example']);
    expect(ndr?.data.toString()).toMatch(/^Status: 5\.1\.1\r$/m);
  });
});

describe('loops and limits on DATA', () => {
  it('a message with more than 50 Received: fields is refused with 554 5.4.6', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<a@remote.example>');
    await c.cmd('RCPT TO:<alice@example.com>');
    await c.cmd('DATA');
    const hops = Array.from({ length: 50 }, (_, i) => `Received: from h${i} by h${i + 1}`);
    expect(await c.cmd(`${hops.join('\r\n')}\r\nSubject: loop\r\n\r\nx\r\n.`)).toBe(
      '554 5.4.6 Too many hops: a mail loop?',
    );
    expect(await c.cmd('NOOP')).toMatch(/^250 /);
  });

  it.each(['127.0.0.1', 'localhost', '[127.0.0.1]'])(
    'mail routed back to this node itself (as %s) fails with 5.4.6 instead of looping',
    async (host) => {
      const config = defaultConfig('example.com');
      const { node, port, dataDir } = await startNode(bundle(1, config));
      // A second version routes loop.example to this very node.
      config.routes.push({ sentTo: 'loop.example', routeTo: `${host}:${port}` });
      node.load(bundle(2, config));
      await sendAsAlice(port, ['x@loop.example']);
      const [report] = await until(() => {
        const got = maildir(dataDir, 'alice@example.com');
        return got.length > 0 ? got : undefined;
      });
      expect(report).toMatch(/^Status: 5\.4\.6\r$/m);
    },
  );
});

describe('STARTTLS with a configured certificate', () => {
  let tls: { cert: Buffer; key: Buffer };
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=mx.example.com',
        '-days',
        '2',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
    rmSync(dir, { recursive: true, force: true });
  });

  it('is advertised, and a client can upgrade, authenticate and send', async () => {
    const { port, dataDir } = await startNode(undefined, undefined, { tls });
    const c = await session(port);
    expect(await c.cmd('EHLO client.example')).toMatch(/^250[- ]STARTTLS$/m);
    c.close();
    const client = new SMTPConnection({
      host: '127.0.0.1',
      port,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    await new Promise<void>((resolve, reject) =>
      client.connect((err) => (err ? reject(err) : resolve())),
    );
    onTestFinished(() => client.close());
    expect(client.secure).toBe(true);
    await new Promise<void>((resolve, reject) =>
      client.login({ user: 'alice@example.com', pass: 'alice-password' }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    await new Promise<void>((resolve, reject) =>
      client.send(
        { from: 'alice@example.com', to: ['alice@example.com'] },
        'Subject: over TLS\r\n\r\nsecret\r\n',
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    const [copy] = await until(() => {
      const got = maildir(dataDir, 'alice@example.com');
      return got.length > 0 ? got : undefined;
    });
    expect(copy).toMatch(/with ESMTPSA?/);
  });

  it('AUTH before STARTTLS: not advertised, refused with 538 5.7.11, the password unchecked (#13 item 5)', async () => {
    const { port, node } = await startNode(undefined, undefined, { tls });
    const c = await session(port);
    const ehlo = await c.cmd('EHLO client.example');
    expect(ehlo).toMatch(/^250[- ]STARTTLS$/m);
    expect(ehlo).not.toMatch(/AUTH/);
    expect(await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'wrong')}`)).toBe(
      '538 5.7.11 Encryption required for requested authentication mechanism',
    );
    expect(await c.cmd('AUTH LOGIN')).toBe(
      '538 5.7.11 Encryption required for requested authentication mechanism',
    );
    expect(node.counters.authFailures).toBe(0);
    expect(await c.cmd('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<bob@outside.example>')).toBe('550 5.7.1 Relaying is prohibited');
  });

  it('after STARTTLS, AUTH is advertised and lets the user relay; a plain session learned nothing (RFC 3207 §4.2)', async () => {
    const { port } = await startNode(undefined, undefined, { tls });
    const c = await session(port);
    await c.cmd('EHLO client.example');
    expect(await c.cmd('STARTTLS')).toMatch(/^220 2\.0\.0 Ready to start TLS$/);
    const socket = c.detach();
    const secure = tlsConnect({ socket, rejectUnauthorized: false });
    await new Promise<void>((resolve) => secure.once('secureConnect', () => resolve()));
    onTestFinished(() => {
      secure.destroy();
    });
    secure.setEncoding('utf8');
    let buffer = '';
    const next = () =>
      new Promise<string>((resolve) => {
        const tryRead = () => {
          const m = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n)/.exec(buffer);
          if (!m?.[1]) return false;
          buffer = buffer.slice(m[1].length);
          resolve(m[1].trimEnd());
          return true;
        };
        if (tryRead()) return;
        const onData = (chunk: string) => {
          buffer += chunk;
          if (tryRead()) secure.off('data', onData);
        };
        secure.on('data', onData);
      });
    const cmd = (line: string) => {
      secure.write(`${line}\r\n`);
      return next();
    };
    const ehlo = await cmd('EHLO client.example');
    expect(ehlo).toMatch(/^250[- ]AUTH PLAIN LOGIN$/m);
    expect(ehlo).not.toMatch(/STARTTLS/);
    expect(await cmd('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
    expect(await cmd('RCPT TO:<bob@outside.example>')).toBe('550 5.7.1 Relaying is prohibited');
    expect(await cmd('RSET')).toBe('250 2.0.0 OK');
    expect(await cmd(`AUTH PLAIN ${plain('alice@example.com', 'alice-password')}`)).toMatch(
      /^235 2\.7\.0 /,
    );
    expect(await cmd('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
    expect(await cmd('RCPT TO:<bob@outside.example>')).toMatch(/^250 2\.1\.5 /);
  });
});

describe('regressions from the queue review', () => {
  it('a failing step after delivery (here the report) backs off; nobody gets the message twice', async () => {
    const outside = await sink({
      rcptReply: (a) => (a.startsWith('bad@') ? '550 5.1.1 No such user' : undefined),
    });
    const dir = mkdtempSync(join(tmpdir(), 'ims-queue-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    let reports = 0;
    const q = new OutboundQueue({
      dir,
      hostname: 'mx.example.com',
      smartHost: { host: outside.host, port: outside.port },
      retryScheduleMs: [300],
      onBounce: async () => {
        reports++;
        throw new Error('disk full');
      },
    });
    await q.start();
    onTestFinished(() => q.stop());
    const hop = { kind: 'outbound' as const, domain: 'outside.example' };
    await q.enqueue(
      'alice@example.com',
      [
        { address: 'ok@outside.example', hop },
        { address: 'bad@outside.example', hop },
      ],
      Buffer.from('Subject: once\r\n\r\nonce\r\n'),
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(outside.messages).toHaveLength(1);
    expect(reports).toBeGreaterThanOrEqual(1);
    expect(reports).toBeLessThanOrEqual(4);
    expect(q.stats.queueMessages).toBe(1);
  });

  it('a report to a sender in a second <inbound> domain lands in that mailbox, headers only', async () => {
    const config = defaultConfig('example.com');
    config.routes.push({ sentTo: 'ms.com', routeTo: '<inbound>' });
    config.rejectUnknownRecipients = false;
    const b = bundle(1, config);
    b.directory.push({ address: 'bob@ms.com', passwordHash: hash('bob-password') });
    const { port, dataDir } = await startNode(b);
    const c = await session(port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<bob@ms.com>');
    expect(await c.cmd('RCPT TO:<nobody@example.com>')).toMatch(/^250 /);
    await c.cmd('DATA');
    expect(await c.cmd('Subject: to nobody\r\n\r\nA body a stranger chose.\r\n.')).toMatch(/^250 /);
    const [report] = await until(() => {
      const got = maildir(dataDir, 'bob@ms.com');
      return got.length > 0 ? got : undefined;
    });
    expect(maildir(dataDir, 'alice@example.com')).toEqual([]);
    expect(report).toMatch(/^Status: 5\.1\.1\r$/m);
    expect(report).toMatch(/^Content-Type: text\/rfc822-headers\r$/m);
    expect(report).toContain('Subject: to nobody');
    expect(report).not.toContain('A body a stranger chose.');
  });

  it('no report goes to a sender at an address literal', async () => {
    const config = defaultConfig('example.com');
    config.rejectUnknownRecipients = false;
    const outside = await sink();
    const { port, log } = await nodeWithSmartHost(outside, config);
    const c = await session(port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<x@[10.0.0.5]>');
    expect(await c.cmd('RCPT TO:<nobody@example.com>')).toMatch(/^250 /);
    await c.cmd('DATA');
    expect(await c.cmd('Subject: s\r\n\r\nx\r\n.')).toMatch(/^250 /);
    await until(() => (log.some((e) => e.event === 'ndr-undeliverable') ? true : undefined));
    expect(outside.messages).toHaveLength(0);
  });

  it('relaying to an address literal goes to that address', async () => {
    expect(await resolveTargets({ kind: 'outbound', domain: '192.0.2.7' }, undefined)).toEqual([
      { host: '192.0.2.7', port: 25 },
    ]);
  });
});
