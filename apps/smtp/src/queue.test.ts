// Administering the outbound queue (the console's Queues tab): list, retry
// now, delete, and delete with a non-delivery report, on a real node whose
// outbound mail goes to a loopback listener that drops every connection (so it stays deferred).

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { maildirOf } from './maildir';
import { NotQueued } from './queue';
import { answerRequest } from './requests';
import { plain, session, startNode } from './testing/node-fixture';

/**
 * A loopback port whose listener drops every connection at once, held open
 * until the file ends. A port merely closed after probing can be handed out
 * again to another test's SMTP sink, which then takes the "stuck" message.
 */
const refusers: Server[] = [];
afterAll(async () => {
  await Promise.all(refusers.map((s) => new Promise((r) => s.close(r))));
});
async function refusingPort(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  refusers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A node whose smart host drops every connection and that waits a minute between attempts. */
async function stuckNode() {
  const port = await refusingPort();
  return startNode(undefined, ['127.0.0.1'], {
    smartHost: { host: '127.0.0.1', port },
    queue: { retryScheduleMs: [60_000], connectionTimeoutMs: 2000 },
  });
}

/**
 * A node whose smart host accepts the connection and never greets: each
 * attempt lasts a second (the connection timeout), long enough to act during
 * it. `connections()` counts the attempts that have connected.
 */
async function silentNode() {
  const held: Socket[] = [];
  const silent = createServer((socket) => held.push(socket));
  refusers.push(silent);
  onTestFinished(() => {
    for (const socket of held) socket.destroy();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const started = await startNode(undefined, ['127.0.0.1'], {
    smartHost: { host: '127.0.0.1', port: (silent.address() as { port: number }).port },
    queue: { retryScheduleMs: [60_000], connectionTimeoutMs: 1000 },
  });
  return { ...started, connections: () => held.length };
}

async function sendAsAlice(port: number, from = 'alice@example.com') {
  const c = await session(port);
  await c.cmd('EHLO client.example');
  expect(await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'alice-password')}`)).toMatch(/^235/);
  expect(await c.cmd(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
  expect(await c.cmd('RCPT TO:<bob@outside.example>')).toMatch(/^250 /);
  expect(await c.cmd('DATA')).toMatch(/^354 /);
  expect(await c.cmd('Subject: Stuck\r\n\r\nHello Bob.\r\n.')).toBe('250 2.6.0 Message accepted');
  await c.cmd('QUIT');
}

/** The first queued message once it has failed `attempts` times. */
async function deferred(node: Awaited<ReturnType<typeof stuckNode>>['node'], attempts = 1) {
  return until(async () => {
    const [m] = await node.queue.list();
    return m && m.attempts >= attempts ? m : undefined;
  });
}

function inbox(dataDir: string, mailbox: string): string[] {
  const dir = join(maildirOf(dataDir, mailbox), 'new');
  try {
    return readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
  } catch {
    return [];
  }
}

describe('the outbound queue, administered', () => {
  it('lists a deferred message: sender, pending recipients, size, times, attempts and last error', async () => {
    const { node, port } = await stuckNode();
    expect(await node.queue.list()).toEqual([]);
    const before = Date.now();
    await sendAsAlice(port);
    const m = await deferred(node);
    expect(m).toMatchObject({
      from: 'alice@example.com',
      recipients: ['bob@outside.example'],
      attempts: 1,
    });
    expect(m.id).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(m.size).toBeGreaterThan('Subject: Stuck\r\n\r\nHello Bob.\r\n'.length);
    expect(Date.parse(m.queuedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(m.nextAttemptAt) - Date.now()).toBeGreaterThan(30_000);
    expect(m.lastError).toMatch(/ECONNRESET|closed|refused|connect/i);
    expect(node.counters).toMatchObject({ queueMessages: 1, queueDeferred: 1 });
  });

  it('retry tries the message now: attempts grow without waiting for the schedule', async () => {
    const { node, port } = await stuckNode();
    await sendAsAlice(port);
    const m = await deferred(node);
    node.queue.retry(m.id);
    const again = await deferred(node, 2);
    expect(again.id).toBe(m.id);
    expect(() => node.queue.retry('1.nonexistent')).toThrow(NotQueued);
  });

  it('a retry during an attempt runs as soon as that attempt has failed, not at the next scheduled time', async () => {
    const { node, port, connections } = await silentNode();
    await sendAsAlice(port);
    // The first attempt is connected and waiting for the greeting: retry now.
    await until(() => (connections() >= 1 ? true : undefined));
    const [m] = await node.queue.list();
    expect(m?.attempts).toBe(0);
    node.queue.retry(m?.id as string);
    // Its second attempt follows the first at once (the schedule would wait a minute).
    const again = await deferred(node, 2);
    expect(again.id).toBe(m?.id);
    expect(connections()).toBeGreaterThanOrEqual(2);
  });

  it('during an attempt the listing shows what the file says: its attempts and next time together', async () => {
    const { node, port, connections } = await silentNode();
    await sendAsAlice(port);
    const first = await deferred(node, 1);
    node.queue.retry(first.id);
    // The second attempt is connected: the listing is still the first's.
    await until(() => (connections() >= 2 ? true : undefined));
    expect(await node.queue.list()).toEqual([first]);
    const second = await deferred(node, 2);
    expect(Date.parse(second.nextAttemptAt)).toBeGreaterThan(Date.parse(first.nextAttemptAt));
    expect(await node.queue.list()).toEqual([second]);
  });

  it('delete removes the message for good, and sends no report unless asked', async () => {
    const { node, port, dataDir } = await stuckNode();
    await sendAsAlice(port);
    const m = await deferred(node);
    expect(await node.queue.delete(m.id)).toEqual({ ndrSent: false });
    expect(await node.queue.list()).toEqual([]);
    expect(node.counters).toMatchObject({ queueMessages: 0, queueDeferred: 0 });
    expect(readdirSync(join(dataDir, 'queue', 'queue'))).toEqual([]);
    expect(inbox(dataDir, 'alice@example.com')).toEqual([]);
    await expect(node.queue.delete(m.id)).rejects.toBeInstanceOf(NotQueued);
    // Retrying a deleted message is refused as well.
    expect(() => node.queue.retry(m.id)).toThrow(NotQueued);
  });

  it('delete with ndr returns the message to its sender with an RFC 3464 report', async () => {
    const { node, port, dataDir } = await stuckNode();
    await sendAsAlice(port);
    const m = await deferred(node);
    expect(await node.queue.delete(m.id, { ndr: true })).toEqual({ ndrSent: true });
    const [report] = await until(() => {
      const r = inbox(dataDir, 'alice@example.com');
      return r.length > 0 ? r : undefined;
    });
    expect(report).toContain('multipart/report; report-type=delivery-status');
    expect(report).toContain('Final-Recipient: rfc822; bob@outside.example');
    expect(report).toContain('Action: failed');
    expect(report).toContain('Status: 5.0.0');
    expect(report).toContain('An administrator deleted the message');
    expect(report).toContain('Hello Bob.');
    expect(await node.queue.list()).toEqual([]);
  });

  it('a delete during an attempt waits for it, and the message is not tried again', async () => {
    const { node, port } = await stuckNode();
    await sendAsAlice(port);
    const m = await deferred(node);
    node.queue.retry(m.id);
    await node.queue.delete(m.id);
    expect(await node.queue.list()).toEqual([]);
    await node.queue.idle(5000);
  });
});

describe('requests from the console', () => {
  it('queue.list, queue.retry and queue.delete answer as the contract says; errors are answers', async () => {
    const { node, port } = await stuckNode();
    await sendAsAlice(port);
    const m = await deferred(node);
    const list = await answerRequest(node.queue, 'queue.list', {});
    expect(list).toEqual({ ok: true, result: { messages: [m] } });
    expect(await answerRequest(node.queue, 'queue.retry', { id: m.id })).toEqual({
      ok: true,
      result: { message: m },
    });
    expect(await answerRequest(node.queue, 'queue.retry', {})).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    expect(await answerRequest(node.queue, 'queue.retry', { id: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    expect(await answerRequest(node.queue, 'queue.flush', {})).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    const m2 = await deferred(node, 2);
    expect(await answerRequest(node.queue, 'queue.delete', { id: m.id, ndr: false })).toEqual({
      ok: true,
      result: { message: m2, ndrSent: false },
    });
    expect(await answerRequest(node.queue, 'queue.delete', { id: m.id })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
  });

  it('a queue that fails answers failed, with the reason', async () => {
    const broken = {
      list: () => Promise.reject(new Error('disk on fire')),
      describe: () => Promise.resolve(undefined),
      retry: () => undefined,
      delete: () => Promise.resolve({ ndrSent: false }),
    };
    expect(await answerRequest(broken, 'queue.list', {})).toEqual({
      ok: false,
      error: { code: 'failed', message: 'disk on fire' },
    });
  });
});
