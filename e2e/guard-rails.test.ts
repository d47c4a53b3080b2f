/**
 * The guard rails from draft to running (issue 17 §2), each in Chromium against
 * a real console and a real SMTP node:
 * 1. "Do not reroute" with Routing Restrictions set: the dialog says they apply
 *    only when rerouting, and the wire agrees (they change nothing);
 * 2. "Restart now" with unsaved edits on screen asks "Apply your changes
 *    first?": restart the saved version (the edits stay a draft) or apply
 *    them, then restart;
 * 3. History: the running and saved versions marked, a save made elsewhere
 *    does not move the selection, Restore shows the diff against the saved
 *    version before it is confirmed;
 * 4. a save made by someone else shows in the banner as theirs.
 */

import { join } from 'node:path';
import type { RoutingConfig } from '@ims/routing-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium, seriousViolations, signIn } from './browser';
import { relayAttempt } from './smtp-wire';
import { Stack } from './stack';

let stack: Stack;
let browser: Browser | undefined;
let page: Page;

/** 98.css draws radios and checkboxes on their labels: a person clicks the label. */
const label = (text: string) =>
  page.locator('label').filter({ hasText: new RegExp(`^${text.replace(/[()'.]/g, '\\$&')}$`) });
const banner = () => page.getByRole('status', { name: 'Internet Mail Service status' });

/** Saves as the test's token (someone other than the browser's admin). */
const saveElsewhere = (change: (c: RoutingConfig) => void) => stack.save(change);

/**
 * A known start, whatever a test before left: reroute, the given change,
 * saved and running, and the sheet (reloaded, so no draft) showing it.
 */
async function runningWith(change: (c: RoutingConfig) => void): Promise<number> {
  const version = await stack.save((c) => {
    c.rerouteMode = 'reroute';
    change(c);
  });
  await stack.restart();
  await page.goto(`${stack.url}/routing`);
  await page.getByText(new RegExp(`^Version ${version}, saved by`)).waitFor();
  await expect.poll(() => banner().textContent(), { timeout: 15_000 }).toBe('');
  return version;
}

const expectNoSeriousViolations = async (where: string) => {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
};

beforeAll(async () => {
  ensureWebBuilt();
  stack = await Stack.start();
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await signIn(context, stack.url, stack.adminPassword, '/routing');
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('guard rails from draft to running, in Chromium', () => {
  it('1. "Do not reroute": the Routing Restrictions dialog says they apply only when rerouting, and the wire agrees', async () => {
    await runningWith((c) => {
      c.rerouteMode = 'reroute';
    });
    await label('Do not reroute incoming SMTP mail').click();
    await page.getByRole('button', { name: 'Routing Restrictions...' }).click();
    const dialog = page.getByRole('dialog', { name: 'Routing Restrictions' });
    const note = dialog.getByRole('note').filter({ hasText: 'apply only when rerouting' });
    await note.waitFor();
    expect(await note.textContent()).toMatch(
      /^These restrictions apply only when rerouting\. While "Do not reroute incoming SMTP mail" is chosen no mail is relayed/,
    );
    // At the top of the dialog.
    expect(
      await dialog
        .locator('.window-body > :first-child')
        .evaluate((el) => el.getAttribute('role') === 'note' && el.textContent),
    ).toMatch(/apply only when rerouting/);
    await expectNoSeriousViolations('Routing Restrictions dialog under "Do not reroute"');

    // Let every loopback client relay: under "Do not reroute" that changes nothing.
    await label('Hosts and clients with these IP addresses').click();
    const clients = dialog.getByRole('group', {
      name: 'Hosts and clients with these IP addresses',
    });
    await clients.getByRole('button', { name: 'Add...' }).click();
    const entry = page.getByRole('dialog', { name: 'Add IP address' });
    await entry.getByLabel('IP address:').fill('127.0.0.0');
    await entry.getByLabel('Subnet mask:').fill('255.0.0.0');
    await entry.getByRole('button', { name: 'OK' }).click();
    await dialog.getByRole('button', { name: 'OK' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The advisor says the same on the Routing tab.
    await page
      .getByText(/These restrictions apply only when rerouting/)
      .first()
      .waitFor();

    await page.getByRole('button', { name: 'Apply' }).click();
    await banner().getByRole('button', { name: 'Restart now' }).click();
    await banner()
      .getByText(/Applied: the Internet Mail Service runs version/)
      .waitFor({ timeout: 30_000 });
    // The node runs "Do not reroute" with 127.0.0.0/8 allowed: still no relay.
    expect(await relayAttempt(stack.smtpPort)).toBe('550 5.7.1 Relaying is prohibited');

    // Reroute chosen again: no note, and the same list now lets loopback relay.
    await label('Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)').click();
    await page.getByRole('button', { name: 'Routing Restrictions...' }).click();
    await dialog.waitFor();
    expect(await dialog.getByText(/apply only when rerouting/).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Apply' }).click();
    await banner().getByRole('button', { name: 'Restart now' }).click();
    await banner()
      .getByText(/Applied: the Internet Mail Service runs version/)
      .waitFor({ timeout: 30_000 });
    expect(await relayAttempt(stack.smtpPort)).toMatch(/^250 2\.1\.5 /);
  });

  it('2. Restart now with unsaved edits asks "Apply your changes first?"; "Restart with version N" keeps the edits as a draft', async () => {
    const running = await runningWith((c) => {
      c.routes = c.routes.filter((r) => r.sentTo === c.siteDomain);
    });
    // Edits on screen, on the version the sheet loaded.
    await page.getByRole('button', { name: 'Add...' }).click();
    const add = page.getByRole('dialog', { name: 'Edit Routing Table Entry' });
    await add.getByLabel('E-mail sent to this domain:').fill('draft.example');
    await add.getByRole('button', { name: 'OK' }).click();
    await page.getByText(`Unsaved changes (based on version ${running}).`).waitFor();
    // Someone else saves: a restart is pending, and it would run their version, not the screen.
    const saved = await saveElsewhere((c) => {
      c.routes.push({ sentTo: 'theirs.example', routeTo: '<inbound>' });
    });
    await banner().getByRole('button', { name: 'Restart now' }).waitFor();

    await banner().getByRole('button', { name: 'Restart now' }).click();
    const ask = page.getByRole('alertdialog', { name: 'Apply your changes first?' });
    await ask.waitFor();
    expect(await ask.getByRole('button').allTextContents()).toEqual([
      '',
      'Apply, then restart',
      `Restart with version ${saved}`,
      'Cancel',
    ]);
    await expectNoSeriousViolations('"Apply your changes first?"');
    if (process.env.IMS_SCREENSHOTS)
      await page.screenshot({ path: join(process.env.IMS_SCREENSHOTS, 'apply-first.png') });

    // Cancel: nothing restarts.
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    expect((await stack.service()).targetVersion).toBe(running);

    // Restart with the saved version: the node runs it, the edits stay a draft.
    await banner().getByRole('button', { name: 'Restart now' }).click();
    await ask.getByRole('button', { name: `Restart with version ${saved}` }).click();
    await stack.waitForRunning(saved);
    await banner()
      .getByText(new RegExp(`Applied: the Internet Mail Service runs version ${saved}`))
      .waitFor({ timeout: 30_000 });
    await page.getByText(`Unsaved changes (based on version ${running}).`).waitFor();
    expect(await page.getByRole('grid', { name: 'Routing' }).textContent()).toMatch(
      /draft\.example<inbound>/,
    );
    const routing = await stack.api<{ version: number; config: RoutingConfig }>(
      'GET',
      '/api/v1/routing',
    );
    expect(routing.body.version).toBe(saved);
    expect(routing.body.config.routes.map((r) => r.sentTo)).not.toContain('draft.example');
  });

  it('2. "Apply, then restart" saves the edits on screen, then the node runs them', async () => {
    // The draft of the test before is still on screen; a save elsewhere makes a restart pending.
    const theirs = await saveElsewhere((c) => {
      c.routes.push({ sentTo: 'later.example', routeTo: '<inbound>' });
    });
    await banner().getByRole('button', { name: 'Restart now' }).waitFor();
    await page.getByText(/^Unsaved changes \(based on version/).waitFor();
    await banner().getByRole('button', { name: 'Restart now' }).click();
    const ask = page.getByRole('alertdialog', { name: 'Apply your changes first?' });
    await ask.getByRole('button', { name: 'Apply, then restart' }).click();
    // The draft was based on an older version: the save meets theirs (412), and nothing restarts.
    const conflict = page.getByRole('alertdialog', { name: 'Newer version saved' });
    await conflict.getByText(new RegExp(`Version ${theirs} was saved by`)).waitFor();
    expect((await stack.service()).targetVersion).toBe(theirs - 1);
    await conflict.getByRole('button', { name: 'Re-apply my changes' }).click();
    await page.getByText(new RegExp(`re-applied on top of version ${theirs}`)).waitFor();

    await banner().getByRole('button', { name: 'Restart now' }).click();
    await ask.getByRole('button', { name: 'Apply, then restart' }).click();
    const mine = theirs + 1;
    // "Applied" shows for a few seconds only: watched from the click on, so a
    // slow step below (a loaded machine) cannot make the test miss it.
    const applied = banner()
      .getByText(new RegExp(`Applied: the Internet Mail Service runs version ${mine}`))
      .waitFor({ timeout: 60_000 });
    await page.getByText(new RegExp(`^Version ${mine}, saved by admin`)).waitFor();
    await stack.waitForRunning(mine);
    await applied;
    const bundle = await stack.api<{ version: number; config: RoutingConfig }>(
      'GET',
      `/api/v1/routing/versions/${mine}`,
    );
    expect(bundle.body.config.routes.map((r) => r.sentTo)).toEqual(
      expect.arrayContaining(['draft.example', 'later.example', 'theirs.example']),
    );
  });

  it('3. History marks the running and saved versions, keeps the selection on its version, and Restore shows the diff first', async () => {
    const running = await runningWith((c) => {
      c.routes = c.routes.filter((r) => r.sentTo === c.siteDomain);
    });
    const saved = await saveElsewhere((c) => {
      c.routes.push({ sentTo: 'history.example', routeTo: '<inbound>' });
    });
    await page.getByRole('tab', { name: 'History' }).click();
    const grid = page.getByRole('grid', { name: 'Versions' });
    const firstCells = () => grid.locator('tbody tr td:first-child').allTextContents();
    await expect
      .poll(firstCells, { timeout: 15_000 })
      .toEqual(expect.arrayContaining([`${saved} (saved)`, `${running} (running)`]));
    expect((await firstCells())[0]).toBe(`${saved} (saved)`);

    // Select the running version, then someone saves again: the selection stays on it.
    const row = (version: number) =>
      grid.locator('tbody tr').filter({
        has: page.locator(`td:first-child`, { hasText: new RegExp(`^${version}( |$)`) }),
      });
    await row(running).click();
    expect(await row(running).getAttribute('aria-selected')).toBe('true');
    const newer = await saveElsewhere((c) => {
      c.routes.push({ sentTo: 'newer.example', routeTo: '<inbound>' });
    });
    await expect
      .poll(async () => (await firstCells())[0], { timeout: 15_000 })
      .toBe(`${newer} (saved)`);
    const selected = grid.locator('tbody tr[aria-selected="true"] td:first-child');
    expect(await selected.allTextContents()).toEqual([`${running} (running)`]);
    if (process.env.IMS_SCREENSHOTS)
      await page.screenshot({ path: join(process.env.IMS_SCREENSHOTS, 'history.png') });

    // Restore: the diff against the saved version, before anything is saved.
    await page.getByRole('button', { name: 'Restore' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Restore version' });
    await confirm
      .getByText(
        `Compared with the saved version ${newer}, restoring version ${running} makes these changes:`,
      )
      .waitFor();
    const changes = await confirm.getByRole('listitem').allTextContents();
    expect(changes.join('\n')).toMatch(/history\.example/);
    expect(changes.join('\n')).toMatch(/newer\.example/);
    expect((await stack.api<{ version: number }>('GET', '/api/v1/routing')).body.version).toBe(
      newer,
    );
    await expectNoSeriousViolations('Restore with its diff');
    await confirm.getByRole('button', { name: 'Restore' }).click();
    await page.getByText(`Restored as version ${newer + 1}.`).waitFor();
    const restored = await stack.api<{ config: RoutingConfig }>('GET', '/api/v1/routing');
    expect(restored.body.config.routes.map((r) => r.sentTo)).toEqual(['example.com']);
    await page.getByRole('tab', { name: 'Routing' }).click();
  });

  it('4. a save made by someone else shows in the banner as theirs, not "Changes saved"', async () => {
    await runningWith((c) => {
      c.rejectUnknownRecipients = true;
    });
    const theirs = await saveElsewhere((c) => {
      c.routes.push({ sentTo: 'someone-else.example', routeTo: '<inbound>' });
    });
    // It arrives through the event stream: no reload.
    await banner()
      .getByText(
        new RegExp(
          `^Version ${theirs} saved by token:e2e\\. It takes effect only when the Internet Mail Service restarts\\.$`,
        ),
      )
      .waitFor({ timeout: 15_000 });
    expect(await banner().textContent()).not.toMatch(/Changes saved/);
  });
});
