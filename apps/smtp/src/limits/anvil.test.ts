import { describe, expect, it } from 'vitest';
import { InProcessAnvil } from './anvil';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('InProcessAnvil: sessions per client address', () => {
  it('refuses the 51st session of one address, not another address; a disconnect frees a place', async () => {
    const anvil = new InProcessAnvil({ connectionRatePerMinute: 0 });
    for (let i = 0; i < 50; i++)
      expect(await anvil.connect('192.0.2.1')).toEqual({ allowed: true });
    expect(await anvil.connect('192.0.2.1')).toEqual({ allowed: false, reason: 'count' });
    expect(await anvil.connect('192.0.2.2')).toEqual({ allowed: true });
    await anvil.disconnect('192.0.2.1');
    expect(await anvil.connect('192.0.2.1')).toEqual({ allowed: true });
  });

  it('counts the rate per minute: past it refused (refused attempts count too) until the minute has passed', async () => {
    const c = clock();
    const anvil = new InProcessAnvil({ connectionRatePerMinute: 3 }, c.now);
    for (let i = 0; i < 3; i++) {
      expect(await anvil.connect('192.0.2.1')).toEqual({ allowed: true });
      await anvil.disconnect('192.0.2.1');
    }
    expect(await anvil.connect('192.0.2.1')).toEqual({ allowed: false, reason: 'rate' });
    expect(await anvil.connect('192.0.2.9')).toEqual({ allowed: true });
    c.advance(30_000);
    expect(await anvil.connect('192.0.2.1')).toEqual({ allowed: false, reason: 'rate' });
    c.advance(30_001);
    expect(await anvil.connect('192.0.2.1')).toEqual({ allowed: true });
  });

  it('0 turns a limit off', async () => {
    const anvil = new InProcessAnvil({ maxConnectionsPerClient: 0, connectionRatePerMinute: 0 });
    for (let i = 0; i < 1000; i++) expect((await anvil.connect('192.0.2.1')).allowed).toBe(true);
  });
});

describe('InProcessAnvil: AUTH failures', () => {
  it('past the limit from one address: refused without a check, for the cooling-off period', async () => {
    const c = clock();
    const anvil = new InProcessAnvil({ authFailureLimit: 3, authCoolOffMs: 60_000 }, c.now);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const v = await anvil.authAllowed('192.0.2.1', `user${i}@example.com`);
      if (!v.allowed) throw new Error('refused too soon');
      delays.push(v.delayMs);
      await anvil.authDone('192.0.2.1', `user${i}@example.com`, 'failure');
    }
    expect(delays).toEqual([0, 250, 500]);
    expect(await anvil.authAllowed('192.0.2.1', 'other@example.com')).toEqual({
      allowed: false,
      reason: 'client',
    });
    expect((await anvil.authAllowed('192.0.2.2', 'other@example.com')).allowed).toBe(true);
    c.advance(60_000);
    expect(await anvil.authAllowed('192.0.2.1', 'other@example.com')).toEqual({
      allowed: true,
      delayMs: 0,
    });
  });

  it('a username past the limit: refused to addresses that failed, its owner from a clean address still checked', async () => {
    const anvil = new InProcessAnvil({ authFailureLimit: 3, maxConcurrentAuthPerClient: 0 });
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      expect((await anvil.authAllowed(ip, 'Alice@example.com')).allowed).toBe(true);
      await anvil.authDone(ip, 'Alice@example.com', 'failure');
    }
    expect(await anvil.authAllowed('192.0.2.1', 'alice@example.com')).toEqual({
      allowed: false,
      reason: 'user',
    });
    expect(await anvil.authAllowed('192.0.2.50', 'alice@example.com')).toEqual({
      allowed: true,
      delayMs: 0,
    });
    // Another username from a failed address is not refused for alice's sake.
    expect((await anvil.authAllowed('192.0.2.1', 'bob@example.com')).allowed).toBe(true);
  });

  it('caps AUTH exchanges in progress per address; authDone frees the slot; success forgets the address', async () => {
    const anvil = new InProcessAnvil({ maxConcurrentAuthPerClient: 2 });
    expect((await anvil.authAllowed('192.0.2.1', 'a')).allowed).toBe(true);
    expect((await anvil.authAllowed('192.0.2.1', 'b')).allowed).toBe(true);
    expect(await anvil.authAllowed('192.0.2.1', 'c')).toEqual({
      allowed: false,
      reason: 'concurrency',
    });
    expect((await anvil.authAllowed('192.0.2.2', 'c')).allowed).toBe(true);
    await anvil.authDone('192.0.2.1', 'a', 'failure');
    const next = await anvil.authAllowed('192.0.2.1', 'c');
    expect(next).toEqual({ allowed: true, delayMs: 0 + 250 });
    await anvil.authDone('192.0.2.1', 'b', 'success');
    await anvil.authDone('192.0.2.1', 'c', 'error');
    expect(await anvil.authAllowed('192.0.2.1', 'd')).toEqual({ allowed: true, delayMs: 0 });
  });

  it('everything it answers survives structured cloning (an Anvil in another process)', async () => {
    const anvil = new InProcessAnvil();
    const answers = [
      await anvil.connect('192.0.2.1'),
      await anvil.authAllowed('192.0.2.1', 'a'),
      await anvil.authDone('192.0.2.1', 'a', 'failure'),
      await anvil.disconnect('192.0.2.1'),
    ];
    expect(structuredClone(answers)).toEqual(answers);
  });
});
