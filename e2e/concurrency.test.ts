/**
 * Concurrency (a reliability battery: two writers, or a writer and a restart, never lose or mix a change), with the console and an SMTP node
 * as real processes over real HTTP and SMTP:
 *
 * - parallel PUTs with the same ETag: exactly one wins, the rest get 412;
 * - restarts requested in a burst coalesce into one signal and one reload;
 * - a node that is offline during a restart applies it when it re-attaches;
 * - with the console down (kill -9), the node keeps serving its last
 *   configuration, and re-attaches when the console is back;
 * - and, at the end, the logs of every console (at trace level) and node
 *   process hold no password, token, cookie or AUTH string (the API abuse battery's
 *   log scan, at the process level).
 */

import { createApiClient } from '@ims/api-client';
import { battery } from '@ims/reliability';
import type { RoutingConfig } from '@ims/routing-core';
import { RawSmtp } from '@ims/smtp/testing';
import { until } from '@ims/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayAttempt, sendMail } from './smtp-wire';
import { ALICE, Stack } from './stack';

const record = battery({
  id: 'concurrency',
  title: 'Concurrency: racing saves, restart bursts, offline nodes, console down',
  deliverable: 4,
  file: import.meta.filename,
});

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ consoleLogLevel: 'trace' });
}, 120_000);
afterAll(() => stack?.stop());

async function greets(port: number): Promise<true | undefined> {
  const c = await RawSmtp.open(port);
  try {
    return (await c.reply()).startsWith('220 ') ? true : undefined;
  } finally {
    c.close();
  }
}

describe('concurrency', () => {
  it('parallel PUTs with the same ETag: exactly one wins, the rest get 412', async () => {
    for (let round = 0; round < 3; round++) {
      await record.check(
        `20 parallel PUTs, round ${round + 1}`,
        async () => {
          const current = await stack.api<{ config: RoutingConfig; version: number }>(
            'GET',
            '/api/v1/routing',
          );
          const etag = current.headers.get('etag') ?? '';
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) => {
              const config = structuredClone(current.body.config);
              config.routes.push({ sentTo: `race-${round}-${i}.example`, routeTo: '<inbound>' });
              return stack.api<{ version: number; type?: string }>(
                'PUT',
                '/api/v1/routing',
                { config, comment: `race ${round} ${i}` },
                { 'if-match': etag },
              );
            }),
          );
          const won = results.filter((r) => r.status === 200);
          expect(won).toHaveLength(1);
          expect(results.filter((r) => r.status === 412)).toHaveLength(19);
          for (const r of results.filter((x) => x.status === 412))
            expect(r.body.type).toBe('/problems/precondition-failed');
          const after = await stack.api<{ version: number; comment?: string }>(
            'GET',
            '/api/v1/routing',
          );
          expect(after.body.version).toBe(current.body.version + 1);
          expect(won[0]?.body.version).toBe(after.body.version);
        },
        'racing saves',
      );
    }
  });

  it('If-Match naming several ETags: saved when one is current (RFC 9110 §13.1.1), 412 when none is', async () => {
    await record.check(
      'If-Match lists',
      async () => {
        const current = await stack.api<{ config: RoutingConfig; version: number }>(
          'GET',
          '/api/v1/routing',
        );
        const v = current.body.version;
        const stale = await stack.api<{ type: string }>(
          'PUT',
          '/api/v1/routing',
          { config: current.body.config },
          { 'if-match': `"v${v - 1}", "v${v + 7}"` },
        );
        expect(stale.status).toBe(412);
        const listed = await stack.api<{ version: number }>(
          'PUT',
          '/api/v1/routing',
          { config: current.body.config, comment: 'if-match list' },
          { 'if-match': `"v${v - 1}", "v${v}"` },
        );
        expect(listed.status).toBe(200);
        expect(listed.body.version).toBe(v + 1);
      },
      'racing saves',
    );
  });

  it('restarts requested in a burst coalesce into one signal and one reload', async () => {
    await record.check(
      '10 parallel restarts',
      async () => {
        const version = await stack.save((c) => {
          c.routes.push({ sentTo: 'burst.example', routeTo: '<inbound>' });
        });
        const before = (
          await stack.api<{ entries: unknown[] }>(
            'GET',
            '/api/v1/audit?action=service.restart&limit=500',
          )
        ).body.entries.length;
        const results = await Promise.all(
          Array.from({ length: 10 }, () =>
            stack.api<{ version: number; coalesced: boolean }>('POST', '/api/v1/service/restart'),
          ),
        );
        for (const r of results) {
          expect(r.status).toBe(202);
          expect(r.body.version).toBe(version);
        }
        expect(results.filter((r) => !r.body.coalesced)).toHaveLength(1);
        await stack.waitForRunning(version);
        const after = (
          await stack.api<{ entries: unknown[] }>(
            'GET',
            '/api/v1/audit?action=service.restart&limit=500',
          )
        ).body.entries.length;
        expect(after - before).toBe(1);
        // The node reloaded onto this version once.
        await until(async () =>
          stack.nodeOutput().includes(`"event":"restarted","version":${version}`)
            ? true
            : undefined,
        );
        const reloads = stack
          .nodeOutput()
          .split('\n')
          .filter((l) => l.includes(`"event":"restarted","version":${version}`));
        expect(reloads).toHaveLength(1);
      },
      'restart burst',
    );
  });

  it('a burst of SIGHUPs to the node coalesces into at most two reloads', async () => {
    await record.check(
      '10 SIGHUPs at once',
      async () => {
        const reloads = () =>
          stack
            .nodeOutput()
            .split('\n')
            // A reload onto the running version changes no generation: `reloaded`, not `restarted`.
            .filter((l) => l.includes('"event":"restarted"') || l.includes('"event":"reloaded"'))
            .length;
        const before = reloads();
        for (let i = 0; i < 10; i++) stack.signalNode('SIGHUP');
        await until(async () => (reloads() > before ? true : undefined));
        // One reload runs; the signals that came in meanwhile make at most one more.
        await new Promise((r) => setTimeout(r, 1000));
        expect(reloads() - before).toBeGreaterThanOrEqual(1);
        expect(reloads() - before).toBeLessThanOrEqual(2);
        expect(await greets(stack.smtpPort)).toBe(true);
      },
      'restart burst',
    );
  });

  it('a burst of save + restart pairs ends with the node on the last version', async () => {
    await record.check(
      '5 save + restart pairs without waiting',
      async () => {
        let last = 0;
        const answers: Promise<{ status: number }>[] = [];
        for (let i = 0; i < 5; i++) {
          last = await stack.save((c) => {
            c.routes.push({ sentTo: `pair-${i}.example`, routeTo: '<inbound>' });
          });
          answers.push(stack.api('POST', '/api/v1/service/restart'));
        }
        for (const a of await Promise.all(answers)) expect(a.status).toBe(202);
        await stack.waitForRunning(last);
        const service = await stack.service();
        expect(service.pendingRestart).toBe(false);
        expect(service.nodes[0]?.state).toBe('running');
      },
      'restart burst',
    );
  });

  it('a node whose event stream is down during a restart (console restarted) applies it on re-attach', async () => {
    await record.check(
      'restart while the node is re-attaching',
      async () => {
        await stack.killConsole();
        await stack.startConsole();
        // Straight away, before the node's backoff has brought its event stream back.
        const version = await stack.save((c) => {
          c.routes.push({ sentTo: 'reattach.example', routeTo: '<inbound>' });
        });
        expect((await stack.api('POST', '/api/v1/service/restart')).status).toBe(202);
        await stack.waitForRunning(version);
      },
      'offline node',
    );
  });

  it('a node offline during a restart applies it when it re-attaches', async () => {
    await record.check(
      'offline node applies the restart on re-attach',
      async () => {
        expect(await relayAttempt(stack.smtpPort)).toBe('550 5.7.1 Relaying is prohibited');
        const running = (await stack.service()).nodes[0]?.runningVersion;
        await stack.killNode();
        const version = await stack.save((c) => {
          c.restrictions.clientAddresses = {
            enabled: true,
            entries: [{ ip: '127.0.0.0', mask: '255.0.0.0' }],
          };
        });
        const restart = await stack.api<{ version: number }>('POST', '/api/v1/service/restart');
        expect(restart.status).toBe(202);
        expect(restart.body.version).toBe(version);
        expect(version).toBeGreaterThan(running ?? 0);
        stack.startNode();
        await stack.waitForRunning(version);
        await until(() => greets(stack.smtpPort), 60_000, 'the node to greet');
        expect(await relayAttempt(stack.smtpPort)).toMatch(/^250 2\.1\.5 /);
        expect((await stack.service()).pendingRestart).toBe(false);
      },
      'offline node',
    );
  });

  it('console down (kill -9): the node keeps serving its last configuration, then re-attaches', async () => {
    const version = (await stack.service()).nodes[0]?.runningVersion ?? 0;
    await stack.killConsole();
    const checks: [string, () => Promise<void>][] = [
      [
        'relay per the last configuration',
        async () => expect(await relayAttempt(stack.smtpPort)).toMatch(/^250 2\.1\.5 /),
      ],
      [
        'unknown local recipient still refused',
        async () =>
          expect(await relayAttempt(stack.smtpPort, 'nobody@example.com')).toMatch(/^550 5\.1\.1 /),
      ],
      [
        'local mail still accepted',
        async () => {
          const r = await sendMail({
            port: stack.smtpPort,
            from: 'someone@remote.example',
            to: [ALICE.address],
          });
          expect(r.data).toBe('250 2.6.0 Message accepted');
        },
      ],
      [
        'AUTH still works (directory kept)',
        async () => {
          const r = await sendMail({
            port: stack.smtpPort,
            auth: { user: ALICE.address, pass: ALICE.password },
            from: ALICE.address,
            to: ['friend@outside.example'],
          });
          expect(r.data).toBe('250 2.6.0 Message accepted');
        },
      ],
    ];
    checks.push([
      'the node, killed and started again while the console is down, serves its cached configuration',
      async () => {
        await stack.killNode();
        stack.startNode();
        await until(() => greets(stack.smtpPort), 60_000, 'the node to greet');
        expect(await relayAttempt(stack.smtpPort)).toMatch(/^250 2\.1\.5 /);
        expect(await relayAttempt(stack.smtpPort, 'nobody@example.com')).toMatch(/^550 5\.1\.1 /);
      },
    ]);
    for (const [name, fn] of checks)
      await record.check(`console down: ${name}`, fn, 'console down');
    await stack.startConsole();
    await record.check(
      'console back: the node re-attaches and reports its version',
      () => stack.waitForRunning(version),
      'console down',
    );
  });

  it('no password, token, cookie or AUTH string is in any process log', async () => {
    // A browser session and a failed sign-in, so there is a cookie and a wrong password to look for.
    const anonymous = createApiClient({ baseUrl: stack.url });
    const session = await anonymous.login('admin', stack.adminPassword);
    const cookie = session.cookie?.split('=')[1] ?? '';
    const { csrfToken } = session;
    await anonymous.raw('GET', '/api/v1/routing', undefined, {
      cookie: `ims_session=${cookie}`,
      'x-csrf-token': csrfToken,
    });
    await anonymous.login('admin', 'a wrong e2e password').catch(() => undefined);
    const c = await RawSmtp.open(stack.smtpPort);
    await c.reply();
    await c.cmd('EHLO log.example');
    const badAuth = Buffer.from(`\0${ALICE.address}\0not alice's password`).toString('base64');
    await c.cmd(`AUTH PLAIN ${badAuth}`);
    c.close();
    const goodAuth = Buffer.from(`\0${ALICE.address}\0${ALICE.password}`).toString('base64');
    const logs = stack.consoleOutput() + stack.nodeOutput();
    expect(logs.split('\n').length).toBeGreaterThan(50);
    const secrets: [string, string][] = [
      ['admin password', stack.adminPassword],
      ['wrong password', 'a wrong e2e password'],
      ['API token', stack.token],
      ['session cookie', cookie],
      ['CSRF token', csrfToken],
      ["Alice's password", ALICE.password],
      ['AUTH PLAIN (right)', goodAuth],
      ['AUTH PLAIN (wrong)', badAuth],
      ['wrong SMTP password', "not alice's password"],
    ];
    for (const [name, secret] of secrets) {
      await record.check(
        `no ${name} in the process logs`,
        () => {
          expect(secret.length).toBeGreaterThan(6);
          expect(logs.includes(secret), name).toBe(false);
        },
        'process log scan',
      );
    }
    record.note(
      `process log scan: ${logs.split('\n').length} log lines from the console (trace level) and node processes.`,
    );
  });
});
