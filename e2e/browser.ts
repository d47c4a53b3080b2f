/** Debian's Chromium driven by playwright-core, and axe-core run inside the page. */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { childEnv } from '@ims/test-support';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const web = resolve(import.meta.dirname, '../apps/web');

/** The newest modification time under a folder (the web app's sources). */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/** The console serves apps/web/dist: build it when it is missing or older than the sources it tests. */
export function ensureWebBuilt(): void {
  const index = join(web, 'dist/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(join(web, 'src'))) return;
  execFileSync('pnpm', ['--filter', '@ims/web', 'run', 'build'], {
    cwd: resolve(web, '../..'),
    // Vitest sets NODE_ENV=test, which would build React's development bundle
    // (over the size budget, and not what the console serves).
    env: childEnv({ NODE_ENV: 'production' }),
    stdio: 'inherit',
  });
}

/** A new page in `context`, signed in as admin through the sign-in window, on `path`. */
export async function signIn(
  context: BrowserContext,
  url: string,
  password: string,
  path = '/',
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}${path}`);
  await page.getByLabel('User name:').fill('admin');
  await page.getByLabel('Password:').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as').waitFor();
  return page;
}

export const CHROMIUM = process.env.IMS_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

const axeSource = (): string => {
  const require = createRequire(import.meta.url);
  return (require('axe-core') as { source: string }).source;
};

/** Serious and critical axe-core violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated over the DevTools protocol, so the page's CSP (no inline
  // scripts) stays on and is tested along with everything else.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource());
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
