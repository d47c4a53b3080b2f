/** Test helpers in the fastify/demo style: a fresh app on an in-memory database, closed after the test. */

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { onTestFinished } from 'vitest';
import { type AppOptions, buildApp } from '../app';

export const ADMIN_PASSWORD = 'correct horse battery staple';

/**
 * A cheap scrypt cost for tests (the console's own is OWASP's minimum, about
 * 0.3 s and 128 MiB per hash). Every stored hash carries its cost, so this
 * reaches only the apps a test builds with it.
 */
export const TEST_PASSWORD_COST = Object.freeze({ N: 1024, r: 8, p: 1 });

/**
 * API tests run the console without the web app, whether or not apps/web has
 * been built (a built one answers every unknown page path with index.html).
 */
const NO_WEB_APP = '/nonexistent/ims-web-dist';

export async function build(
  dataDir = ':memory:',
  options: Partial<AppOptions> = {},
): Promise<FastifyInstance> {
  const app = await buildApp({
    dataDir,
    siteDomain: 'example.com',
    adminPassword: ADMIN_PASSWORD,
    webDir: NO_WEB_APP,
    passwordCost: TEST_PASSWORD_COST,
    ...options,
  });
  await app.ready();
  onTestFinished(() => app.close());
  return app;
}

export interface Browser {
  cookie: string;
  csrfToken: string;
  /** Headers for a cookie-authenticated write. */
  write: Record<string, string>;
  read: Record<string, string>;
}

export async function login(app: FastifyInstance): Promise<Browser> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { username: 'admin', password: ADMIN_PASSWORD },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'ims_session');
  if (!cookie) throw new Error('no session cookie');
  const csrfToken = res.json<{ csrfToken: string }>().csrfToken;
  const header = `ims_session=${cookie.value}`;
  return {
    cookie: header,
    csrfToken,
    read: { cookie: header },
    write: { cookie: header, 'x-csrf-token': csrfToken },
  };
}

/** Creates an API token; returns the Authorization header for it. */
export async function token(
  app: FastifyInstance,
  scope: 'read' | 'write',
  name = `${scope}-script`,
) {
  const browser = await login(app);
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: browser.write,
    payload: { name, scope },
  });
  if (res.statusCode !== 201) throw new Error(`token failed: ${res.body}`);
  return { authorization: `Bearer ${res.json<{ token: string }>().token}` };
}

/** Asserts an RFC 9457 problem answer and returns its body. */
export function problem(
  res: LightMyRequestResponse,
  status: number,
  slug: string,
): Record<string, unknown> {
  const body = res.json<Record<string, unknown>>();
  if (res.statusCode !== status || body.type !== `/problems/${slug}`) {
    throw new Error(`expected ${status} ${slug}, got ${res.statusCode}: ${res.body}`);
  }
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${res.headers['content-type']}`);
  }
  return body;
}
