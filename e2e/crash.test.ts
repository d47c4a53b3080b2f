/**
 * Crash consistency (a reliability battery: no acknowledged save or message is lost), with real processes and kill -9:
 *
 * - the console is killed during a stream of concurrent saves (routing
 *   versions and mailboxes). After it starts again, `PRAGMA integrity_check`
 *   is ok, and every save that got a 2xx is there, whole (its config, its
 *   comment, its audit entry);
 * - the SMTP node is killed during a stream of messages (local ones, and
 *   relayed ones for the smart host). After it starts again, every message
 *   that got `250` after DATA is in a Maildir or has reached the smart host.
 *   Duplicates are allowed only as at-least-once redelivery, and are counted.
 *
 * Only the contract is checked, never the node's own storage layout: local
 * messages are looked for in any Maildir (a directory with cur/new/tmp)
 * under the node's data directory.
 */

import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { battery } from '@ims/reliability';
import type { RoutingConfig } from '@ims/routing-core';
import { RawSmtp } from '@ims/smtp/testing';
import { until } from '@ims/test-support';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMail } from './smtp-wire';
import { ALICE, Stack } from './stack';

const record = battery({
  id: 'crash',
  title: 'Crash consistency: kill -9 the console and the SMTP node mid-stream',
  deliverable: 3,
  file: import.meta.filename,
});

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start();
}, 120_000);
afterAll(() => stack?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function integrity(dataDir: string): string {
  const db = new Database(join(dataDir, 'ims.db'));
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

describe('kill -9 the console during a stream of concurrent saves', () => {
  it('after a restart the database is whole and every acknowledged save is there', async () => {
    const cycles = 3;
    let acknowledgedVersions = 0;
    let acknowledgedMailboxes = 0;
    let acknowledgedTokens = 0;
    let unknownOutcome = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const versions: { version: number; marker: string }[] = [];
      const mailboxes: string[] = [];
      const tokens: string[] = [];
      let stopping = false;
      const saver = async (w: number) => {
        for (let i = 0; !stopping; i++) {
          const marker = `c${cycle}-w${w}-i${i}`;
          try {
            const current = await stack.api<{ config: RoutingConfig }>('GET', '/api/v1/routing');
            const config = current.body.config;
            config.routes.push({ sentTo: `${marker}.example`, routeTo: '<inbound>' });
            const res = await stack.api<{ version: number }>(
              'PUT',
              '/api/v1/routing',
              { config, comment: marker },
              { 'if-match': current.headers.get('etag') ?? '' },
            );
            if (res.status === 200) versions.push({ version: res.body.version, marker });
            else if (res.status !== 412) throw new Error(`PUT: ${res.status}`);
          } catch (err) {
            if (!stopping) throw err;
            unknownOutcome++;
            return;
          }
        }
      };
      const creator = async (w: number) => {
        for (let i = 0; !stopping; i++) {
          const address = `crash-c${cycle}-w${w}-i${i}@example.com`;
          try {
            const res = await stack.api('POST', '/api/v1/directory/mailboxes', {
              address,
              displayName: address,
              password: 'crash test password',
            });
            if (res.status === 201) mailboxes.push(address);
            else throw new Error(`POST mailbox: ${res.status}`);
          } catch (err) {
            if (!stopping) throw err;
            unknownOutcome++;
            return;
          }
        }
      };
      // Only a signed-in user mints tokens (the session survives the console's restarts).
      const admin = await stack.signIn();
      const tokenMaker = async (w: number) => {
        for (let i = 0; !stopping; i++) {
          const name = `crash-c${cycle}-w${w}-i${i}`;
          try {
            const res = await admin.raw('POST', '/api/v1/tokens', { name, scope: 'read' });
            if (res.status === 201) tokens.push(name);
            else throw new Error(`POST token: ${res.status}`);
          } catch (err) {
            if (!stopping) throw err;
            unknownOutcome++;
            return;
          }
        }
      };
      const workers = [0, 1, 2, 3]
        .map(saver)
        .concat([0, 1].map(creator))
        .concat([0].map(tokenMaker));
      const done = Promise.allSettled(workers);
      await until(
        async () =>
          versions.length >= 4 + cycle * 2 && mailboxes.length >= 2 && tokens.length >= 3
            ? true
            : undefined,
        60_000,
      );
      await sleep(cycle * 37);
      stopping = true;
      await stack.killConsole();
      const results = await done;
      // Only the kill may stop a worker; any other failure is a failure.
      for (const r of results) expect(r.status).toBe('fulfilled');
      await record.check(
        `console cycle ${cycle + 1}: PRAGMA integrity_check after kill -9`,
        () => expect(integrity(stack.consoleDataDir)).toBe('ok'),
        'console kill -9',
      );
      await stack.startConsole();
      for (const { version, marker } of versions) {
        await record.check(
          `console cycle ${cycle + 1}: version ${version} (${marker}) present and whole`,
          async () => {
            const v = await stack.api<{ comment?: string; config: RoutingConfig }>(
              'GET',
              `/api/v1/routing/versions/${version}`,
            );
            expect(v.status).toBe(200);
            expect(v.body.comment).toBe(marker);
            expect(v.body.config.routes).toContainEqual({
              sentTo: `${marker}.example`,
              routeTo: '<inbound>',
            });
          },
          'console kill -9',
        );
      }
      const audit = await stack.api<{ entries: { target?: string; action: string }[] }>(
        'GET',
        '/api/v1/audit?action=routing.saved&limit=500',
      );
      const audited = new Set(audit.body.entries.map((e) => e.target));
      for (const { version } of versions) {
        await record.check(
          `console cycle ${cycle + 1}: version ${version} has its audit entry`,
          () => expect(audited.has(`routing:v${version}`)).toBe(true),
          'console kill -9',
        );
      }
      const list = await stack.api<{ mailboxes: { address: string }[] }>(
        'GET',
        '/api/v1/directory/mailboxes',
      );
      const present = new Set(list.body.mailboxes.map((m) => m.address));
      for (const address of mailboxes) {
        await record.check(
          `console cycle ${cycle + 1}: mailbox ${address} present`,
          () => expect(present.has(address)).toBe(true),
          'console kill -9',
        );
      }
      const tokenList = await stack.api<{ tokens: { name: string }[] }>('GET', '/api/v1/tokens');
      const tokenNames = new Set(tokenList.body.tokens.map((t) => t.name));
      for (const name of tokens) {
        await record.check(
          `console cycle ${cycle + 1}: token ${name} present`,
          () => expect(tokenNames.has(name)).toBe(true),
          'console kill -9',
        );
      }
      acknowledgedTokens += tokens.length;
      // Every version in the history reads back as a whole document.
      const history = await stack.api<{ versions: { version: number }[] }>(
        'GET',
        '/api/v1/routing/versions?limit=500',
      );
      for (const { version } of history.body.versions) {
        const v = await stack.api('GET', `/api/v1/routing/versions/${version}`);
        expect(v.status).toBe(200);
      }
      acknowledgedVersions += versions.length;
      acknowledgedMailboxes += mailboxes.length;
    }
    record.note(
      `console: ${cycles} kill -9 cycles; ${acknowledgedVersions} acknowledged versions, ${acknowledgedMailboxes} mailboxes and ${acknowledgedTokens} API tokens all present; ${unknownOutcome} requests in flight at the kill (outcome unknown, either way allowed).`,
    );
    // The node re-attached to the console that came back.
    await stack.waitForRunning(1);
  }, 300_000);
});

/** Every message file in any Maildir (a directory with cur, new and tmp) under `dir`. */
function maildirMessages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    if (names.includes('new') && names.includes('cur') && names.includes('tmp')) {
      for (const sub of ['new', 'cur']) {
        for (const f of readdirSync(join(d, sub))) {
          try {
            out.push(readFileSync(join(d, sub, f), 'latin1'));
          } catch {
            // Moved from new to cur meanwhile: it is read from there.
          }
        }
      }
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        if (statSync(p).isDirectory()) walk(p);
      } catch {
        // Gone meanwhile.
      }
    }
  };
  walk(dir);
  return out;
}

/** Whether any journal segment under `dir` still holds a record (checkpointed segments are empty or gone). */
function journalRecordsLeft(dir: string): boolean {
  const walk = (d: string, inJournal: boolean): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return false;
    }
    return entries.some((e) => {
      const path = join(d, e.name);
      if (e.isDirectory()) return walk(path, inJournal || e.name === 'journal');
      if (!inJournal || !e.name.endsWith('.log')) return false;
      return (statSync(path, { throwIfNoEntry: false })?.size ?? 0) > 0;
    });
  };
  return walk(dir, false);
}

const tokenPattern = /X-Crash-Token: (\S+)/g;

function countTokens(texts: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of texts) {
    for (const m of t.matchAll(tokenPattern)) {
      const token = m[1] as string;
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
  }
  return counts;
}

// With one process, and with two SMTP workers (cluster): then one cycle
// kills a single worker (the node replaces it) and the next the whole node.
describe.each([1, 2])(
  'kill -9 the SMTP node during a stream of messages (%i workers)',
  (workers) => {
    it('every message that got 250 after DATA ends up in a Maildir or at the smart host', async () => {
      const cycles = 2;
      if (workers > 1) {
        // The stack started with one process: restart the node with its workers.
        await stack.killNode();
        stack.setNodeWorkers(workers);
        stack.startNode();
        await until(
          async () =>
            stack.nodeWorkerPids().length === (workers > 1 ? workers : 0) ? true : undefined,
          60_000,
          `the node's ${workers} workers`,
        );
        await until(
          async () => {
            const c = await RawSmtp.open(stack.smtpPort);
            try {
              return (await c.reply()).startsWith('220 ') ? true : undefined;
            } finally {
              c.close();
            }
          },
          60_000,
          'the node with workers to greet',
        );
      }
      let workerKills = 0;
      const local = new Set<string>();
      const relayed = new Set<string>();
      let unknownOutcome = 0;
      const running = (await stack.service()).nodes[0]?.runningVersion ?? 1;
      for (let cycle = 0; cycle < cycles; cycle++) {
        let stopping = false;
        let acked = 0;
        const sender = async (w: number) => {
          for (let i = 0; !stopping; i++) {
            const token = `n${workers}x${cycle}-w${w}-i${i}`;
            const toRelay = (w + i) % 2 === 1;
            try {
              const r = await sendMail({
                port: stack.smtpPort,
                ...(toRelay ? { auth: { user: ALICE.address, pass: ALICE.password } } : {}),
                from: toRelay ? ALICE.address : 'sender@remote.example',
                to: [toRelay ? 'friend@outside.example' : ALICE.address],
                body: `Subject: crash ${token}\r\nX-Crash-Token: ${token}\r\n\r\n${'line of text\r\n'.repeat(20 + (i % 50))}`,
              });
              if (r.data === '250 2.6.0 Message accepted') {
                (toRelay ? relayed : local).add(token);
                acked++;
              } else if (!stopping) {
                throw new Error(`unexpected replies: ${JSON.stringify(r)}`);
              }
            } catch (err) {
              if (!stopping) throw err;
              unknownOutcome++;
              return;
            }
          }
        };
        const failed: unknown[] = [];
        const done = Promise.allSettled(
          [0, 1, 2, 3, 4, 5].map((w) => sender(w).catch((err: unknown) => failed.push(err))),
        );
        await until(async () => {
          if (failed.length > 0) throw new Error(`a sender failed: ${String(failed[0])}`);
          return acked >= 30 ? true : undefined;
        }, 60_000);
        await sleep(cycle * 23);
        stopping = true;
        if (workers > 1 && cycle === 0) {
          // One worker: kill -9; the node lives on and replaces it.
          const [victim] = stack.nodeWorkerPids();
          if (victim === undefined) throw new Error('no worker to kill');
          process.kill(victim, 'SIGKILL');
          workerKills++;
          await done;
          expect(failed).toEqual([]);
          await until(
            async () =>
              stack.nodeWorkerPids().length === workers && !stack.nodeWorkerPids().includes(victim)
                ? true
                : undefined,
            60_000,
            'the killed worker to be replaced',
          );
          // The next cycle kills the whole node, which replays what its journals
          // still hold (at-least-once): first, this cycle's records are all
          // checkpointed away, so that its messages are judged on the worker's death alone.
          await until(
            async () => (journalRecordsLeft(stack.nodeDataDir) ? undefined : true),
            60_000,
            "the journals' checkpoint",
          );
          continue;
        }
        await stack.killNode();
        await done;
        expect(failed).toEqual([]);
        stack.startNode();
        // The console may still show the killed process for a while: wait for the new one's greeting too.
        await stack.waitForRunning(running);
        await until(
          async () => {
            const c = await RawSmtp.open(stack.smtpPort);
            try {
              return (await c.reply()).startsWith('220 ') ? true : undefined;
            } finally {
              c.close();
            }
          },
          60_000,
          'the restarted node to greet',
        );
      }
      // Everything acknowledged shows up: local mail in a Maildir, relayed mail at the smart host.
      let localCounts = new Map<string, number>();
      let relayCounts = new Map<string, number>();
      await until(
        async () => {
          localCounts = countTokens(maildirMessages(stack.nodeDataDir));
          relayCounts = countTokens(stack.sink.messages.map((m) => m.data.toString('latin1')));
          const missing =
            [...local].filter((t) => !localCounts.has(t)).length +
            [...relayed].filter((t) => !relayCounts.has(t)).length;
          return missing === 0 ? true : undefined;
        },
        60_000,
        'every acknowledged message to be delivered',
      ).catch(() => undefined);
      for (const token of local) {
        await record.check(
          `local message ${token} in a Maildir`,
          () => expect(localCounts.get(token) ?? 0, token).toBeGreaterThanOrEqual(1),
          `SMTP node kill -9 (${workers} workers)`,
        );
      }
      for (const token of relayed) {
        await record.check(
          `relayed message ${token} at the smart host`,
          () => expect(relayCounts.get(token) ?? 0, token).toBeGreaterThanOrEqual(1),
          `SMTP node kill -9 (${workers} workers)`,
        );
      }
      if (workerKills > 0) {
        // A worker's death is not a crash of the node: its journal is replayed
        // by the primary, whose queue runner knows what it delivered already,
        // so nothing acknowledged before it is delivered twice.
        const twice = [...localCounts, ...relayCounts]
          .filter(([token, n]) => n > 1 && token.startsWith(`n${workers}x0-`))
          .map(([token]) => token);
        await record.check(
          'messages acknowledged before one worker was killed: each delivered once',
          () => expect(twice).toEqual([]),
          `SMTP node kill -9 (${workers} workers)`,
        );
      }
      const duplicates =
        [...localCounts.values()].filter((n) => n > 1).length +
        [...relayCounts.values()].filter((n) => n > 1).length;
      record.note(
        `SMTP node, ${workers} worker(s): ${cycles} kill -9 cycles (${workerKills} of one worker); ${local.size} local and ${relayed.size} relayed messages acknowledged with 250, none lost; ${duplicates} delivered more than once (at-least-once redelivery); ${unknownOutcome} in flight at the kill (outcome unknown).`,
      );
    }, 300_000);
  },
);
