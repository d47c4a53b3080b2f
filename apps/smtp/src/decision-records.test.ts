import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrafficKey } from '@ims/routing-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TrafficStore } from './decision-records';
import { answerRequest } from './requests';
import { session, startNode } from './testing/node-fixture';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T12:00:00Z');

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ims-traffic-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const key = (clientIp: string, recipient = 'partner.example', local = false): TrafficKey => ({
  clientIp,
  serverIp: '127.0.0.1',
  authenticated: false,
  recipient,
  local,
});

describe('TrafficStore: decision records', () => {
  it('counts decisions by action per key', () => {
    const store = new TrafficStore({ now: () => T0 });
    for (let i = 0; i < 3; i++) store.record(key('127.0.0.2'), 'relay');
    store.record(key('127.0.0.2'), 'reject');
    store.record(key('127.0.0.2', 'alice@example.com', true), 'deliver');
    expect(store.snapshot().records).toEqual([
      { ...key('127.0.0.2'), counts: { deliver: 0, relay: 3, reject: 1, 'accept-ndr': 0 } },
      {
        ...key('127.0.0.2', 'alice@example.com', true),
        counts: { deliver: 1, relay: 0, reject: 0, 'accept-ndr': 0 },
      },
    ]);
    expect(store.snapshot().since).toBe(new Date(T0).toISOString());
  });

  it('keeps a rolling window of days: older buckets are dropped', () => {
    let now = T0;
    const store = new TrafficStore({ now: () => now, windowDays: 2 });
    store.record(key('127.0.0.2'), 'relay');
    now += DAY;
    store.record(key('127.0.0.2'), 'relay');
    store.record(key('127.0.0.3'), 'reject');
    expect(store.snapshot().records[0]?.counts.relay).toBe(2);
    now += 2 * DAY;
    // The first day left the window; the second is still in it.
    expect(store.snapshot().records.map((r) => [r.clientIp, r.counts.relay])).toEqual([
      ['127.0.0.2', 1],
      ['127.0.0.3', 0],
    ]);
    now += 2 * DAY;
    expect(store.snapshot().records).toEqual([]);
    expect(store.snapshot().since).toBe(
      new Date(Math.floor((now - 2 * DAY) / DAY) * DAY).toISOString(),
    );
  });

  it('is bounded: past maxKeys the key used least recently goes', () => {
    const store = new TrafficStore({ now: () => T0, maxKeys: 3 });
    store.record(key('10.0.0.1'), 'relay');
    store.record(key('10.0.0.2'), 'relay');
    store.record(key('10.0.0.3'), 'relay');
    store.record(key('10.0.0.1'), 'relay'); // used again: now the newest
    store.record(key('10.0.0.4'), 'relay');
    expect(store.size).toBe(3);
    expect(store.snapshot().records.map((r) => r.clientIp)).toEqual([
      '10.0.0.3',
      '10.0.0.1',
      '10.0.0.4',
    ]);
  });

  it('pages in key order with a cursor; every key exactly once', () => {
    const store = new TrafficStore({ now: () => T0 });
    for (let i = 0; i < 25; i++) store.record(key(`10.0.0.${i}`), 'relay');
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = store.page(after, 10);
      seen.push(...page.records.map((r) => r.clientIp));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `10.0.0.${i}`).sort());
  });

  it('persists: a new store on the same file has the records', async () => {
    const file = join(tempDir(), 'traffic.json');
    const first = new TrafficStore({ file, now: () => T0 });
    await first.start();
    first.record(key('127.0.0.2'), 'relay');
    first.record(key('127.0.0.2'), 'relay');
    await first.stop();
    const second = new TrafficStore({ file, now: () => T0 + 1000 });
    await second.start();
    expect(second.snapshot()).toEqual(first.snapshot());
    await second.stop();
  });

  it('a file that cannot be read is set aside; nonsense entries are skipped one by one', async () => {
    const dir = tempDir();
    const file = join(dir, 'traffic.json');
    writeFileSync(file, '{"entries": [[');
    const broken = new TrafficStore({ file, now: () => T0 });
    await broken.start();
    expect(broken.snapshot().records).toEqual([]);
    expect(readFileSync(`${file}.bad`, 'utf8')).toBe('{"entries": [[');
    await broken.stop();

    const day = Math.floor(T0 / DAY);
    const good = ['127.0.0.2', '127.0.0.1', false, 'partner.example', false, [[day, 0, 4, 0, 0]]];
    writeFileSync(
      file,
      JSON.stringify({
        format: 1,
        entries: [
          good,
          ['127.0.0.3', '127.0.0.1', 'no', 'x.example', false, [[day, 0, 1, 0, 0]]],
          ['127.0.0.4', '127.0.0.1', false, 'x.example', false, [[day, -1, 1, 0, 0]]],
          ['127.0.0.5', '127.0.0.1', false, 'x'.repeat(600), false, [[day, 0, 1, 0, 0]]],
          [
            '127.0.0.6',
            '127.0.0.1',
            false,
            'x.example',
            false,
            [
              [day, 0, 1, 0, 0],
              [day, 1, 0, 0, 0],
            ],
          ],
          { clientIp: '127.0.0.7' },
          null,
        ],
      }),
    );
    const partly = new TrafficStore({ file, now: () => T0 });
    await partly.start();
    expect(partly.snapshot().records).toEqual([
      { ...key('127.0.0.2'), counts: { deliver: 0, relay: 4, reject: 0, 'accept-ndr': 0 } },
    ]);
    await partly.stop();
  });

  it('the node answers traffic.records, and refuses a bad cursor or limit', async () => {
    const store = new TrafficStore({ now: () => T0 });
    store.record(key('127.0.0.2'), 'relay');
    const queue = {
      list: async () => [],
      describe: async () => undefined,
      retry: () => undefined,
      delete: async () => ({ ndrSent: false }),
    };
    expect(await answerRequest(queue, 'traffic.records', {}, store)).toEqual({
      ok: true,
      result: { since: new Date(T0).toISOString(), windowDays: 7, records: [expect.anything()] },
    });
    for (const params of [{ after: 5 }, { limit: 0 }, { limit: 5001 }, { limit: '10' }]) {
      expect(await answerRequest(queue, 'traffic.records', params, store)).toMatchObject({
        ok: false,
        error: { code: 'bad-request' },
      });
    }
  });
});

describe('the SMTP node records its RCPT decisions', () => {
  it('one count per RCPT, by action, kept over a node restart', async () => {
    const { node, port, dataDir } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    await c.cmd('MAIL FROM:<someone@remote.example>');
    expect(await c.cmd('RCPT TO:<victim@Elsewhere.example>')).toMatch(/^550 5\.7\.1/);
    expect(await c.cmd('RCPT TO:<other@elsewhere.example>')).toMatch(/^550 5\.7\.1/);
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<a@b@c>')).toMatch(/^5/);
    const expected = [
      {
        clientIp: '127.0.0.1',
        serverIp: '127.0.0.1',
        authenticated: false,
        recipient: 'elsewhere.example',
        local: false,
        counts: { deliver: 0, relay: 0, reject: 2, 'accept-ndr': 0 },
      },
      {
        clientIp: '127.0.0.1',
        serverIp: '127.0.0.1',
        authenticated: false,
        recipient: 'alice@example.com',
        local: true,
        counts: { deliver: 1, relay: 0, reject: 0, 'accept-ndr': 0 },
      },
    ];
    expect(node.traffic.snapshot().records).toEqual(expected);
    c.close();
    await node.stop();
    // No message content and no external address in the file.
    const text = readFileSync(join(dataDir, 'traffic.json'), 'utf8');
    expect(text).not.toMatch(/victim|remote\.example/);

    const { node: again } = await startNode(undefined, ['127.0.0.1'], {
      dataDir,
    });
    expect(again.traffic.snapshot().records).toEqual(expected);
  });
});
