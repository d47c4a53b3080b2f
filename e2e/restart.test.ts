/**
 * The console and an SMTP node as real processes: what the console saves is
 * what SMTP clients get, and only after a restart; the node keeps serving
 * while the console is down.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RawSmtp } from '@ims/smtp/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type Child, freePort, relayAttempt, start, until } from './smtp-wire';

const root = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
const children: Child[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-e2e-'));
  dirs.push(d);
  return d;
};

describe('console + SMTP node, end to end', () => {
  it('saved changes apply only after a restart; the node outlives the console', {
    timeout: 120_000,
  }, async () => {
    const httpPort = await freePort();
    const smtpPort = await freePort();
    const consoleDir = temp();
    const password = 'e2e admin password';
    const url = `http://127.0.0.1:${httpPort}`;
    const consoleEnv = {
      IMS_HTTP_PORT: String(httpPort),
      IMS_DATA_DIR: consoleDir,
      IMS_ADMIN_PASSWORD: password,
    };
    let server = start(join(root, 'apps/server'), 'src/server.ts', consoleEnv);
    children.push(server);
    await until(
      async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined),
      60_000,
      'the console',
    );

    const login = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const tokenRes = await fetch(`${url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ name: 'e2e', scope: 'write' }),
    });
    const admin = {
      authorization: `Bearer ${((await tokenRes.json()) as { token: string }).token}`,
      'content-type': 'application/json',
    };
    const api = async <T>(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = admin,
    ) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as T };
    };
    const nodeToken = (await api<{ token: string }>('POST', '/api/v1/nodes', { name: 'local' }))
      .body.token;

    const node = start(join(root, 'apps/smtp'), 'src/main.ts', {
      IMS_CONSOLE_URL: url,
      IMS_NODE_TOKEN: nodeToken,
      IMS_SMTP_PORT: String(smtpPort),
      IMS_DATA_DIR: temp(),
    });
    children.push(node);
    type Service = {
      pendingRestart: boolean;
      nodes: { runningVersion: number | null; online: boolean }[];
    };
    await until(
      async () => {
        const s = (await api<Service>('GET', '/api/v1/service')).body;
        return s.nodes[0]?.runningVersion === 1 && s.nodes[0].online ? s : undefined;
      },
      60_000,
      'the node to attach',
    );

    // (a) The defaults: a stranger cannot relay.
    expect(await relayAttempt(smtpPort)).toBe('550 5.7.1 Relaying is prohibited');

    // Save version 2: allow 127.0.0.0/8 to relay. Saved, but not applied yet.
    const current = await api<{ config: Record<string, unknown> }>('GET', '/api/v1/routing');
    const config = current.body.config as { restrictions: { clientAddresses: unknown } };
    config.restrictions.clientAddresses = {
      enabled: true,
      entries: [{ ip: '127.0.0.0', mask: '255.0.0.0' }],
    };
    const saved = await api<{ version: number }>(
      'PUT',
      '/api/v1/routing',
      { config },
      { ...admin, 'if-match': '"v1"' },
    );
    expect(saved.status).toBe(200);
    expect((await api<Service>('GET', '/api/v1/service')).body.pendingRestart).toBe(true);
    expect(await relayAttempt(smtpPort)).toBe('550 5.7.1 Relaying is prohibited');

    // A session opened before the restart, mid-transaction.
    const before = await RawSmtp.open(smtpPort);
    await before.reply();
    await before.cmd('EHLO before.example');
    await before.cmd('MAIL FROM:<tester@remote.example>');

    // Connection attempts all through the restart: none may be refused.
    let probing = true;
    const probes = { ok: 0, failed: [] as string[] };
    const prober = (async () => {
      while (probing) {
        try {
          const c = await RawSmtp.open(smtpPort);
          const greeting = await c.reply();
          c.close();
          if (greeting.startsWith('220 ')) probes.ok++;
          else probes.failed.push(greeting);
        } catch (err) {
          probes.failed.push(String(err));
        }
      }
    })();

    // Restart: the node applies version 2 and says so.
    expect((await api('POST', '/api/v1/service/restart')).status).toBe(202);
    await until(
      async () => {
        const s = (await api<Service>('GET', '/api/v1/service')).body;
        return !s.pendingRestart && s.nodes[0]?.runningVersion === 2 ? s : undefined;
      },
      30_000,
      'the node to run version 2',
    );
    expect(await relayAttempt(smtpPort)).toMatch(/^250 2\.1\.5 /);
    probing = false;
    await prober;
    expect(probes.failed).toEqual([]);
    expect(probes.ok).toBeGreaterThan(0);
    // The session from before finishes under version 1.
    expect(await before.cmd('RCPT TO:<victim@elsewhere.example>')).toBe(
      '550 5.7.1 Relaying is prohibited',
    );
    before.close();

    // The console goes away: the node keeps serving what it runs.
    await server.stop();
    expect(await relayAttempt(smtpPort)).toMatch(/^250 2\.1\.5 /);
    expect(await relayAttempt(smtpPort, 'alice@example.com')).toMatch(/^550 5\.1\.1 /);

    // And comes back: the node re-attaches and reports again.
    server = start(join(root, 'apps/server'), 'src/server.ts', consoleEnv);
    children.push(server);
    await until(
      async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined),
      60_000,
      'the console again',
    );
    await until(
      async () => {
        const s = (await api<Service>('GET', '/api/v1/service')).body;
        return s.nodes[0]?.online && s.nodes[0].runningVersion === 2 ? s : undefined;
      },
      30_000,
      'the node to re-attach',
    );
  });
});
