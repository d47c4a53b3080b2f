/**
 * A mixed fleet (issue 12): one console with the product's SMTP node and a
 * Postfix node attached at once. A save is pending on both, a restart
 * applies on both, and GET /api/v1/service lists both with their engine.
 */

import { until } from '@ims/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayAttempt } from './smtp-wire';
import { postfixAvailable, Stack } from './stack';

let stack: Stack;
let postfix: { name: string; port: number };

/** Each node's name → [engine, running version, online]. */
async function fleet() {
  const s = await stack.service();
  return {
    pendingRestart: s.pendingRestart,
    nodes: Object.fromEntries(
      s.nodes.map((n) => [n.name, [n.engine, n.runningVersion, n.online] as const]),
    ),
  };
}

describe.skipIf(!postfixAvailable())('a mixed fleet: apps/smtp and Postfix on one console', () => {
  beforeAll(async () => {
    stack = await Stack.start();
    postfix = await stack.addNode('pf-1', 'postfix');
    await until(
      async () => ((await fleet()).nodes['pf-1']?.[1] === 1 ? true : undefined),
      180_000,
      'the Postfix node to run version 1',
    );
  }, 300_000);
  afterAll(() => stack?.stop());

  it('a save is pending on both; a restart applies on both; /service lists both with their engine', async () => {
    expect(await fleet()).toEqual({
      pendingRestart: false,
      nodes: { e2e: ['ims', 1, true], 'pf-1': ['postfix', 1, true] },
    });
    const version = await stack.save((config) => {
      config.restrictions.clientAddresses = {
        enabled: true,
        entries: [{ ip: '127.0.0.0', mask: '255.0.0.0' }],
      };
    });
    expect(await fleet()).toEqual({
      pendingRestart: true,
      nodes: { e2e: ['ims', 1, true], 'pf-1': ['postfix', 1, true] },
    });
    expect((await stack.service()).restart.state).toBe('pending');
    // Saved, not applied: neither node lets a stranger relay yet.
    expect(await relayAttempt(stack.smtpPort)).toMatch(/^550 5\.7\.1 /);
    expect(await relayAttempt(postfix.port)).toMatch(/^550 5\.7\.1 /);

    await stack.client.service.restart();
    await until(
      async () => ((await stack.service()).restart.state === 'idle' ? true : undefined),
      180_000,
      'the restart to reach both nodes',
    );
    expect(await fleet()).toEqual({
      pendingRestart: false,
      nodes: { e2e: ['ims', version, true], 'pf-1': ['postfix', version, true] },
    });
    expect(await relayAttempt(stack.smtpPort)).toMatch(/^250 2\.1\.5 /);
    expect(await relayAttempt(postfix.port)).toMatch(/^250 2\.1\.5 /);
  });
});
