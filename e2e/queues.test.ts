import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ApiClient, createApiClient } from '@ims/api-client';
import { type Child, freePort, start, until } from '@ims/test-support';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium, seriousViolations, signIn } from './browser';
import { sendMail } from './smtp-wire';

const root = resolve(import.meta.dirname, '..');
const _webDist = join(root, 'apps/web/dist');
/** Set to a folder (docs/) to save the README screenshot there. */
const SHOTS = process.env.IMS_SCREENSHOTS;

const dirs: string[] = [];
const children: Child[] = [];
let browser: Browser | undefined;
let url = '';
let smtpPort = 0;
let admin: ApiClient;
const password = 'e2e queues password';

const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-queues-e2e-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  ensureWebBuilt();
  const httpPort = await freePort();
  smtpPort = await freePort();
  url = `http://127.0.0.1:${httpPort}`;
  children.push(
    start(join(root, 'apps/server'), 'src/server.ts', {
      IMS_HTTP_PORT: String(httpPort),
      IMS_DATA_DIR: temp(),
      IMS_ADMIN_PASSWORD: password,
    }),
  );
  await until(
    async () => ((await createApiClient({ baseUrl: url }).health()) ? true : undefined),
    60_000,
    'the console',
  );
  const session = await createApiClient({ baseUrl: url }).login('admin', password);
  const signedIn = createApiClient({
    baseUrl: url,
    cookie: session.cookie,
    csrfToken: session.csrfToken,
  });
  admin = createApiClient({
    baseUrl: url,
    token: (await signedIn.tokens.create('e2e-queues', 'write')).token,
  });
  // Only a signed-in user registers nodes.
  const node = await signedIn.nodes.register('local');
  children.push(
    start(join(root, 'apps/smtp'), 'src/main.ts', {
      IMS_CONSOLE_URL: url,
      IMS_NODE_TOKEN: node.token,
      IMS_SMTP_PORT: String(smtpPort),
      IMS_DATA_DIR: temp(),
    }),
  );
  await until(
    async () => {
      const s = await admin.service.status();
      return s.nodes[0]?.online && s.nodes[0].runningVersion === 1 ? true : undefined;
    },
    60_000,
    'the SMTP node to attach',
  );

  // A route to a loopback port nothing listens on, and relaying allowed from 127.0.0.2.
  const closed = await freePort();
  const current = await admin.routing.get();
  const config = current.data.config;
  config.routes.push({ sentTo: 'down.example', routeTo: `127.0.0.1:${closed}` });
  config.restrictions.clientAddresses = {
    enabled: true,
    entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }],
  };
  const saved = await admin.routing.put(
    { config, comment: 'e2e: a route that is down' },
    current.etag,
  );
  await admin.service.restart();
  await until(
    async () =>
      (await admin.service.status()).nodes[0]?.runningVersion === saved.data.version
        ? true
        : undefined,
    60_000,
    'the node to run the route',
  );
  const sent = await sendMail({
    port: smtpPort,
    localAddress: '127.0.0.2',
    from: 'sender@example.com',
    to: ['someone@down.example'],
    body: 'Subject: For a host that is down\r\n\r\nThis waits in the queue.',
  });
  expect(sent.data).toMatch(/^250 /);

  browser = await launchChromium();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The cells of a row of the queue list, as text. */
const cells = async (row: Locator) => row.locator('td').allTextContents();
const ATTEMPTS = 5;
const LAST_ERROR = 7;

describe('the Queues tab in Chromium', () => {
  let page: Page;

  it('lists the message for the unreachable route, with its last error', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    page = await signIn(context, url, password, '/queues');
    expect(await page.getByRole('tab', { name: 'Queues' }).getAttribute('aria-selected')).toBe(
      'true',
    );

    const grid = page.getByRole('grid', { name: 'Queued messages' });
    const row = grid.locator('tbody tr').filter({ hasText: 'someone@down.example' });
    // The first attempt runs at once; Refresh until the tab shows it failed.
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return (await row.count()) === 1 ? (await cells(row))[ATTEMPTS] : undefined;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe('1');
    const [node, from, recipients] = await cells(row);
    expect([node, from, recipients]).toEqual([
      'local',
      'sender@example.com',
      'someone@down.example',
    ]);
    expect((await cells(row))[LAST_ERROR]).toMatch(/ECONNREFUSED|refused/i);
    const violations = await seriousViolations(page);
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
  });

  it('Retry now retries it: its attempts grow', async () => {
    const grid = page.getByRole('grid', { name: 'Queued messages' });
    const row = grid.locator('tbody tr').filter({ hasText: 'someone@down.example' });
    await row.click();
    await page.getByRole('button', { name: 'Retry now' }).click();
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return Number((await cells(row))[ATTEMPTS]);
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(2);
    expect(await row.getAttribute('aria-selected')).toBe('true');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'queues-tab.png') });
    const audit = await admin.audit();
    expect(audit.entries[0]).toMatchObject({ action: 'queue.retried', actor: 'admin' });
  });

  it('Delete removes it (asked first, with the keyboard)', async () => {
    const grid = page.getByRole('grid', { name: 'Queued messages' });
    const row = grid.locator('tbody tr').filter({ hasText: 'someone@down.example' });
    await row.focus();
    await page.keyboard.press('Delete');
    const dialog = page.getByRole('alertdialog', { name: 'Delete message' });
    await dialog.getByText('from sender@example.com to someone@down.example').waitFor();
    // Focus starts on Cancel: Shift+Tab reaches Delete.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await grid.getByText('(no messages are queued)').waitFor();
    expect(await admin.queue.list()).toEqual({ nodes: [{ name: 'local', messages: [] }] });
    expect((await admin.audit()).entries[0]).toMatchObject({
      action: 'queue.deleted',
      details: { node: 'local', from: 'sender@example.com', ndr: false },
    });
  });
});
