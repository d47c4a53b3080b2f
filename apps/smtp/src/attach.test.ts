// The SMTP node as the engine of its console link (attach.ts), against a
// stand-in console (@ims/node-link/testing; the link itself is tested in
// @ims/node-link): status carries the node's counters, a bundle that does
// not validate is not applied, and the console's requests are answered from
// the node's own queue.

import { ConsoleLink, type LinkOptions } from '@ims/node-link';
import { standInConsole, until } from '@ims/node-link/testing';
import { expect, it, onTestFinished } from 'vitest';
import { smtpEngine } from './attach';
import { bundle, startNode } from './testing/node-fixture';

/** A fresh node (version 1) linked to a stand-in console answering the bundle with `bundleBody`. */
async function attachedNode(bundleBody: () => unknown, link: Partial<LinkOptions> = {}) {
  const stand = await standInConsole(bundleBody);
  const { node, dataDir } = await startNode();
  const consoleLink = new ConsoleLink(smtpEngine(node), {
    consoleUrl: stand.url,
    token: 'imsn_test',
    dataDir,
    ...link,
  });
  void consoleLink.run();
  onTestFinished(() => consoleLink.stop());
  await until(() => stand.streams.length > 0);
  return { node, dataDir, ...stand };
}

it('status carries the counters and engine "ims", reported while attached', async () => {
  const { reports } = await attachedNode(() => bundle(1), { statusIntervalMs: 100 });
  await until(() => reports.length >= 2);
  expect(reports.at(-1)).toMatchObject({
    runningVersion: 1,
    state: 'running',
    counters: { queueMessages: 0, sessions: 0 },
    engine: 'ims',
  });
});

it('a restart onto a bundle that does not validate keeps the old version and reports the error', async () => {
  // Version 2 names a site domain that is no domain at all.
  const broken = () => {
    const b = bundle(2);
    b.config = { ...b.config, siteDomain: 'not a domain' };
    return b;
  };
  const { node, reports, streams } = await attachedNode(broken);
  streams[0]?.write('event: restart\ndata: {"version":2}\n\n');
  await until(() => reports.some((r) => r.state === 'error'));
  expect(reports.find((r) => r.state === 'error')).toMatchObject({
    runningVersion: 1,
    lastError: expect.stringMatching(/Version 2 is not a valid configuration/),
  });
  expect(node.runningVersion).toBe(1);
});

it('a restart onto a valid version: loaded, and reported running', async () => {
  let version = 1;
  const { node, reports, streams } = await attachedNode(() => bundle(version));
  version = 2;
  streams[0]?.write('event: restart\ndata: {"version":2}\n\n');
  await until(() => reports.some((r) => r.runningVersion === 2));
  expect(node.runningVersion).toBe(2);
  expect(reports.at(-1)).toMatchObject({ runningVersion: 2, state: 'running' });
});

it("answers the console's requests from the node's queue", async () => {
  const { answers, streams } = await attachedNode(() => bundle(1));
  const ask = (id: string, method: string, params: object) =>
    streams[0]?.write(`event: request\ndata: ${JSON.stringify({ id, method, params })}\n\n`);
  ask('r-1', 'queue.list', {});
  ask('r-2', 'queue.retry', { id: 'nope' });
  ask('r-3', 'queue.delete', {});
  ask('r-4', 'traffic.records', { limit: 0 });
  await until(() => answers.length === 4);
  expect(answers.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
    { id: 'r-1', body: { ok: true, result: { messages: [] } } },
    {
      id: 'r-2',
      body: {
        ok: false,
        error: { code: 'not-found', message: 'There is no message nope in the queue.' },
      },
    },
    {
      id: 'r-3',
      body: { ok: false, error: { code: 'bad-request', message: 'params.id is required.' } },
    },
    {
      id: 'r-4',
      body: {
        ok: false,
        error: {
          code: 'bad-request',
          message: expect.stringMatching(/^params\.after must be a cursor and params\.limit 1-/),
        },
      },
    },
  ]);
});
