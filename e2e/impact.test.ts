/**
 * The impact preview on a small fleet (issue 14 §5, its impact part): the
 * embedded start (launcher: console and its local node) and a second node
 * attached as README's "Attaching an SMTP node running elsewhere" says.
 * Real SMTP traffic from 127.0.0.2 to both nodes; then a draft that removes
 * 127.0.0.2 from the allowed list lists that address with the count of the
 * transactions it sent, summed over the nodes.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ApiClient, createApiClient } from '@ims/api-client';
import type { RoutingConfig } from '@ims/routing-core';
import { RawSmtp } from '@ims/smtp/testing';
import { type Child, freePort, start, until } from '@ims/test-support';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const PASSWORD = 'impact e2e admin password';
const children: Child[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-impact-'));
  dirs.push(d);
  return d;
};

/** RCPTs from 127.0.0.2, one session; each reply line. */
async function rcptsFrom127002(port: number, recipients: string[]): Promise<string[]> {
  const c = await RawSmtp.open(port, '127.0.0.1', '127.0.0.2');
  try {
    expect(await c.reply()).toMatch(/^220 /);
    await c.cmd('EHLO printer.example');
    expect(await c.cmd('MAIL FROM:<printer@example.com>')).toMatch(/^250 /);
    const replies: string[] = [];
    for (const r of recipients) replies.push(await c.cmd(`RCPT TO:<${r}>`));
    await c.cmd('QUIT');
    return replies;
  } finally {
    c.close();
  }
}

/** Waits until every named node runs `version`; returns their SMTP ports by name. */
async function running(api: ApiClient, names: string[], version: number) {
  return until(
    async () => {
      const nodes = (await api.service.status()).nodes;
      const ports = new Map<string, number>();
      for (const name of names) {
        const n = nodes.find((x) => x.name === name);
        if (!n?.online || n.runningVersion !== version) return undefined;
        ports.set(name, Number(n.listen[0]?.split(':').at(-1)));
      }
      return ports;
    },
    90_000,
    `${names.join(', ')} to run version ${version}`,
  );
}

describe('impact preview on two nodes', () => {
  it('a draft that removes 127.0.0.2 lists it with the transactions it sent to every node', async () => {
    const httpPort = await freePort();
    const url = `http://127.0.0.1:${httpPort}`;
    children.push(
      start(join(root, 'apps/server'), 'src/launcher.ts', {
        IMS_HTTP_PORT: String(httpPort),
        IMS_SMTP_PORT: String(await freePort()),
        IMS_DATA_DIR: temp(),
        IMS_ADMIN_PASSWORD: PASSWORD,
      }),
    );
    await until(
      async () => ((await createApiClient({ baseUrl: url }).health()) ? true : undefined),
      60_000,
      'the console',
    );
    const session = await createApiClient({ baseUrl: url }).login('admin', PASSWORD);
    const browser = createApiClient({
      baseUrl: url,
      cookie: session.cookie,
      csrfToken: session.csrfToken,
    });
    const api = createApiClient({
      baseUrl: url,
      token: (await browser.tokens.create('impact-e2e', 'write')).token,
    });

    // A second node, attached the README's way.
    const edge = await browser.nodes.register('edge-2');
    children.push(
      start(join(root, 'apps/smtp'), 'src/main.ts', {
        IMS_CONSOLE_URL: url,
        IMS_NODE_TOKEN: edge.token,
        IMS_SMTP_PORT: String(await freePort()),
        IMS_DATA_DIR: temp(),
      }),
    );
    const local = (await api.service.status()).nodes.find((n) => n.name !== 'edge-2');
    expect(local).toBeDefined();
    const names = [local?.name ?? 'local', 'edge-2'];

    // 127.0.0.2 (say, a printer) may relay; every node runs that.
    const { data, etag } = await api.routing.get();
    const config = data.config as RoutingConfig;
    const allowing: RoutingConfig = {
      ...config,
      restrictions: {
        ...config.restrictions,
        clientAddresses: { enabled: true, entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }] },
      },
    };
    const saved = await api.routing.put({ config: allowing }, etag);
    await api.service.restart();
    const ports = await running(api, names, saved.data.version);

    // Real traffic: 4 relayed through the local node, 2 through edge-2, 1 local delivery.
    const first = await rcptsFrom127002(ports.get(names[0] as string) as number, [
      'a@partner.example',
      'b@partner.example',
      'c@Partner.Example',
      'd@partner.example',
      'postmaster@example.com',
    ]);
    expect(first.slice(0, 4).every((r) => r.startsWith('250 '))).toBe(true);
    const second = await rcptsFrom127002(ports.get('edge-2') as number, [
      'e@partner.example',
      'f@partner.example',
    ]);
    expect(second.every((r) => r.startsWith('250 '))).toBe(true);

    // The draft takes 127.0.0.2 off the list.
    const draft: RoutingConfig = {
      ...allowing,
      restrictions: {
        ...allowing.restrictions,
        clientAddresses: { enabled: true, entries: [] },
      },
    };
    const preview = await api.raw<{
      since: string;
      transactions: number;
      changes: Record<string, unknown>[];
    }>('POST', '/api/v1/routing/impact', { config: draft });
    expect(preview.status).toBe(200);
    expect(Object.keys(preview.body).sort()).toEqual(['changes', 'since', 'transactions']);
    expect(preview.body.transactions).toBeGreaterThanOrEqual(7);
    expect(preview.body.changes).toEqual([
      {
        clientIp: '127.0.0.2',
        serverIp: '127.0.0.1',
        authenticated: false,
        recipientDomain: 'partner.example',
        before: 'relay',
        after: 'reject',
        count: 6,
      },
    ]);
    expect(Date.parse(preview.body.since)).toBeLessThanOrEqual(Date.now());

    // The saved and running version itself changes nothing.
    const same = await api.routing.impact(allowing);
    expect(same.changes).toEqual([]);
  }, 300_000);
});
