import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../problems/problem-error';
import { nodeRequests } from './node-requests';

const message = {
  id: '1.a',
  from: 'alice@example.com',
  recipients: ['bob@outside.example'],
  size: 10,
  queuedAt: '2026-11-29T10:00:00.000Z',
  attempts: 1,
  nextAttemptAt: '2026-11-29T10:01:00.000Z',
  lastError: 'connect ECONNREFUSED 127.0.0.1:9',
};

/** A fake event hub: records what each node was sent; `online` says which nodes have a stream. */
function hub(online = new Set([1, 2])) {
  const sent: { nodeId: number; type: string; data: { id: string; method: string } }[] = [];
  return {
    sent,
    online,
    events: {
      isConnected: (id: number) => online.has(id),
      publishToNode: (nodeId: number, type: string, data: object) => {
        if (!online.has(nodeId)) return false;
        sent.push({ nodeId, type, data: data as { id: string; method: string } });
        return true;
      },
    },
  };
}

const edge1 = { id: 1, name: 'edge-1' };
const edge2 = { id: 2, name: 'edge-2' };

async function slugOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ProblemError))
    throw new Error(`expected a ProblemError, got ${String(err)}`);
  return `${err.status} ${err.slug}`;
}

describe('requests to nodes over their event stream', () => {
  it('sends request { id, method, params } to that node and resolves with its answer', async () => {
    const h = hub();
    const r = nodeRequests(h.events);
    const asked = r.ask(edge1, 'queue.list', {});
    expect(h.sent).toEqual([
      {
        nodeId: 1,
        type: 'request',
        data: { id: expect.any(String), method: 'queue.list', params: {} },
      },
    ]);
    const id = h.sent[0]?.data.id ?? '';
    expect(r.waiting(1)).toBe(1);
    expect(r.answer(1, id, { ok: true, result: { messages: [message] } })).toBe('answered');
    expect(await asked).toEqual({ messages: [message] });
    expect(r.waiting(1)).toBe(0);
  });

  it('an offline node is 503 at once; a node that never answers is 504 after the timeout', async () => {
    const h = hub(new Set([1]));
    const r = nodeRequests(h.events, { requestTimeoutMs: 50 });
    expect(await slugOf(r.ask(edge2, 'queue.list', {}))).toBe('503 node-offline');
    const started = Date.now();
    expect(await slugOf(r.ask(edge1, 'queue.list', {}))).toBe('504 node-timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    // A late answer finds nothing waiting, and nothing stays pending.
    expect(r.answer(1, h.sent[0]?.data.id ?? '', { ok: true, result: { messages: [] } })).toBe(
      'unknown',
    );
    expect(r.waiting(1)).toBe(0);
  });

  it('an answer counts once, only for a request that exists, and only from the node it was sent to', async () => {
    const h = hub();
    const r = nodeRequests(h.events, { requestTimeoutMs: 2000 });
    const asked = r.ask(edge1, 'queue.retry', { id: message.id });
    const id = h.sent[0]?.data.id ?? '';
    // Another node answers edge-1's request: refused, and edge-1's request still waits.
    expect(r.answer(2, id, { ok: true, result: { message } })).toBe('unknown');
    expect(r.waiting(1)).toBe(1);
    // An id nobody sent.
    expect(r.answer(1, 'f00d', { ok: true, result: { message } })).toBe('unknown');
    expect(r.answer(1, id, { ok: true, result: { message } })).toBe('answered');
    // Twice.
    expect(r.answer(1, id, { ok: true, result: { message: { ...message, attempts: 9 } } })).toBe(
      'unknown',
    );
    expect(await asked).toEqual({ message });
  });

  it('bounded: past maxPendingPerNode requests waiting, a node is busy (503); others are not', async () => {
    const h = hub();
    const r = nodeRequests(h.events, { requestTimeoutMs: 2000, maxPendingPerNode: 2 });
    const a = r.ask(edge1, 'queue.list', {});
    const b = r.ask(edge1, 'queue.list', {});
    expect(await slugOf(r.ask(edge1, 'queue.list', {}))).toBe('503 node-busy');
    const c = r.ask(edge2, 'queue.list', {});
    for (const s of h.sent) r.answer(s.nodeId, s.data.id, { ok: true, result: { messages: [] } });
    await Promise.all([a, b, c]);
    expect(r.waiting(1)).toBe(0);
    // Room again.
    const d = r.ask(edge1, 'queue.list', {});
    const last = h.sent.at(-1);
    r.answer(1, last?.data.id ?? '', { ok: true, result: { messages: [] } });
    await d;
  });

  it("maps the node's errors to problems, and refuses an answer that is not the method's", async () => {
    const h = hub();
    const r = nodeRequests(h.events, { requestTimeoutMs: 2000 });
    const cases: [Parameters<typeof r.answer>[2], string][] = [
      [
        {
          ok: false,
          error: { code: 'not-found', message: 'There is no message 1.a in the queue.' },
        },
        '404 not-found',
      ],
      [
        { ok: false, error: { code: 'bad-request', message: 'params.id is required.' } },
        '400 validation-failed',
      ],
      [{ ok: false, error: { code: 'failed', message: 'disk on fire' } }, '502 node-failed'],
      [{ ok: true, result: { messages: 'lots' } }, '502 node-failed'],
      [{ ok: true, result: { message: { ...message, size: -1 } } }, '502 node-failed'],
    ];
    for (const [answer, expected] of cases) {
      const asked = r.ask(edge1, 'queue.retry', { id: message.id });
      r.answer(1, h.sent.at(-1)?.data.id ?? '', answer);
      expect(await slugOf(asked), JSON.stringify(answer)).toBe(expected);
    }
  });
});
