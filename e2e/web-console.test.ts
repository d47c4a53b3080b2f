import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApiClient } from '@ims/api-client';
import { type Child, freePort, start, until } from '@ims/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium, seriousViolations, signIn as signInAs } from './browser';
import { relayAttempt, sendMail } from './smtp-wire';

const root = resolve(import.meta.dirname, '..');
const _webDist = join(root, 'apps/web/dist');
/** Set to a folder (docs/) to save the README screenshots there. */
const SHOTS = process.env.IMS_SCREENSHOTS;

const dirs: string[] = [];
const children: Child[] = [];
let browser: Browser | undefined;
let url = '';
let smtpPort = 0;
const password = 'e2e web password';
let token = '';

const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-web-e2e-'));
  dirs.push(d);
  return d;
};

/** One request with the test's write token, answered whatever its status (a route of the table). */
async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await createApiClient({ baseUrl: url, token }).raw<T>(method, path, body, headers);
  return { status: res.status, body: res.body };
}

const signIn = (context: BrowserContext, path = '/') => signInAs(context, url, password, path);

/** 98.css draws radios and checkboxes on their labels: a person clicks the label. */
const label = (page: Page, text: string) =>
  page.locator('label').filter({ hasText: new RegExp(`^${text.replace(/[()'.]/g, '\\$&')}$`) });

const expectNoSeriousViolations = async (page: Page, where: string) => {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
};

beforeAll(async () => {
  ensureWebBuilt();
  const httpPort = await freePort();
  smtpPort = await freePort();
  url = `http://127.0.0.1:${httpPort}`;
  const server = start(join(root, 'apps/server'), 'src/server.ts', {
    IMS_HTTP_PORT: String(httpPort),
    IMS_DATA_DIR: temp(),
    IMS_ADMIN_PASSWORD: password,
  });
  children.push(server);
  await until(
    async () => ((await createApiClient({ baseUrl: url }).health()) ? true : undefined),
    60_000,
    'the console',
  );

  // A write token for the test's own API calls, and a registered SMTP node.
  const session = await createApiClient({ baseUrl: url }).login('admin', password);
  const signedIn = createApiClient({
    baseUrl: url,
    cookie: session.cookie,
    csrfToken: session.csrfToken,
  });
  token = (await signedIn.tokens.create('e2e-web', 'write')).token;
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
  browser = await launchChromium();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the web console in Chromium', () => {
  let context: BrowserContext;
  let page: Page;

  it('serves the app (deep links too) without CSP errors, and signs in', async () => {
    context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    const probe = await context.newPage();
    probe.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    probe.on('pageerror', (e) => errors.push(e.message));
    await probe.goto(`${url}/history`);
    await probe.getByRole('button', { name: 'Sign in' }).waitFor();
    await expectNoSeriousViolations(probe, 'sign-in page');
    // A wrong password says so.
    await probe.getByLabel('User name:').fill('admin');
    await probe.getByLabel('Password:').fill('not the password');
    await probe.getByRole('button', { name: 'Sign in' }).click();
    await probe.getByText('The user name or password is incorrect.').waitFor();
    // Only the expected 401s (who is signed in; the wrong password) may show up.
    expect(errors.filter((e) => !/401/.test(e))).toEqual([]);
    await probe.close();

    page = await signIn(context, '/routing');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(
      await page.getByRole('heading', { name: 'Internet Mail Service Properties' }).isVisible(),
    ).toBe(true);
    await expectNoSeriousViolations(page, 'Routing tab');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'routing-tab.png') });
  });

  it('switches the reroute mode: the list and its buttons follow', async () => {
    const add = page.getByRole('button', { name: 'Add...' });
    await label(page, 'Do not reroute incoming SMTP mail').click();
    expect(await add.isDisabled()).toBe(true);
    expect(await page.getByRole('grid', { name: 'Routing' }).getAttribute('aria-disabled')).toBe(
      'true',
    );
    expect(await page.getByRole('button', { name: 'Apply' }).isEnabled()).toBe(true);
    await label(page, 'Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)').click();
    expect(await add.isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Apply' }).isDisabled()).toBe(true);
  });

  it('adds, edits and removes routes', async () => {
    const rows = page.getByRole('grid', { name: 'Routing' }).locator('tbody tr');
    await page.getByRole('button', { name: 'Add...' }).click();
    let dialog = page.getByRole('dialog', { name: 'Edit Routing Table Entry' });
    await dialog.getByLabel('E-mail sent to this domain:').fill('partner.example');
    await label(page, 'Should be rerouted to this host').click();
    await dialog.getByLabel(/Host/).fill('mail.partner.example:2525');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect
      .poll(() => rows.allTextContents())
      .toEqual(['example.com<inbound>', 'partner.examplemail.partner.example:2525']);

    await page.getByRole('button', { name: 'Edit...' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit Routing Table Entry' });
    await dialog.getByLabel('E-mail sent to this domain:').fill('#partner.example');
    await label(page, "Should be accepted as 'inbound'").click();
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => rows.nth(1).textContent()).toBe('#partner.example<inbound>');

    await page.getByRole('button', { name: 'Add...' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit Routing Table Entry' });
    await dialog.getByLabel('E-mail sent to this domain:').fill('temp.example');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => rows.count()).toBe(3);
    await page.getByRole('button', { name: 'Remove' }).click();
    await expect
      .poll(() => rows.allTextContents())
      .toEqual(['example.com<inbound>', '#partner.example<inbound>']);
  });

  it('edits the Routing Restrictions (the dialog passes axe-core)', async () => {
    await page.getByRole('button', { name: 'Routing Restrictions...' }).click();
    const dialog = page.getByRole('dialog', { name: 'Routing Restrictions' });
    await dialog.waitFor();
    await expectNoSeriousViolations(page, 'Routing Restrictions dialog');
    await label(page, 'Hosts and clients with these IP addresses').click();
    const clients = dialog.getByRole('group', {
      name: 'Hosts and clients with these IP addresses',
    });
    await clients.getByRole('button', { name: 'Add...' }).click();
    const entry = page.getByRole('dialog', { name: 'Add IP address' });
    await entry.getByLabel('IP address:').fill('127.0.0.0');
    await entry.getByLabel('Subnet mask:').fill('255.0.0.0');
    await entry.getByRole('button', { name: 'OK' }).click();
    await expect
      .poll(() => clients.locator('tbody tr').allTextContents())
      .toEqual(['127.0.0.0255.0.0.0']);

    const never = dialog.getByRole('group', {
      name: 'Specify the hosts and clients that can NEVER route mail',
    });
    await never.getByRole('button', { name: 'Add...' }).click();
    await entry.getByLabel('IP address:').fill('192.0.2.66');
    await entry.getByRole('button', { name: 'OK' }).click();
    await never.locator('tbody tr').first().click();
    await never.getByRole('button', { name: 'Edit...' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit IP address' });
    await edit.getByLabel('IP address:').fill('192.0.2.67');
    await edit.getByRole('button', { name: 'OK' }).click();
    await expect
      .poll(() => never.locator('tbody tr').allTextContents())
      .toEqual(['192.0.2.67255.255.255.255']);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'routing-restrictions.png') });
    await dialog.getByRole('button', { name: 'OK' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('Apply saves; the banner says it waits for a restart; Restart now applies it on the real node', async () => {
    const banner = page.getByRole('status', { name: 'Internet Mail Service status' });
    const before = await banner.boundingBox();
    // Before: a stranger on 127.0.0.1 cannot relay.
    expect(await relayAttempt(smtpPort)).toBe('550 5.7.1 Relaying is prohibited');
    await page.getByRole('button', { name: 'Apply' }).click();
    await banner.getByText(/take effect only when the Internet Mail Service restarts/).waitFor();
    await banner.getByText('local: runs version 1').waitFor();
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'pending-restart.png') });
    // The sheet does not move when the banner appears.
    expect(await banner.boundingBox()).toEqual(before);
    // Saved, not applied.
    expect(await relayAttempt(smtpPort)).toBe('550 5.7.1 Relaying is prohibited');

    await banner.getByRole('button', { name: 'Restart now' }).click();
    await banner
      .getByText(/Applied: the Internet Mail Service runs version 2/)
      .waitFor({ timeout: 30_000 });
    expect(await relayAttempt(smtpPort)).toMatch(/^250 2\.1\.5 /);
    await expect.poll(() => banner.textContent(), { timeout: 10_000 }).toBe('');
  });

  it('shows a critical finding in red with its KB reference; saving it needs a confirmation', async () => {
    await page.getByRole('button', { name: 'Routing Restrictions...' }).click();
    const dialog = page.getByRole('dialog', { name: 'Routing Restrictions' });
    await label(page, 'Hosts and clients that successfully authenticate').click();
    await label(page, 'Hosts and clients with these IP addresses').click();
    await dialog.getByRole('button', { name: 'OK' }).click();
    const finding = page.locator('li.finding.critical').filter({ hasText: 'Q260562' });
    await finding.waitFor();
    expect(await finding.evaluate((el) => getComputedStyle(el).color)).toBe('rgb(160, 0, 0)');
    await expectNoSeriousViolations(page, 'Routing tab with findings');

    await page.getByRole('button', { name: 'Apply' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Save with critical findings?' });
    await confirm.getByRole('button', { name: 'Save anyway' }).click();
    await page.getByText(/Version 3, saved by admin/).waitFor();
    const audit = await api<{
      entries: { action: string; details?: { acknowledged?: string[] } }[];
    }>('GET', '/api/v1/audit?action=routing.saved&limit=1');
    expect(audit.body.entries[0]?.details?.acknowledged).toContain('open-relay');

    // The one-click fix: tick "successfully authenticate" again, and save that.
    await page.getByRole('button', { name: /^Fix: Tick/ }).click();
    await finding.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Apply' }).click();
    // Authenticated clients only, where what runs (version 2) let this
    // machine relay unauthenticated, as it did above: Apply asks about that.
    const refusing = page.getByRole('alertdialog', { name: 'Apply a change that refuses mail?' });
    await refusing
      .getByText(
        /127\.0\.0\.1 → elsewhere\.example: relayed (once|\d+ times), would now get 550 5\.7\.1/,
      )
      .waitFor({ timeout: 30_000 });
    await refusing.getByRole('button', { name: 'Apply anyway' }).click();
    await page.getByText(/Version 4, saved by admin/).waitFor();
  });

  it('a 412 from a second session: who saved, when, the difference; re-apply on top', async () => {
    const other = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const second = await signIn(other, '/routing');
    await second.getByRole('button', { name: 'Add...' }).click();
    const theirs = second.getByRole('dialog', { name: 'Edit Routing Table Entry' });
    await theirs.getByLabel('E-mail sent to this domain:').fill('theirs.example');
    await theirs.getByRole('button', { name: 'OK' }).click();
    await second.getByRole('button', { name: 'Apply' }).click();
    await second.getByText(/Version 5, saved by admin/).waitFor();
    await other.close();

    // The first session still edits version 4.
    await page.getByRole('button', { name: 'Add...' }).click();
    const add = page.getByRole('dialog', { name: 'Edit Routing Table Entry' });
    await add.getByLabel('E-mail sent to this domain:').fill('mine.example');
    await add.getByRole('button', { name: 'OK' }).click();
    await page.getByRole('button', { name: 'Apply' }).click();
    const conflict = page.getByRole('alertdialog', { name: 'Newer version saved' });
    await conflict.getByText(/Version 5 was saved by admin at/).waitFor();
    await conflict.getByText(/Changed by admin \(version 4 → 5\)/).waitFor();
    await conflict.getByText(/theirs\.example/).waitFor();
    expect(await conflict.textContent()).toMatch(/mine\.example/);
    await expectNoSeriousViolations(page, 'conflict dialog');

    await conflict.getByRole('button', { name: 'Re-apply my changes' }).click();
    await page.getByText(/re-applied on top of version 5/).waitFor();
    const grid = page.getByRole('grid', { name: 'Routing' });
    expect(await grid.textContent()).toMatch(/theirs\.example<inbound>.*mine\.example<inbound>/);
    // Saved on top of version 5: their route and mine.
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText(/Version 6, saved by admin/).waitFor();
    const saved = await api<{ config: { routes: { sentTo: string }[] } }>('GET', '/api/v1/routing');
    expect(saved.body.config.routes.map((r) => r.sentTo)).toEqual(
      expect.arrayContaining(['theirs.example', 'mine.example']),
    );
  });

  it('keyboard only: through the Routing tab, a route added and the restrictions opened and closed', async () => {
    const kb = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await signIn(kb, '/routing');
    await p.getByRole('grid', { name: 'Routing' }).waitFor();
    await p.locator('body').focus();
    const focused = () =>
      p.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el) return '';
        const labelled = el.id
          ? document.querySelector(`label[for="${el.id}"]`)?.textContent
          : null;
        return `${el.getAttribute('role') ?? el.tagName.toLowerCase()}:${labelled ?? el.getAttribute('aria-label') ?? el.textContent ?? ''}`;
      });
    const tabTo = async (want: string, max = 40) => {
      for (let i = 0; i < max; i++) {
        await p.keyboard.press('Tab');
        if ((await focused()).startsWith(want)) return;
      }
      throw new Error(`Tab never reached ${want} (last: ${await focused()})`);
    };
    const outline = () =>
      p.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const target = el.matches('input[type=radio],input[type=checkbox]')
          ? (document.querySelector(`label[for="${el.id}"]`) as HTMLElement)
          : el;
        return getComputedStyle(target).outlineStyle;
      });

    await tabTo('tab:Routing');
    expect(await outline()).not.toBe('none');
    // Radios: Tab reaches the checked one; arrows choose.
    await tabTo('input:Reroute incoming SMTP mail');
    expect(await outline()).not.toBe('none');
    await p.keyboard.press('ArrowUp');
    expect(
      await p.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }).isChecked(),
    ).toBe(true);
    expect(await p.getByRole('button', { name: 'Add...' }).isDisabled()).toBe(true);
    await p.keyboard.press('ArrowDown');
    expect(await p.getByRole('button', { name: 'Add...' }).isEnabled()).toBe(true);
    // The list: a row, then Add... opens the dialog; type, Enter saves; focus comes back.
    await tabTo('tr:');
    expect(await outline()).not.toBe('none');
    await tabTo('button:Add...');
    await p.keyboard.press('Enter');
    const dialog = p.getByRole('dialog', { name: 'Edit Routing Table Entry' });
    await dialog.waitFor();
    expect(await focused()).toMatch(/^input:E-mail sent to this domain/);
    await p.keyboard.type('keys.example');
    await p.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused()).toBe('button:Add...');
    expect(await p.getByRole('grid', { name: 'Routing' }).textContent()).toMatch(
      /keys\.example<inbound>/,
    );
    // Edit the new row with Enter, close with Escape.
    await p.keyboard.press('Shift+Tab');
    await p.keyboard.press('End');
    await p.keyboard.press('Enter');
    await p.getByRole('dialog', { name: 'Edit Routing Table Entry' }).waitFor();
    await p.keyboard.press('Escape');
    await p
      .getByRole('dialog', { name: 'Edit Routing Table Entry' })
      .waitFor({ state: 'detached' });
    // Restrictions: open with Enter; Tab stays inside; Escape closes.
    await tabTo('button:Routing Restrictions...');
    await p.keyboard.press('Enter');
    const restrictions = p.getByRole('dialog', { name: 'Routing Restrictions' });
    await restrictions.waitFor();
    for (let i = 0; i < 30; i++) {
      await p.keyboard.press('Tab');
      expect(await p.evaluate(() => !!document.activeElement?.closest('[role=dialog]'))).toBe(true);
    }
    await p.keyboard.press('Escape');
    await restrictions.waitFor({ state: 'detached' });
    expect(await focused()).toBe('button:Routing Restrictions...');
    // Apply from the keyboard.
    await tabTo('button:Apply');
    await p.keyboard.press('Enter');
    await p.getByText(/^Version \d+, saved by admin/).waitFor();
    expect(await p.getByText(/Unsaved changes/).count()).toBe(0);
    await kb.close();
  });

  it('the other views: Test a recipient, History, Audit, Mailboxes, all reachable and accessible', async () => {
    await page.getByRole('tab', { name: 'Test a recipient' }).click();
    await page.getByLabel('RCPT TO:').fill('<victim@elsewhere.example>');
    await page.getByRole('button', { name: 'Test' }).click();
    const result = page.getByRole('region', { name: 'Result' });
    await result.getByText(/^(250|550) /).waitFor();
    expect(await result.locator('[aria-current=step]').count()).toBe(1);
    await expectNoSeriousViolations(page, 'Test a recipient');

    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByRole('grid', { name: 'Versions' }).locator('tbody tr').nth(1).click();
    await page.getByText(/Changes in version/).waitFor();
    await expectNoSeriousViolations(page, 'History');

    await page.getByRole('tab', { name: 'Audit' }).click();
    await page
      .getByRole('table', { name: 'Audit log' })
      .getByText('routing.saved')
      .first()
      .waitFor();
    await expectNoSeriousViolations(page, 'Audit');

    await page.getByRole('tab', { name: 'Mailboxes' }).click();
    await page.getByRole('grid', { name: 'Mailboxes' }).waitFor();
    await expectNoSeriousViolations(page, 'Mailboxes');

    // Usable at 390 px wide.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByRole('tab', { name: 'Routing' }).click();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'routing-tab-390.png'), fullPage: true });
    await context.close();
  });

  it('the IP list, end to end: only 127.0.0.2 relays, once the restart has applied it; the Relay test tab sees the same', async () => {
    const fresh = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const sheet = await signIn(fresh, '/routing');
    const relayFrom = async (localAddress: string) =>
      (
        await sendMail({
          port: smtpPort,
          localAddress,
          from: 'someone@remote.example',
          to: ['victim@elsewhere.example'],
        })
      ).rcpt[0];
    // What runs now (version 2) lets all of 127.0.0.0/8 relay.
    expect(await relayFrom('127.0.0.3')).toMatch(/^250 2\.1\.5 /);

    await sheet.getByRole('button', { name: 'Routing Restrictions...' }).click();
    const dialog = sheet.getByRole('dialog', { name: 'Routing Restrictions' });
    await dialog.waitFor();
    const box = (name: string) => dialog.getByRole('checkbox', { name });
    const setBox = async (name: string, on: boolean) => {
      if ((await box(name).isChecked()) !== on) await label(sheet, name).click();
      expect(await box(name).isChecked()).toBe(on);
    };
    await setBox('Hosts and clients that successfully authenticate', false);
    await setBox('Hosts and clients with these IP addresses', true);
    const clients = dialog.getByRole('group', {
      name: 'Hosts and clients with these IP addresses',
    });
    // Rows are entries; an empty list shows one "(none)" row without aria-selected.
    const entries = clients.locator('tbody tr[aria-selected]');
    while ((await entries.count()) > 0) {
      await entries.first().click();
      await clients.getByRole('button', { name: 'Remove' }).click();
    }
    await clients.getByRole('button', { name: 'Add...' }).click();
    const entry = sheet.getByRole('dialog', { name: 'Add IP address' });
    await entry.getByLabel('IP address:').fill('127.0.0.2');
    await entry.getByLabel('Subnet mask:').fill('255.255.255.255');
    await entry.getByRole('button', { name: 'OK' }).click();
    await dialog.getByRole('button', { name: 'OK' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The impact preview: 127.0.0.3 relayed under what runs, and would now be refused.
    const refused =
      /127\.0\.0\.3 → elsewhere\.example: relayed (once|\d+ times), would now get 550 5\.7\.1/;
    await sheet
      .getByRole('region', { name: 'Impact on recorded traffic' })
      .getByText(refused)
      .waitFor({ timeout: 30_000 });
    await sheet.getByRole('button', { name: 'Apply' }).click();
    // Apply asks only about the refusals a change adds to the version it
    // edits: the saved version (authenticated clients only, since the finding
    // test above, which sees the question) refuses 127.0.0.3 too, so this
    // change, which lets 127.0.0.2 relay, adds no refusal and is saved without
    // it (critical findings, if any, are still asked about).
    const confirm = sheet.getByRole('alertdialog', { name: 'Save with critical findings?' });
    const refusing = sheet.getByRole('alertdialog', { name: 'Apply a change that refuses mail?' });
    const banner = sheet.getByRole('status', { name: 'Internet Mail Service status' });
    const pending = banner.getByText(/take effect only when the Internet Mail Service restarts/);
    await confirm.or(refusing).or(pending).first().waitFor({ timeout: 30_000 });
    if (await confirm.isVisible())
      await confirm.getByRole('button', { name: 'Save anyway' }).click();
    await pending.waitFor({ timeout: 30_000 });
    expect(await refusing.count()).toBe(0);

    // Saved, not applied: the wire has not changed.
    expect(await relayFrom('127.0.0.3')).toMatch(/^250 2\.1\.5 /);

    await banner.getByRole('button', { name: 'Restart now' }).click();
    await banner
      .getByText(/Applied: the Internet Mail Service runs version/)
      .waitFor({ timeout: 30_000 });
    await expect.poll(() => banner.textContent(), { timeout: 10_000 }).toBe('');
    expect(await relayFrom('127.0.0.2')).toMatch(/^250 2\.1\.5 /);
    expect(await relayFrom('127.0.0.3')).toBe('550 5.7.1 Relaying is prohibited');

    // The Relay test tab runs the self-test against that node: from 127.0.0.3 nothing relays.
    await sheet.getByRole('tab', { name: 'Relay test' }).click();
    await sheet.getByLabel('Test from address (optional):').fill('127.0.0.3');
    await sheet.getByRole('button', { name: 'Run relay test' }).click();
    const results = sheet.getByRole('region', { name: 'Relay test results' });
    await results.getByText(/^Passed: 0 of \d+ cases relayed\. Every case as expected\.$/).waitFor({
      timeout: 60_000,
    });
    const rows = results.getByRole('table', { name: 'Relay test cases' }).locator('tbody tr');
    expect(await rows.count()).toBeGreaterThan(10);
    expect(await results.getByText('FAIL', { exact: true }).count()).toBe(0);
    await expectNoSeriousViolations(sheet, 'Relay test');
    // From 127.0.0.2, which may relay, the same battery relays, and the test says why first.
    await sheet.getByLabel('Test from address (optional):').fill('127.0.0.2');
    await sheet.getByRole('button', { name: 'Run relay test' }).click();
    await results
      .getByText(/^Passed: [1-9]\d* of \d+ cases relayed: .* \(the source address may relay\)\./)
      .waitFor({ timeout: 60_000 });
    await results
      .getByRole('note')
      .getByText(/127\.0\.0\.2 may relay/)
      .waitFor();
    await fresh.close();
  });
});
