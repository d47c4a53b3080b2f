import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApiClient } from '@ims/api-client';
import { type Child, freePort, start, until } from '@ims/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium, seriousViolations, signIn as signInAs } from './browser';

const root = resolve(import.meta.dirname, '..');
const _webDist = join(root, 'apps/web/dist');
/** Set to a folder (docs/) to save the README's Audit screenshot there. */
const SHOTS = process.env.IMS_SCREENSHOTS;

const dirs: string[] = [];
const children: Child[] = [];
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
let url = '';
const password = 'e2e evidence password';
let token = '';

const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-evidence-e2e-'));
  dirs.push(d);
  return d;
};

async function api<T>(method: string, path: string, body?: unknown, headers = {}) {
  const res = await createApiClient({ baseUrl: url, token }).raw<T>(method, path, body, headers);
  return { status: res.status, body: res.body, headers: res.headers };
}

/** A fresh browser at 1280×800, signed in, on `path`. */
async function signIn(path: string): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  return signInAs(context, url, password, path);
}

beforeAll(async () => {
  ensureWebBuilt();
  const httpPort = await freePort();
  const smtpPort = await freePort();
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
  token = (await signedIn.tokens.create('deploy', 'write')).token;
  // Only a signed-in user registers nodes.
  const nodeToken = (await signedIn.nodes.register('local')).token;
  children.push(
    start(join(root, 'apps/smtp'), 'src/main.ts', {
      IMS_CONSOLE_URL: url,
      IMS_NODE_TOKEN: nodeToken,
      IMS_SMTP_PORT: String(smtpPort),
      IMS_DATA_DIR: temp(),
    }),
  );
  await until(
    async () => {
      const s = (
        await api<{ nodes: { runningVersion: number | null; online: boolean }[] }>(
          'GET',
          '/api/v1/service',
        )
      ).body;
      return s.nodes[0]?.online && s.nodes[0].runningVersion === 1 ? true : undefined;
    },
    60_000,
    'the SMTP node to attach',
  );

  // A save through the token, and a restart: the evidence the Audit tab tells.
  const current = await api<{ config: { routes: { sentTo: string; routeTo: string }[] } }>(
    'GET',
    '/api/v1/routing',
  );
  const config = current.body.config;
  config.routes.push({ sentTo: 'partner.example', routeTo: 'mx.partner.example' });
  const saved = await api('PUT', '/api/v1/routing', { config }, { 'if-match': '"v1"' });
  expect(saved.status).toBe(200);
  expect((await api('POST', '/api/v1/service/restart')).status).toBe(202);

  browser = await launchChromium();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('readable evidence in Chromium', () => {
  it('the Audit tab: summaries, sign-ins hidden by default, families, details', async () => {
    const page = await signIn('/audit');
    const log = page.getByRole('table', { name: 'Audit log' });
    const save = log.getByRole('row').filter({
      hasText: 'Saved version 2: Added route partner.example → mx.partner.example',
    });
    await save.waitFor();
    expect(await save.textContent()).toContain('admin via token deploy');
    await log.getByText('Restart requested: the nodes are to run version 2').waitFor();

    // This very sign-in is in the log, but hidden until asked for.
    expect(await log.getByText('Signed in', { exact: true }).count()).toBe(0);
    await page
      .locator('label')
      .filter({ hasText: /^Show sign-ins$/ })
      .click();
    await log.getByText('Signed in', { exact: true }).first().waitFor();
    await page
      .locator('label')
      .filter({ hasText: /^Show sign-ins$/ })
      .click();
    await expect.poll(() => log.getByText('Signed in', { exact: true }).count()).toBe(0);

    // A family: only restarts and relay tests.
    await page.getByLabel('Show:').selectOption({ label: 'Restarts and relay tests' });
    await expect
      .poll(async () => (await log.locator('tbody tr').allTextContents()).join('\n'))
      .not.toContain('Saved version 2');
    const actions = await log.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((a) => a.startsWith('service.'))).toBe(true);
    await page.getByLabel('Show:').selectOption({ label: 'All actions' });

    // The details expand under the entry, in full.
    await save.getByRole('button', { name: /^Details of entry \d+$/ }).click();
    const details = log.locator('.audit-details-row');
    await details
      .getByText(/"summary": "Added route partner\.example → mx\.partner\.example"/)
      .waitFor();
    expect(await details.textContent()).toContain('token:deploy');
    expect(
      await save.getByRole('button', { name: /^Details of entry/ }).getAttribute('aria-expanded'),
    ).toBe('true');
    const violations = await seriousViolations(page);
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'audit-tab.png') });
    await page.close();
  });

  it('the Relay test: the verdict is visible at 1280×800 without scrolling sideways', async () => {
    const page = await signIn('/relay-test');
    await page.getByLabel('Test from address (optional):').fill('127.0.0.3');
    await page.getByRole('button', { name: 'Run relay test' }).click();
    const results = page.getByRole('region', { name: 'Relay test results' });
    const verdict = results.getByText(
      /^Passed: 0 of \d+ cases relayed\. Every case as expected\.$/,
    );
    await verdict.waitFor({ timeout: 90_000 });
    const table = results.getByRole('table', { name: 'Relay test cases' });
    const firstResult = table.locator('tbody tr').first().locator('td').first();
    expect(await firstResult.textContent()).toBe('Pass');
    // Every Result cell and the verdict lie inside the viewport's width; nothing scrolls sideways.
    for (const box of [
      await verdict.boundingBox(),
      await firstResult.boundingBox(),
      await table.locator('thead th').last().boundingBox(),
    ]) {
      expect(box).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(1280);
    }
    const overflow = await page.evaluate(() => {
      const panel = document.querySelector('[aria-label="Relay test results table"]');
      return {
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        panel: panel ? panel.scrollWidth - panel.clientWidth : -1,
      };
    });
    expect(overflow).toEqual({ page: 0, panel: 0 });
    await page.close();
  });
});
