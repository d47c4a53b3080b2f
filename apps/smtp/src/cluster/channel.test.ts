import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Channel, type Port, proxy, RemoteError, served } from './channel';

/** Two connected in-memory ends, delivering asynchronously as a pipe does. */
function pipe(): [Port, Port] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, other: EventEmitter): Port => ({
    send: (m) => setImmediate(() => other.emit('message', structuredClone(m))),
    on: (e, fn) => self.on(e, fn),
    off: (e, fn) => self.off(e, fn),
  });
  return [end(a, b), end(b, a)];
}

interface Up {
  requests: {
    add: { params: { a: number; b: number }; result: number };
    fail: { params: null; result: never };
  };
  notes: { hello: { from: string } };
}
interface Down {
  requests: Record<string, never>;
  notes: { bye: null };
}

describe('the primary/worker channel', () => {
  it('answers requests, carries errors and notifications, both ways', async () => {
    const [w, p] = pipe();
    const worker = new Channel<Up, Down>(w);
    const primary = new Channel<Down, Up>(p);
    primary.handle('add', ({ a, b }) => a + b);
    primary.handle('fail', () => {
      throw new Error('no such thing');
    });
    const heard: string[] = [];
    primary.on('hello', ({ from }) => heard.push(from));
    worker.on('bye', () => heard.push('bye'));

    expect(await worker.request('add', { a: 2, b: 3 })).toBe(5);
    await expect(worker.request('fail', null)).rejects.toThrow(RemoteError);
    await expect(worker.request('fail', null)).rejects.toThrow(/no such thing/);
    worker.notify('hello', { from: 'w1' });
    primary.notify('bye', null);
    await new Promise((r) => setTimeout(r, 20));
    expect(heard.sort()).toEqual(['bye', 'w1']);
  });

  it('a request nobody handles is an error; one never answered times out; close fails those waiting', async () => {
    const [w, p] = pipe();
    const worker = new Channel<Up, Down>(w, 100);
    new Channel<Down, Up>(p);
    await expect(worker.request('add', { a: 1, b: 1 })).rejects.toThrow(/unknown request add/);

    const [lonely] = pipe();
    const alone = new Channel<Up, Down>(lonely, 50);
    await expect(alone.request('add', { a: 1, b: 1 })).rejects.toThrow(/no answer in 50 ms/);
    const waiting = new Channel<Up, Down>(lonely, 10_000).request('add', { a: 1, b: 1 });
    // A second channel on the same port: closing it fails only its own requests.
    const closing = new Channel<Up, Down>(lonely, 10_000);
    const pending = closing.request('add', { a: 1, b: 2 });
    closing.close();
    await expect(pending).rejects.toThrow(/closed before the answer/);
    await expect(closing.request('add', { a: 1, b: 2 })).rejects.toThrow(/channel is closed/);
    void waiting.catch(() => undefined);
  });

  it('ignores what is not one of its messages, and still answers after it', async () => {
    const [w, p] = pipe();
    const worker = new Channel<Up, Down>(w);
    const primary = new Channel<Down, Up>(p);
    primary.handle('add', ({ a, b }) => a + b);
    // Junk on the pipe (another library's IPC, a malformed message): dropped.
    for (const junk of [null, 42, 'text', {}, { ims: 'x' }, { ims: 'res', id: 999, ok: true }, []])
      w.send(junk);
    await new Promise((r) => setTimeout(r, 20));
    expect(await worker.request('add', { a: 1, b: 2 })).toBe(3);
  });

  it('a proxy calls the one instance the other side serves', async () => {
    interface Counter {
      hit(key: string): Promise<number>;
    }
    interface Calls {
      requests: {
        call: { params: { target: string; method: string; args: unknown[] }; result: unknown };
      };
      notes: Record<string, never>;
    }
    const [w, p] = pipe();
    const hits = new Map<string, number>();
    const one: Counter = {
      async hit(key) {
        const n = (hits.get(key) ?? 0) + 1;
        hits.set(key, n);
        return n;
      },
    };
    const primary = new Channel<
      { requests: Record<string, never>; notes: Record<string, never> },
      Calls
    >(p);
    primary.handle('call', served(new Map([['counter', one]])));
    const worker = new Channel<
      Calls,
      { requests: Record<string, never>; notes: Record<string, never> }
    >(w);
    const a = proxy<Counter>((c) => worker.request('call', c), 'counter', ['hit']);
    const b = proxy<Counter>((c) => worker.request('call', c), 'counter', ['hit']);
    expect(await a.hit('192.0.2.1')).toBe(1);
    expect(await b.hit('192.0.2.1')).toBe(2);
    expect(await a.hit('192.0.2.9')).toBe(1);
    const missing = proxy<Counter>((c) => worker.request('call', c), 'nothing', ['hit']);
    await expect(missing.hit('x')).rejects.toThrow(/no method nothing.hit/);
  });
});
