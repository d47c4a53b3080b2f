/**
 * The web app as a user meets it: the initial JavaScript and CSS the first
 * page load needs (gzip), and in headless Chromium the time from pressing
 * Apply to the pending-restart banner showing, p50 over 20 tries, against the
 * real console and SMTP node.
 *
 *   pnpm --filter @ims/bench-web run bench   (--quick: 3 tries)
 *
 * Builds apps/web/dist first when it is missing (`pnpm --filter @ims/web
 * build`, as a new clone has none); needs Debian's chromium.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '@ims/e2e/browser';
import { Stack } from '@ims/e2e/stack';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const tries = values.quick ? 3 : 20;
const dist = resolve(import.meta.dirname, '../../../apps/web/dist');
if (!existsSync(join(dist, 'index.html'))) {
  console.log('apps/web/dist is missing: building it (pnpm --filter @ims/web build).');
  execFileSync('pnpm', ['--filter', '@ims/web', 'build'], {
    cwd: resolve(import.meta.dirname, '../../..'),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

// What index.html loads up front: its scripts, the chunks it preloads, its stylesheets.
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const gz = (src: string) => gzipSync(readFileSync(join(dist, src.replace(/^\//, '')))).length;
const initial = (re: RegExp) => [...new Set([...html.matchAll(re)].map((m) => m[1] as string))];
const jsBytes = [
  ...initial(/<script[^>]+src="([^"]+\.js)"/g),
  ...initial(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
].reduce((n, f) => n + gz(f), 0);
const cssBytes = initial(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+\.css)"/g).reduce(
  (n, f) => n + gz(f),
  0,
);
console.log(`initial JavaScript: ${(jsBytes / 1024).toFixed(1)} KB gzip (budget 150 KB)`);
console.log(`initial CSS:        ${(cssBytes / 1024).toFixed(1)} KB gzip`);

const stack = await Stack.start();
const browser = await launchChromium();
const times: number[] = [];
try {
  const page = await (
    await browser.newContext({ viewport: { width: 1280, height: 800 } })
  ).newPage();
  await page.goto(`${stack.url}/routing`);
  await page.getByLabel('User name:').fill('admin');
  await page.getByLabel('Password:').fill(stack.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as').waitFor();
  const banner = page.getByRole('status', { name: 'Internet Mail Service status' });
  for (let i = 0; i < tries; i++) {
    // Start from a clear banner: whatever was saved is running.
    await stack.restart();
    const until = Date.now() + 15_000;
    while ((await banner.textContent()) !== '') {
      if (Date.now() > until) throw new Error('the banner did not clear');
      await new Promise((r) => setTimeout(r, 20));
    }
    await page.locator('label', { hasText: /Reject unknown recipients/ }).click();
    const start = performance.now();
    await page.getByRole('button', { name: 'Apply' }).click();
    // A critical finding (recipient rejection off in "Do not reroute") is not in play here.
    await banner.getByText(/take effect only when the Internet Mail Service restarts/).waitFor();
    times.push(performance.now() - start);
  }
} finally {
  await browser.close();
  await stack.stop();
}
const sorted = [...times].sort((a, b) => a - b);
const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
console.log(`Apply → banner shown: p50 ${p50.toFixed(0)} ms over ${tries} tries`);
process.stdout.write(
  `\n${JSON.stringify({
    bench: 'web',
    initialJsKb: +(jsBytes / 1024).toFixed(1),
    initialCssKb: +(cssBytes / 1024).toFixed(1),
    applyToBannerP50Ms: Math.round(p50),
    tries,
  })}\n`,
);
