/**
 * `ims` as a subprocess against a real console and a real SMTP node (processes
 * on ephemeral ports with temp data dirs): every command, its output, its
 * exit code, and what it does to real SMTP traffic.
 */

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createApiClient, type NodeStatusBody } from '@ims/api-client';
import type { RoutingConfig } from '@ims/routing-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, freePort, ims, ROOT, startProcess, tempDir, until } from './testing/processes';

const PASSWORD = 'cli test admin password';
const children: Child[] = [];
const dirs: { remove: () => void }[] = [];
let url: string;
let home: string;
/** The environment of every `ims` run: its own config directory, no IMS_TOKEN. */
let env: Record<string, string>;

const temp = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};

const run = (args: string[], input?: string, extra: Record<string, string> = {}) =>
  ims(args, { ...env, ...extra }, input);

async function json<T>(args: string[]): Promise<T> {
  const r = await run([...args, '--json']);
  if (r.code !== 0) throw new Error(`ims ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  const httpPort = await freePort();
  const smtpPort = await freePort();
  url = `http://127.0.0.1:${httpPort}`;
  const server = startProcess(join(ROOT, 'apps/server'), 'src/server.ts', {
    IMS_HTTP_PORT: String(httpPort),
    IMS_DATA_DIR: temp(),
    IMS_ADMIN_PASSWORD: PASSWORD,
  });
  children.push(server);
  await until(
    async () => ((await createApiClient({ baseUrl: url }).health()) ? true : undefined),
    // The first start hashes two passwords at OWASP's scrypt cost (0.3 s each, far more on a loaded machine).
    180_000,
    'console',
  );
  home = temp();
  env = { HOME: home, XDG_CONFIG_HOME: join(home, 'xdg'), IMS_URL: url };

  // The node is registered through the CLI too.
  const login = await run(['login', '--username', 'admin', '--password-stdin'], `${PASSWORD}\n`);
  expect(login.stderr).toBe('');
  expect(login.code).toBe(0);
  // A node token is minted only by a signed-in user: the password, again.
  const registered = await run(
    ['node', 'register', 'local', '--password-stdin', '--json'],
    `${PASSWORD}\n`,
  );
  expect(registered.stderr).toBe('');
  const node = JSON.parse(registered.stdout) as { token: string };
  children.push(
    startProcess(join(ROOT, 'apps/smtp'), 'src/main.ts', {
      IMS_CONSOLE_URL: url,
      IMS_NODE_TOKEN: node.token,
      IMS_SMTP_PORT: String(smtpPort),
      IMS_DATA_DIR: temp(),
    }),
  );
  await until(
    async () => {
      const s = await json<{ nodes: { online: boolean; runningVersion: number | null }[] }>([
        'status',
      ]);
      return s.nodes[0]?.online && s.nodes[0].runningVersion === 1 ? true : undefined;
    },
    60_000,
    'the node to attach',
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) d.remove();
});

describe('ims against a real console and SMTP node', () => {
  it('login stores a token 0600 under XDG_CONFIG_HOME, and uses it', async () => {
    const file = join(home, 'xdg', 'ims', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'xdg', 'ims')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { url: string; token: string };
    expect(stored.url).toBe(url);
    expect(stored.token).toMatch(/^ims_/);
    const who = await run(['whoami']);
    expect(who.code).toBe(0);
    expect(who.stdout).toContain('token:ims-cli-');

    // A wrong password: the auth exit code, and nothing stored changes.
    const bad = await run(['login', '--password-stdin'], 'wrong password', {
      XDG_CONFIG_HOME: join(home, 'other'),
    });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain('Wrong user name or password');
  });

  it('status and routing get, for people and for scripts', async () => {
    const status = await run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Saved version 1');
    expect(status.stdout).toMatch(/local\s+running\s+yes\s+v1/);

    const human = await run(['routing', 'get']);
    expect(human.stdout).toContain('Site domain:   example.com');
    expect(human.stdout).toContain('[x] Hosts and clients that successfully authenticate');
    const state = await json<{ version: number; config: { siteDomain: string } }>([
      'routing',
      'get',
    ]);
    expect(state).toMatchObject({ version: 1, config: { siteDomain: 'example.com' } });
  });

  it('relay-test: the defaults are closed from any loopback source', async () => {
    const r = await run(['relay-test', '--from', '127.0.0.2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pass\s+plain-outside\s+.*550 5\.7\.1 Relaying is prohibited/);
    expect(r.stdout).toMatch(/All \d+ cases passed/);
    const bad = await run(['relay-test', '--from', '192.0.2.1']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('loopback');
  });

  it('restrict, restart --wait, and relay-test see the change on the wire', async () => {
    expect((await run(['restrict', 'clients', 'add', '127.0.0.2'])).code).toBe(0);
    const on = await run(['restrict', 'clients', 'on']);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('Saved version 3');
    expect(on.stdout).toContain('ims restart --wait');
    const again = await run(['restrict', 'clients', 'add', '127.0.0.2/32']);
    expect(again.code).toBe(4);

    // Saved, not applied: still closed.
    expect((await run(['relay-test', '--from', '127.0.0.2'])).code).toBe(0);
    const restart = await run(['restart', '--wait']);
    expect(restart.stderr).toContain('Restarting to version 3');
    expect(restart.stdout).toContain('Every online node runs version 3');
    expect(restart.code).toBe(0);

    // 127.0.0.2 may relay now: its relays are as configured, and the test says so first.
    const allowed = await run(['relay-test', '--from', '127.0.0.2', '--json']);
    expect(allowed.code).toBe(0);
    const result = JSON.parse(allowed.stdout) as {
      passed: boolean;
      sourceMayRelay?: string;
      cases: { id: string; passed: boolean; relayed: boolean; reply: string }[];
    };
    expect(result.passed).toBe(true);
    expect(result.sourceMayRelay).toMatch(/^127\.0\.0\.2 may relay by the running configuration/);
    expect(result.cases.find((c) => c.id === 'plain-outside')).toMatchObject({
      passed: true,
      relayed: true,
      reply: expect.stringMatching(/^250 2\.1\.5 /),
    });
    const text = await run(['relay-test', '--from', '127.0.0.2']);
    expect(text.stdout.split('\n')[0]).toMatch(/^Note: 127\.0\.0\.2 may relay/);
    expect(text.stdout).toMatch(/cases relayed: .*\(the source address may relay\)/);
    expect(text.stdout).toMatch(/^allowed\s+plain-outside\s/m);
    expect((await run(['relay-test', '--from', '127.0.0.3'])).code).toBe(0);
  });

  it('routing mode: a critical finding needs --ack (exit 3), and the NDR relay shows', async () => {
    expect((await run(['restrict', 'reject-unknown', 'off'])).code).toBe(0);
    const refused = await run(['routing', 'mode', 'no-reroute']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('--ack ndr-relay');
    const scripted = await run(['routing', 'mode', 'no-reroute', '--json']);
    expect(scripted.code).toBe(3);
    expect(JSON.parse(scripted.stderr).error.type).toBe('/problems/unacknowledged-findings');

    const saved = await run(['routing', 'mode', 'no-reroute', '--ack', 'ndr-relay']);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain('Saved version 5: mode no-reroute');
    expect((await run(['restart', '--wait'])).code).toBe(0);
    const ndr = await run(['relay-test', '--from', '127.0.0.3']);
    expect(ndr.code).toBe(1);
    expect(ndr.stdout).toMatch(/FAIL\s+ndr-relay\s+<victim@ndr-victim\.invalid>.*250 2\.1\.5/);
  });

  it('history, restore and audit', async () => {
    const history = await run(['history']);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/v5\s+\S+\s+token:ims-cli-\S+\s+mode no-reroute/);
    const restored = await run(['restore', '3', '--comment', 'back to the open rules']);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('Saved version 6: restored version 3');
    expect((await run(['history', '--limit', '1'])).stdout).toMatch(
      /v6\s+\S+\s+token:ims-cli-\S+\s+back to the open rules/,
    );
    expect((await run(['restart', '--wait'])).code).toBe(0);
    expect((await run(['relay-test', '--from', '127.0.0.3'])).code).toBe(0);
    const audit = await json<{ entries: { action: string }[] }>([
      'audit',
      '--action',
      'service.relay-test',
      '--limit',
      '3',
    ]);
    expect(audit.entries).toHaveLength(3);
    expect((await run(['audit', '--limit', '5'])).stdout).toMatch(/service\.relay-test/);
    // The summary the console writes, and the person behind the CLI's token.
    const saves = await run(['audit', '--action', 'routing.', '--limit', '2']);
    expect(saves.code).toBe(0);
    expect(saves.stdout).toMatch(/^ID\s+AT\s+BY\s+FROM\s+ACTION\s+SUMMARY$/m);
    expect(saves.stdout).toMatch(
      /admin via token ims-cli-\S+\s+\S+\s+routing\.restored\s+Saved version 6 \(version 3 restored\): /,
    );
    expect(saves.stdout).toMatch(/routing\.saved\s+Saved version 5: "Do not reroute/);
    const quiet = await json<{ entries: { action: string }[] }>([
      'audit',
      '--no-sign-ins',
      '--limit',
      '500',
    ]);
    expect(quiet.entries.some((e) => e.action === 'login')).toBe(false);
    expect(quiet.entries.some((e) => e.action === 'routing.saved')).toBe(true);
    expect((await run(['restore', '99'])).code).toBe(7);
  });

  it('routes, advise and evaluate', async () => {
    const add = await run(['route', 'add', 'partner.example', 'mail.partner.example:2525']);
    expect(add.code).toBe(0);
    // A domain the table has already is refused, as the web's Add dialog refuses it.
    const again = await run(['route', 'add', 'Partner.Example.', 'mx2.partner.example']);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain(
      'The routing table already has an entry for partner.example (→ mail.partner.example:2525). Add --replace to route it to mx2.partner.example instead.',
    );
    expect((await run(['route', 'list'])).stdout).toMatch(
      /partner\.example\s+mail\.partner\.example:2525/,
    );
    const replaced = await run([
      'route',
      'add',
      'partner.example',
      'mx2.partner.example',
      '--replace',
    ]);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('route partner.example → mx2.partner.example replaced');
    const list = await run(['route', 'list']);
    expect(list.stdout).toMatch(/partner\.example\s+mx2\.partner\.example/);
    expect(list.stdout).not.toContain('mail.partner.example:2525');
    expect((await run(['route', 'remove', 'nowhere.example'])).code).toBe(7);
    const removed = await run(['route', 'remove', 'partner.example']);
    expect(removed.code).toBe(0);

    const advice = await json<{ findings: { id: string }[] }>(['advise']);
    const saved = await json<{ findings: { id: string }[] }>(['routing', 'get']);
    expect(advice.findings).toEqual(saved.findings);
    const draft = join(temp(), 'draft.json');
    const state = await json<{
      config: Record<string, unknown> & { restrictions: Record<string, unknown> };
    }>(['routing', 'get']);
    writeFileSync(
      draft,
      JSON.stringify({
        ...state.config,
        restrictions: {
          ...state.config.restrictions,
          authenticated: false,
          clientAddresses: { enabled: false, entries: [] },
        },
      }),
    );
    const draftAdvice = await json<{ findings: { id: string }[] }>(['advise', '--file', draft]);
    expect(draftAdvice.findings.map((f) => f.id)).toContain('open-relay');

    const ev = await run([
      'evaluate',
      '--rcpt',
      'victim@elsewhere.example',
      '--client',
      '203.0.113.9',
    ]);
    expect(ev.code).toBe(0);
    expect(ev.stdout.split('\n')[0]).toBe('550 5.7.1 Relaying is prohibited');
    const evDraft = await json<{ reply: { line: string } }>([
      'evaluate',
      '--rcpt',
      'victim@elsewhere.example',
      '--file',
      draft,
    ]);
    expect(evDraft.reply.line).toMatch(/^250 2\.1\.5/);
    expect((await run(['evaluate'])).code).toBe(2);
  });

  it('routing set: a stale file is a conflict naming who saved what; invalid input exit 3', async () => {
    const dir = temp();
    const file = join(dir, 'routing.json');
    const got = await run(['routing', 'get', '--json']);
    writeFileSync(file, got.stdout);
    // Someone else saves in between.
    expect((await run(['restrict', 'never', 'add', '10.9.9.9'])).code).toBe(0);
    const stale = await run(['routing', 'set', '--file', file]);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toMatch(/Conflict: version \d+ was saved by token:ims-cli-\S+ at /);
    // --force: based on the current version (undoes the never-route entry).
    const forced = await run(['routing', 'set', '--file', file, '--force', '--comment', 'back']);
    expect(forced.code).toBe(0);

    const doc = JSON.parse(got.stdout) as { config: { routes: unknown[] } };
    doc.config.routes = [{ sentTo: 'bad..domain', routeTo: '<inbound>' }];
    writeFileSync(file, JSON.stringify(doc.config));
    const invalid = await run(['routing', 'set', '--file', file]);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain('/config/routes/0/sentTo');
    writeFileSync(file, '{ not json');
    expect((await run(['routing', 'set', '--file', file])).code).toBe(3);
    expect((await run(['routing', 'set'])).code).toBe(2);
  });

  it('restart --wait exits 1 with the error of a node that cannot apply the version', async () => {
    // A second node, played by the test through the node API.
    // Only a signed-in user registers nodes: the CLI signs in with the password.
    const registered = await run(
      ['node', 'register', 'fake', '--password-stdin', '--json'],
      `${PASSWORD}\n`,
    );
    expect(registered.code, registered.stderr).toBe(0);
    const fake = JSON.parse(registered.stdout) as { id: number; token: string };
    const fakeNode = createApiClient({ baseUrl: url, token: fake.token });
    const report = (body: Pick<NodeStatusBody, 'runningVersion' | 'state' | 'lastError'>) =>
      fakeNode.call('nodeStatus', {
        body: { listen: [], startedAt: new Date().toISOString(), counters: {}, ...body },
      });
    const before = await json<{ savedVersion: number }>(['status']);
    expect((await report({ runningVersion: before.savedVersion, state: 'running' })).status).toBe(
      204,
    );
    // Like a real node, it reports every few seconds, so the console keeps it
    // online however slowly the CLI starts (a node silent for 15 s is offline).
    let beating = true;
    const heartbeat = (async () => {
      while (beating) {
        await new Promise((r) => setTimeout(r, 2000));
        if (beating) await report({ runningVersion: before.savedVersion, state: 'running' });
      }
    })();
    const add = await run(['restrict', 'internal', 'add', '127.0.0.1']);
    expect(add.code).toBe(0);
    const waiting = run(['restart', '--wait', '--timeout', '30']);
    // The error must come after the restart (the CLI reads the nodes' state before it asks
    // for one): wait until the console has been asked for the new version.
    await until(
      async () =>
        (await json<{ targetVersion: number }>(['status'])).targetVersion ===
        before.savedVersion + 1
          ? true
          : undefined,
      30_000,
      'the restart request',
    );
    beating = false;
    await heartbeat;
    await report({
      runningVersion: before.savedVersion,
      state: 'error',
      lastError: 'bundle rejected: test',
    });
    const r = await waiting;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Node fake could not apply version ${before.savedVersion + 1} and keeps running v${before.savedVersion}: bundle rejected: test`,
    );
    expect((await run(['node', 'remove', String(fake.id)])).code).toBe(0);
    expect((await run(['restrict', 'internal', 'remove', '127.0.0.1/32'])).code).toBe(0);
  });

  it('queue: a message for an unreachable route is listed, retried and deleted; status counts it', async () => {
    // A route to a closed loopback port, and relaying allowed from 127.0.0.2.
    const closed = await freePort();
    await run(['routing', 'mode', 'reroute']);
    await run(['restrict', 'clients', 'add', '127.0.0.2']);
    await run(['restrict', 'clients', 'on']);
    expect((await run(['route', 'add', 'stuck.example', `127.0.0.1:${closed}`])).code).toBe(0);
    await run(['restart']);
    type Status = {
      savedVersion: number;
      nodes: { name: string; runningVersion: number | null; listen: string[] }[];
    };
    const local = await until(
      async () => {
        const s = await json<Status>(['status']);
        const n = s.nodes.find((x) => x.name === 'local');
        return n?.runningVersion === s.savedVersion ? n : undefined;
      },
      30_000,
      'the local node to run the route',
    );
    const smtp = Number(local.listen[0]?.split(':').at(-1));
    await sendFrom127002(smtp, 'sender@example.com', 'someone@stuck.example');

    type Queue = {
      nodes: {
        name: string;
        messages: { id: string; attempts: number; lastError: string | null }[];
      }[];
    };
    const first = await until(
      async () => {
        const q = await json<Queue>(['queue']);
        const m = q.nodes.find((n) => n.name === 'local')?.messages[0];
        return m && m.attempts >= 1 ? { q, m } : undefined;
      },
      30_000,
      'the message to be deferred',
    );
    expect(first.m.lastError).toMatch(/ECONNREFUSED|refused/i);
    const list = await run(['queue', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      /^NODE\s+ID\s+FROM\s+RECIPIENTS\s+SIZE\s+QUEUED\s+ATTEMPTS\s+NEXT ATTEMPT\s+LAST ERROR/,
    );
    expect(list.stdout).toContain(
      `local  ${first.m.id}  sender@example.com  someone@stuck.example`,
    );
    expect(list.stdout).toContain('1 queued message on 1 online node.');
    // Plain status shows the queue and deferred counts of each node (its counters, reported every few seconds).
    await until(
      async () =>
        (await run(['status'])).stdout.match(/local\s+running\s+yes\s+v\d+\s+1\s+1\s/)
          ? true
          : undefined,
      30_000,
      'status to count the queued message',
    );

    const retry = await run(['queue', 'retry', 'local', first.m.id]);
    expect(retry.stdout).toBe(`Retrying ${first.m.id} on local now.\n`);
    expect(retry.code).toBe(0);
    await until(
      async () =>
        ((await json<Queue>(['queue'])).nodes[0]?.messages[0]?.attempts ?? 0) > first.m.attempts
          ? true
          : undefined,
      30_000,
      'attempts to grow',
    );
    expect((await run(['queue', 'retry', 'local', 'no-such-message'])).code).toBe(7);
    expect((await run(['queue', 'retry', 'nowhere', first.m.id])).code).toBe(7);
    expect((await run(['queue', 'retry', 'local'])).code).toBe(2);
    expect((await run(['queue', 'flush'])).code).toBe(2);

    const del = await json<{ deleted: boolean; ndr: boolean }>([
      'queue',
      'delete',
      'local',
      first.m.id,
      '--ndr',
    ]);
    expect(del).toEqual({ node: 'local', id: first.m.id, deleted: true, ndr: true });
    expect((await run(['queue'])).stdout).toBe('No message is queued (1 online node).\n');
    const audit = await json<{ entries: { action: string; details: unknown }[] }>(['audit']);
    expect(audit.entries.slice(0, 2).map((e) => e.action)).toEqual([
      'queue.deleted',
      'queue.retried',
    ]);
    expect((await run(['route', 'remove', 'stuck.example'])).code).toBe(0);
  });

  it('exit codes: usage, auth, network; help has examples', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['status', '--bogus'])).code).toBe(2);
    const wrongToken = await run(['status'], undefined, { IMS_TOKEN: 'ims_wrong' });
    expect(wrongToken.code).toBe(5);
    expect(wrongToken.stderr).toContain('ims login');
    const dead = await run(['status', '--url', `http://127.0.0.1:${await freePort()}`], undefined, {
      IMS_TOKEN: 'ims_x',
    });
    expect(dead.code).toBe(6);
    expect(dead.stderr).toContain('Cannot reach the console');
    // The stored token is never sent to another console.
    const other = await run(['status', '--url', 'http://127.0.0.1:1']);
    expect(other.code).toBe(5);

    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    const restrictHelp = await run(['restrict', '--help']);
    expect(restrictHelp.stdout).toContain('ims restrict clients add 192.168.1.0 255.255.255.0');
  });

  it('impact FILE: a draft that removes 127.0.0.2 lists the transactions it sent', async () => {
    // Set up through the API (each `ims` run is a process start): 127.0.0.2 may relay.
    const { token } = JSON.parse(readFileSync(join(home, 'xdg', 'ims', 'config.json'), 'utf8')) as {
      token: string;
    };
    const api = createApiClient({ baseUrl: url, token });
    const { data, etag } = await api.routing.get();
    const running = data.config as RoutingConfig;
    const allowed: RoutingConfig = {
      ...running,
      restrictions: {
        ...running.restrictions,
        clientAddresses: {
          enabled: true,
          entries: [
            ...running.restrictions.clientAddresses.entries.filter((e) => e.ip !== '127.0.0.2'),
            { ip: '127.0.0.2', mask: '255.255.255.255' },
          ],
        },
      },
    };
    const saved = await api.routing.put({ config: allowed }, etag);
    await api.service.restart();
    const local = await until(
      async () => {
        const n = (await api.service.status()).nodes.find((x) => x.name === 'local');
        return n?.runningVersion === saved.data.version ? n : undefined;
      },
      60_000,
      'the local node to run the saved version',
    );
    const { say, end } = await sessionFrom127002(Number(local.listen[0]?.split(':').at(-1)));
    expect(await say('MAIL FROM:<app@example.com>')).toMatch(/^250 /);
    for (const user of ['a', 'b', 'c']) {
      expect(await say(`RCPT TO:<${user}@impact-cli.example>`)).toMatch(/^250 /);
    }
    await end();

    const draft = join(temp(), 'impact-draft.json');
    // The draft: the running configuration without 127.0.0.2.
    const r = allowed.restrictions;
    writeFileSync(
      draft,
      JSON.stringify({
        ...allowed,
        restrictions: {
          ...r,
          clientAddresses: {
            ...r.clientAddresses,
            entries: r.clientAddresses.entries.filter((e) => e.ip !== '127.0.0.2'),
          },
        },
      }),
    );
    const text = await run(['impact', draft]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^\d+ of \d+ transactions? in the last day would change:/);
    expect(text.stdout).toContain(
      '  127.0.0.2 → impact-cli.example: relayed 3 times, would now get 550 5.7.1 Relaying is prohibited',
    );
    const result = await json<{ since: string; transactions: number; changes: unknown[] }>([
      'impact',
      draft,
    ]);
    expect(result.changes).toContainEqual({
      clientIp: '127.0.0.2',
      serverIp: '127.0.0.1',
      authenticated: false,
      recipientDomain: 'impact-cli.example',
      before: 'relay',
      after: 'reject',
      count: 3,
    });
    expect((await run(['impact'])).code).toBe(2);
  }, 300_000);

  it('token create/list/revoke, sessions, backup and passwd (issue 13 items 10 and 13)', async () => {
    // A token cannot mint a token: the stored one gets 403 through the API.
    const stored = JSON.parse(readFileSync(join(home, 'xdg', 'ims', 'config.json'), 'utf8')) as {
      token: string;
    };
    const byToken = createApiClient({ baseUrl: url, token: stored.token });
    await expect(byToken.tokens.create('child', 'write')).rejects.toMatchObject({ status: 403 });

    const created = await run(
      [
        'token',
        'create',
        'nightly',
        '--scope',
        'read',
        '--expires-in',
        '3600',
        '--password-stdin',
        '--json',
      ],
      `${PASSWORD}\n`,
    );
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as { id: number; token: string; expiresAt: string };
    expect(token.expiresAt).toMatch(/Z$/);
    const list = await run(['token', 'list']);
    expect(list.stdout.split('\n')[0]).toMatch(
      /^ID\s+NAME\s+SCOPE\s+CREATED BY\s+CREATED\s+LAST USED\s+EXPIRES$/,
    );
    expect(list.stdout).toMatch(new RegExp(`\\n${token.id}\\s+nightly\\s+read\\s+admin\\s`));
    expect((await run(['token', 'revoke', String(token.id)])).stdout).toBe(
      `Token ${token.id} revoked.\n`,
    );

    // A browser session shows in `ims sessions`, and revoking it ends it.
    const browser = await createApiClient({ baseUrl: url }).login('admin', PASSWORD);
    const sessions = await json<{ sessions: { id: string; current: boolean }[] }>(['sessions']);
    expect(sessions.sessions.length).toBeGreaterThanOrEqual(1);
    const text = await run(['sessions']);
    expect(text.stdout.split('\n')[0]).toMatch(
      /^ID\s+USER\s+CREATED\s+LAST SEEN\s+ADDRESS\s+USER AGENT$/,
    );
    const target = sessions.sessions[0]?.id ?? '';
    expect((await run(['sessions', 'revoke', target])).code).toBe(0);
    await expect(
      createApiClient({ baseUrl: url, cookie: browser.cookie }).whoami(),
    ).rejects.toMatchObject({ status: 401 });

    // A backup: the SQLite file, 0600.
    const file = join(temp(), 'ims.db');
    const backup = await run(['backup', file]);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/^Backup written to .+ \(\d+ bytes\)\.\n$/);
    expect(readFileSync(file).subarray(0, 15).toString('latin1')).toBe('SQLite format 3');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // passwd --stdin: current, then new; the stored token keeps working.
    const next = 'the new cli admin password';
    const changed = await run(['passwd', '--stdin'], `${PASSWORD}\n${next}\n`);
    expect(changed.stderr).toBe('');
    expect(changed.stdout).toMatch(/^Password of admin changed; \d+ other session\(s\) signed out/);
    await expect(createApiClient({ baseUrl: url }).login('admin', PASSWORD)).rejects.toMatchObject({
      status: 401,
    });
    await createApiClient({ baseUrl: url }).login('admin', next);
    expect((await run(['status'])).code).toBe(0);
    // And back, for the tests after this one.
    expect((await run(['passwd', '--stdin'], `${next}\n${PASSWORD}\n`)).code).toBe(0);
  });

  it('export postfix: a version as files in a directory, as JSON, and what Postfix cannot express', async () => {
    const out = join(temp(), 'postfix-ims');
    const written = await run([
      'export',
      'postfix',
      '--version',
      '1',
      '--out',
      out,
      '--listen',
      '192.0.2.10',
      '--port',
      '2525',
    ]);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(/^Wrote version 1 as \d+ files to .*main\.cf/);
    expect(readFileSync(join(out, 'master.cf'), 'utf8')).toContain(
      '192.0.2.10:2525 inet n - n - - smtpd',
    );
    expect(readFileSync(join(out, 'main.cf'), 'utf8')).toMatch(/^relay_domains =$/m);
    const exported = await json<{ version: number; files: Record<string, string> }>([
      'export',
      'postfix',
      '--version',
      '1',
    ]);
    expect(exported.version).toBe(1);
    expect(exported.files['inbound_domains.regexp']).toContain('example\\.com');
    // A version saved as "Do not reroute" without recipient rejection (the open
    // NDR relay): found by its content, as the tests before this one save others.
    const { token } = JSON.parse(readFileSync(join(home, 'xdg', 'ims', 'config.json'), 'utf8')) as {
      token: string;
    };
    const api = createApiClient({ baseUrl: url, token });
    let ndrRelay: number | undefined;
    for (const { version } of (await api.routing.versions({ limit: 100 })).versions) {
      const { config } = await api.routing.version(version);
      if (config.rerouteMode === 'no-reroute' && !config.rejectUnknownRecipients)
        ndrRelay = version;
    }
    expect(ndrRelay, 'a saved "Do not reroute" version without recipient rejection').toBeDefined();
    const refused = await run(['export', 'postfix', '--version', String(ndrRelay)]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/non-delivery report/);
    expect((await run(['export', 'postfix', '--version', '99'])).code).toBe(7);
  });

  it('logout revokes the token and forgets it', async () => {
    const r = await run(['logout']);
    expect(r.code).toBe(0);
    expect((await run(['status'])).code).toBe(5);
  });
});

/** Sends one message from 127.0.0.2 over a raw socket (the client restriction lets it relay). */
async function sendFrom127002(port: number, from: string, to: string): Promise<void> {
  const { say, end } = await sessionFrom127002(port);
  expect(await say(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
  expect(await say(`RCPT TO:<${to}>`)).toMatch(/^250 /);
  expect(await say('DATA')).toMatch(/^354 /);
  expect(await say('Subject: Stuck\r\n\r\nFor a host that is down.\r\n.')).toMatch(/^250 /);
  await end();
}

/** A greeted SMTP session from 127.0.0.2 over a raw socket: say(line) answers the reply line. */
async function sessionFrom127002(port: number) {
  const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
  let buffer = '';
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (d) => {
    buffer += String(d);
    for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (/^\d{3} /.test(line)) replies.push(line);
    }
    wake?.();
  });
  const reply = async () => {
    while (replies.length === 0) await new Promise<void>((r) => (wake = r));
    return replies.shift() ?? '';
  };
  const say = async (line: string) => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  expect(await reply()).toMatch(/^220 /);
  expect(await say('EHLO client.example')).toMatch(/^250 /);
  const end = async () => {
    await say('QUIT');
    socket.end();
  };
  return { say, end };
}
