/**
 * API abuse battery (a reliability battery: what a stranger, a wrong credential or a flood can do to the console API), against the console app with
 * its real plugins (buildApp + inject; one case over a real socket):
 *
 * - random bodies: schema-aware random (mostly invalid) bodies for every
 *   write route, taken from the OpenAPI document: never a 5xx, and a 4xx
 *   changes nothing in the database;
 * - injection: SQL, script, template, path, CRLF, NUL, prototype-pollution
 *   and oversized strings in every string field of a valid body, in query
 *   strings and in headers: never a 5xx, the database stays whole;
 * - credentials: every /api/v1 route with no, wrong, revoked, expired and
 *   wrong-scope credentials, and cookie writes without (or with another
 *   session's) CSRF token; login brute force is rate-limited;
 * - oversized and malformed bodies; path traversal on the static files;
 * - security headers and a Content-Security-Policy on the UI;
 * - a scan of everything logged (at trace level) for every secret used.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApiClient, type NodeRequest } from '@ims/api-client';
import { battery } from '@ims/reliability';
import { defaultConfig } from '@ims/routing-core';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { TEST_PASSWORD_COST } from './testing/helper';

const record = battery({
  id: 'api-abuse',
  title: 'API abuse battery: random bodies, injection, credentials, traversal, headers, logs',
  deliverable: 5,
  file: import.meta.filename,
});

const ADMIN_PASSWORD = 'api abuse admin password';
const MAILBOX_PASSWORD = 'mailbox password for abuse';
const WRONG_PASSWORDS = ['wrong password 1', 'guess-number-two'];
const SECRET_FILE_TEXT = 'TOP-SECRET-OUTSIDE-THE-WEB-ROOT';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: Json[];
  const?: Json;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  format?: string;
}

const lines: string[] = [];
let app: FastifyInstance;
let root = '';
const secrets: Record<string, string> = {};
let writeAuth: Record<string, string>;
let readAuth: Record<string, string>;
let nodeAuth: Record<string, string>;
let browser: { cookie: string; csrf: string };
let other: { cookie: string; csrf: string };
let sacrificial: { mailbox: number; token: number; node: number };

async function login(
  password = ADMIN_PASSWORD,
  remoteAddress = '127.0.0.1',
): Promise<{ cookie: string; csrf: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    remoteAddress,
    payload: { username: 'admin', password },
  });
  expect(res.statusCode).toBe(200);
  const value = res.cookies.find((c) => c.name === 'ims_session')?.value ?? '';
  return { cookie: `ims_session=${value}`, csrf: res.json<{ csrfToken: string }>().csrfToken };
}

async function post(url: string, payload: unknown, headers: Record<string, string>) {
  return app.inject({ method: 'POST', url, payload: payload as InjectOptions['payload'], headers });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ims-abuse-'));
  const webDir = join(root, 'web');
  mkdirSync(join(webDir, 'assets'), { recursive: true });
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>IMS</title>');
  writeFileSync(join(webDir, 'assets', 'app.js'), 'console.log("app")');
  writeFileSync(join(root, 'secret.txt'), SECRET_FILE_TEXT);
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  app = await buildApp({
    passwordCost: TEST_PASSWORD_COST,
    dataDir: ':memory:',
    siteDomain: 'example.com',
    adminPassword: ADMIN_PASSWORD,
    webDir,
    logger: { level: 'trace', stream },
    // The Queues routes wait this long for a node's answer (the flood case waits it out).
    requestTimeoutMs: 1500,
  });
  await app.ready();
  browser = await login();
  other = await login();
  const w = write();
  const token = async (name: string, scope: string) => {
    const res = await post('/api/v1/tokens', { name, scope }, w);
    expect(res.statusCode).toBe(201);
    return res.json<{ id: number; token: string }>();
  };
  const writeToken = await token('abuse-write', 'write');
  const readToken = await token('abuse-read', 'read');
  const doomed = await token('abuse-victim', 'write');
  const revoked = await token('abuse-revoked', 'write');
  expect(
    (await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${revoked.id}`, headers: w }))
      .statusCode,
  ).toBe(204);
  writeAuth = { authorization: `Bearer ${writeToken.token}` };
  readAuth = { authorization: `Bearer ${readToken.token}` };
  // Node tokens are minted only by a signed-in user (issue 13 item 10).
  const node = await post('/api/v1/nodes', { name: 'abuse-node' }, w);
  const victimNode = await post('/api/v1/nodes', { name: 'abuse-victim-node' }, w);
  nodeAuth = { authorization: `Bearer ${node.json<{ token: string }>().token}` };
  const mailbox = await post(
    '/api/v1/directory/mailboxes',
    { address: 'victim@example.com', displayName: 'Victim', password: MAILBOX_PASSWORD },
    writeAuth,
  );
  expect(mailbox.statusCode).toBe(201);
  sacrificial = {
    mailbox: mailbox.json<{ id: number }>().id,
    token: doomed.id,
    node: victimNode.json<{ id: number }>().id,
  };
  Object.assign(secrets, {
    admin: ADMIN_PASSWORD,
    mailbox: MAILBOX_PASSWORD,
    wrong1: WRONG_PASSWORDS[0],
    wrong2: WRONG_PASSWORDS[1],
    writeToken: writeToken.token,
    readToken: readToken.token,
    doomedToken: doomed.token,
    revokedToken: revoked.token,
    nodeToken: node.json<{ token: string }>().token,
    victimNodeToken: victimNode.json<{ token: string }>().token,
    cookie: browser.cookie.split('=')[1] ?? '',
    otherCookie: other.cookie.split('=')[1] ?? '',
    csrf: browser.csrf,
    otherCsrf: other.csrf,
  });
  (globalThis as Record<string, unknown>).__revokedToken = revoked.token;
}, 60_000);

afterAll(async () => {
  await app?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const write = () => ({ cookie: browser.cookie, 'x-csrf-token': browser.csrf });

/** The database as it stands, less what changes on every request (a token's last use, failed-login audit rows). */
function snapshot(): string {
  const tables = (
    app.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((t) => t.name);
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    let rows = app.db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all() as Record<
      string,
      unknown
    >[];
    if (t === 'tokens') rows = rows.map(({ last_used_at: _, ...r }) => r);
    if (t === 'audit_log')
      rows = rows.filter((r) => r.action !== 'login.failed' && r.action !== 'password.failed');
    // The latest rollout moves with the clock too (a node that does not answer
    // in time halts it), not only with requests; what a restart request
    // changes is in service_state, nodes and the audit log.
    if (t === 'rollouts') rows = [];
    // A session's last request is written down (at most once a minute).
    if (t === 'sessions') rows = rows.map(({ last_seen_at: _, ...r }) => r);
    out[t] = rows;
  }
  return JSON.stringify(out);
}

function integrityOk(): void {
  expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
  for (const t of ['users', 'tokens', 'config_versions', 'audit_log', 'mailboxes', 'nodes'])
    expect(() => app.db.prepare(`SELECT count(*) FROM ${t}`).get(), t).not.toThrow();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((Object.prototype as Record<string, unknown>).isAdmin).toBeUndefined();
}

/** A 4xx is problem+json and names its status. */
function problemOk(res: LightMyRequestResponse): void {
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.json<{ status: number }>().status).toBe(res.statusCode);
}

// ---- schema-aware random bodies ------------------------------------------------

const INJECTIONS: string[] = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  '1; SELECT * FROM tokens',
  "admin'--",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  '${7*7}',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  'x\u0000y',
  'x\r\nSet-Cookie: pwned=1',
  'x\r\n.\r\nMAIL FROM:<a@b.example>',
  '__proto__',
  '$(id)',
  '`id`',
  '%s%s%s%n',
  '\u202egnp.exe',
  '\ud800',
  '😀'.repeat(50),
  'A'.repeat(100_000),
  '',
  ' ',
];

function arb(schema: Schema | undefined, depth = 0): fc.Arbitrary<Json> {
  const anything = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  if (!schema || depth > 5) return anything;
  const typed = typedArb(schema, depth);
  // Mostly the right shape, sometimes anything at all.
  return fc.oneof({ weight: 8, arbitrary: typed }, { weight: 1, arbitrary: anything });
}

function typedArb(schema: Schema, depth: number): fc.Arbitrary<Json> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => arb(s, depth + 1)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(props).map(([k, s]) =>
        fc.tuple(fc.constant(k), arb(s, depth + 1), fc.integer({ min: 0, max: 9 })),
      );
      return fc
        .tuple(
          fc.tuple(
            ...(entries.length > 0
              ? entries
              : [fc.constant<[string, Json, number]>(['', null, 0])]),
          ),
          fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'constructor'), fc.jsonValue())),
        )
        .map(([values, extra]) => {
          const o: Record<string, Json> = {};
          for (const [k, v, dice] of values as [string, Json, number][]) {
            if (k === '') continue;
            // Required fields are sometimes missing, optional ones often absent.
            if (required.has(k) ? dice === 0 : dice < 4) continue;
            o[k] = v;
          }
          if (extra) o[extra[0]] = extra[1] as Json;
          return o;
        });
    }
    case 'array':
      return fc.array(arb(schema.items, depth + 1), {
        maxLength: Math.min(schema.maxItems ?? 6, 6),
      });
    case 'string':
      return fc.oneof(
        fc.string({ maxLength: schema.maxLength ? Math.min(schema.maxLength + 2, 80) : 40 }),
        fc.constantFrom(
          ...INJECTIONS,
          'example.com',
          '<inbound>',
          '127.0.0.1',
          '255.255.255.0',
          '24',
        ),
        fc.domain(),
        fc.ipV4(),
        fc.emailAddress(),
      );
    case 'integer':
      return fc.oneof(
        fc.integer({ min: -10, max: 10_000 }),
        fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER),
      );
    case 'number':
      return fc.oneof(fc.double({ noNaN: true }), fc.constant(0));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

interface WriteRoute {
  method: string;
  path: string;
  body?: Schema;
  params: string[];
  ifMatch: boolean;
}

function writeRoutes(): WriteRoute[] {
  const doc = app.swagger() as unknown as {
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody?: { content?: { 'application/json'?: { schema?: Schema } } };
          parameters?: { name: string; in: string }[];
        }
      >
    >;
  };
  const routes: WriteRoute[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
      routes.push({
        method: method.toUpperCase(),
        path,
        ...(op.requestBody?.content?.['application/json']?.schema
          ? { body: op.requestBody.content['application/json'].schema }
          : {}),
        params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        ifMatch: (op.parameters ?? []).some((p) => p.name === 'if-match'),
      });
    }
  }
  return routes;
}

/** Routes only a signed-in user may use (a token gets 403): minting credentials, the password. */
const SESSION_ONLY = new Set(['/api/v1/tokens', '/api/v1/nodes', '/api/v1/session/password']);

function authFor(path: string): Record<string, string> {
  if (SESSION_ONLY.has(path)) return write();
  return path.startsWith('/api/v1/node/') ? nodeAuth : writeAuth;
}

describe('random bodies to every write route', () => {
  it('only 4xx (problem+json) or a legitimate 2xx, never 5xx; a 4xx changes nothing', async () => {
    const routes = writeRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(15);
    const etag = () => String(app.routingVersions.current().version);
    // Only the sacrificial object of each kind: the fixtures this test runs on stay.
    const idArb = (path: string) =>
      fc.oneof(
        fc.constant(
          String(
            path.includes('/tokens')
              ? sacrificial.token
              : path.includes('/nodes')
                ? sacrificial.node
                : path.includes('/mailboxes')
                  ? sacrificial.mailbox
                  : 1,
          ),
        ),
        fc.integer({ min: 100, max: 2 ** 40 }).map(String),
        fc.constantFrom(
          '0',
          '-1',
          'abc',
          '1.5',
          '1e3',
          '..%2f..',
          '%00',
          "1' OR '1'='1",
          '9'.repeat(40),
        ),
      );
    const statuses: Record<number, number> = {};
    for (const route of routes) {
      const runs = route.path.includes('mailboxes') || route.path === '/api/v1/session' ? 25 : 60;
      let tried = 0;
      let passed = 0;
      await fc
        .assert(
          fc.asyncProperty(
            arb(route.body),
            fc.array(idArb(route.path), {
              minLength: route.params.length,
              maxLength: route.params.length,
            }),
            fc.constantFrom('current', '*', 'stale', 'garbage', 'none'),
            fc.integer({ min: 1, max: 250 }),
            async (body, ids, ifMatch, client) => {
              tried++;
              // Never the fixtures this test runs on: nodes and tokens it uses stay.
              let url = route.path;
              route.params.forEach((p, i) => {
                url = url.replace(`{${p}}`, encodeURIComponent(ids[i] ?? '1'));
              });
              const headers: Record<string, string> = {
                ...authFor(route.path),
                'content-type': 'application/json',
              };
              if (route.ifMatch && ifMatch !== 'none')
                headers['if-match'] =
                  ifMatch === 'current'
                    ? `"v${etag()}"`
                    : ifMatch === '*'
                      ? '*'
                      : ifMatch === 'stale'
                        ? '"v0"'
                        : 'W/"garbage\u00ff"';
              const before = snapshot();
              const res = await app.inject({
                method: route.method as InjectOptions['method'],
                url,
                headers,
                remoteAddress: `10.1.0.${client}`,
                payload: JSON.stringify(body),
              });
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              // A route that asks a node answers 503 when that node is offline
              // (its documented answer, like 504 for a silent one); nothing else
              // may be a 5xx.
              const nodeOffline =
                (route.path.startsWith('/api/v1/service/queue/') ||
                  route.path === '/api/v1/routing/impact') &&
                res.statusCode === 503 &&
                res.json().type === '/problems/node-offline';
              if (!nodeOffline) {
                expect(
                  res.statusCode,
                  `${route.method} ${url}: ${res.body.slice(0, 300)}`,
                ).toBeLessThan(500);
              }
              if (res.statusCode >= 400) {
                problemOk(res);
                expect(snapshot(), `${route.method} ${url} ${res.statusCode} changed state`).toBe(
                  before,
                );
              }
              passed++;
            },
          ),
          { numRuns: runs },
        )
        .finally(() => {
          record.recordRuns(`random ${route.method} ${route.path}`, tried, passed, 'random bodies');
        });
    }
    record.note(
      `random bodies to ${routes.length} write routes; answers by status: ${Object.entries(statuses)
        .map(([k, v]) => `${k}×${v}`)
        .join(', ')}.`,
    );
    integrityOk();
  }, 300_000);
});

// ---- injection in every string field ------------------------------------------

/** Every JSON Pointer to a string in `value`. */
function stringPointers(value: unknown, at = ''): string[] {
  if (typeof value === 'string') return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringPointers(v, `${at}/${i}`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringPointers(v, `${at}/${k}`));
  return [];
}

function setAt(value: unknown, pointer: string, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = pointer.split('/').slice(1);
  let cursor: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) cursor = cursor[k] as Record<string, unknown>;
  cursor[keys.at(-1) as string] = replacement;
  return copy;
}

function richConfig() {
  const c = defaultConfig('example.com');
  c.routes.push({ sentTo: 'partner.example', routeTo: 'mail.partner.example:2525' });
  c.restrictions.clientAddresses = {
    enabled: true,
    entries: [{ ip: '192.168.1.0', mask: '255.255.255.0' }],
  };
  c.restrictions.neverRoute = [{ ip: '10.9.9.9', mask: '255.255.255.255' }];
  return c;
}

describe('injection strings in every string field, query string and header', () => {
  it('never a 5xx; the database stays whole; nothing comes back as HTML', async () => {
    const bases: {
      method: 'POST' | 'PUT' | 'PATCH';
      url: () => string;
      body: unknown;
      auth?: () => Record<string, string>;
      ifMatch?: boolean;
    }[] = [
      {
        method: 'POST',
        url: () => '/api/v1/session',
        body: { username: 'admin', password: 'x' },
        auth: () => ({}),
      },
      { method: 'POST', url: () => '/api/v1/tokens', body: { name: 'inj', scope: 'read' } },
      {
        method: 'PUT',
        url: () => '/api/v1/routing',
        body: { config: richConfig(), comment: 'c', acknowledge: ['open-relay'] },
        ifMatch: true,
      },
      {
        method: 'POST',
        url: () => '/api/v1/routing/versions/1/restore',
        body: { acknowledge: ['x'] },
        ifMatch: true,
      },
      { method: 'POST', url: () => '/api/v1/routing/advice', body: { config: richConfig() } },
      {
        method: 'POST',
        url: () => '/api/v1/routing/evaluate',
        body: {
          against: 'draft',
          config: richConfig(),
          clientIp: '192.0.2.1',
          serverIp: '127.0.0.1',
          authenticated: false,
          mailFrom: '<a@remote.example>',
          rcptTo: '<v@partner.example>',
        },
      },
      {
        method: 'POST',
        url: () => '/api/v1/directory/mailboxes',
        body: { address: 'inj@example.com', displayName: 'Inj', password: 'long enough password' },
      },
      {
        method: 'PATCH',
        url: () => `/api/v1/directory/mailboxes/${sacrificial.mailbox}`,
        body: { displayName: 'Renamed' },
      },
      { method: 'POST', url: () => '/api/v1/nodes', body: { name: 'inj-node' } },
      {
        method: 'PUT',
        url: () => '/api/v1/node/status',
        body: {
          runningVersion: 1,
          state: 'running',
          lastError: 'x',
          listen: ['127.0.0.1:2525'],
          startedAt: new Date().toISOString(),
          counters: { sessions: 1 },
        },
        auth: () => nodeAuth,
      },
      { method: 'POST', url: () => '/api/v1/service/relay-test', body: { from: '127.0.0.1' } },
    ];
    let n = 0;
    const check = async (id: string, res: LightMyRequestResponse) => {
      await record.check(
        id,
        () => {
          expect(res.statusCode, `${id}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
          expect(String(res.headers['content-type'] ?? '')).not.toMatch(/html/);
          if (res.statusCode >= 400) problemOk(res);
        },
        'injection',
      );
    };
    for (const base of bases) {
      const pointers = [...stringPointers(base.body), '/__proto__', '/constructor'];
      for (const pointer of pointers) {
        const values: unknown[] =
          pointer === '/__proto__'
            ? [{ polluted: true, isAdmin: true }]
            : pointer === '/constructor'
              ? [{ prototype: { polluted: true } }]
              : INJECTIONS;
        for (const value of values) {
          n++;
          const payload =
            pointer === '/__proto__' || pointer === '/constructor'
              ? `{"${pointer.slice(1)}":${JSON.stringify(value)},${JSON.stringify(base.body).slice(1)}`
              : JSON.stringify(setAt(base.body, pointer, value));
          const res = await app.inject({
            method: base.method,
            url: base.url(),
            remoteAddress: `10.2.${n >> 8}.${n & 255}`,
            headers: {
              ...(base.auth?.() ?? authFor(base.url())),
              'content-type': 'application/json',
              ...(base.ifMatch ? { 'if-match': '*' } : {}),
            },
            payload,
          });
          await check(
            `${base.method} ${base.url().replace(/\d+$/, ':id')} ${pointer} #${INJECTIONS.indexOf(value as string)}`,
            res,
          );
        }
      }
    }
    // Query strings of read routes, and the headers the server reads.
    const enc = (v: string) => encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd'));
    const reads = [
      (v: string) => `/api/v1/audit?action=${enc(v)}&actor=${enc(v)}`,
      (v: string) => `/api/v1/audit?action=${enc(v)}.&signIns=${enc(v)}`,
      (v: string) => `/api/v1/routing/diff?from=${enc(v)}&to=1`,
      (v: string) => `/api/v1/routing/versions?limit=${enc(v)}`,
      (v: string) => `/api/v1/routing/versions/${enc(v)}`,
      (v: string) => `/api/v1/directory/mailboxes/${enc(v)}`,
    ];
    for (const [r, url] of reads.entries()) {
      for (const [i, v] of INJECTIONS.entries()) {
        const res = await app.inject({ method: 'GET', url: url(v), headers: readAuth });
        await check(`GET query ${r} #${i}`, res);
      }
    }
    for (const [i, v] of INJECTIONS.entries()) {
      const safe = v.replace(/[^\x20-\x7e]/g, '?');
      const headers: Record<string, string>[] = [
        { ...writeAuth, 'if-match': safe },
        { authorization: `Bearer ${safe}` },
        { cookie: `ims_session=${enc(v)}`, 'x-csrf-token': safe },
      ];
      for (const [h, hs] of headers.entries()) {
        const res = await app.inject({
          method: 'PUT',
          url: '/api/v1/routing',
          headers: { ...hs, 'content-type': 'application/json' },
          payload: { config: richConfig() },
        });
        await check(`header ${h} #${i}`, res);
        if (h > 0) expect(res.statusCode).toBe(401);
      }
    }
    integrityOk();
    expect(app.db.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 1 });
  }, 300_000);
});

// ---- the audit log's query parameters -------------------------------------------

describe('the audit query: action families and signIns', () => {
  it('refuses what is not a boolean or too long with 400, and a family is a prefix, never a pattern', async () => {
    const get = (query: string) =>
      app.inject({ method: 'GET', url: `/api/v1/audit?${query}`, headers: readAuth });
    for (const query of [
      'signIns=yes',
      'signIns=',
      'signIns=1e9',
      'signIns=true&signIns=false',
      `action=${'a'.repeat(100)}.`,
      `action=${'routing.'.repeat(20)}`,
    ]) {
      const res = await get(query);
      expect(res.statusCode, `${query}: ${res.body.slice(0, 200)}`).toBe(400);
      problemOk(res);
    }
    // LIKE and GLOB wildcards, a lone dot, and SQL in a family match nothing.
    for (const family of ['%.', '_.', '*.', '.', '%25.', "routing.' OR 1=1 --.", '[a-z]%.']) {
      const res = await get(`action=${encodeURIComponent(family)}&limit=500`);
      expect(res.statusCode, family).toBe(200);
      expect(res.json<{ entries: unknown[] }>().entries, family).toEqual([]);
    }
    const all = await get('limit=500');
    const families = await get('action=routing.&limit=500');
    expect(
      families
        .json<{ entries: { action: string }[] }>()
        .entries.every((e) => e.action.startsWith('routing.')),
    ).toBe(true);
    expect(all.statusCode).toBe(200);
  });
});

// ---- credentials ---------------------------------------------------------------

describe('credentials: missing, wrong, revoked, expired, wrong scope, no CSRF', () => {
  it('every /api/v1 route refuses them with 401 or 403, and nothing changes', async () => {
    // An expired browser session: signed in, then its expiry moved into the past.
    const expired = await login();
    const hash = createHash('sha256')
      .update(expired.cookie.split('=')[1] ?? '')
      .digest('hex');
    app.db
      .prepare('UPDATE sessions SET expires_at = ? WHERE id_hash = ?')
      .run('2000-01-01T00:00:00.000Z', hash);
    // A signed-out session.
    const gone = await login();
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: '/api/v1/session',
          headers: { cookie: gone.cookie, 'x-csrf-token': gone.csrf },
        })
      ).statusCode,
    ).toBe(204);
    const revoked = (globalThis as Record<string, unknown>).__revokedToken as string;
    // A token past its expiresAt (issue 13 item 10).
    const expiring = await post(
      '/api/v1/tokens',
      { name: 'abuse-expiring', scope: 'write', expiresIn: 60 },
      write(),
    );
    expect(expiring.statusCode).toBe(201);
    app.db
      .prepare('UPDATE tokens SET expires_at = ? WHERE id = ?')
      .run('2000-01-01T00:00:00.000Z', expiring.json<{ id: number }>().id);
    // A token made in a session that was then revoked: it goes with the session.
    const doomedSession = await login();
    const orphan = await post(
      '/api/v1/tokens',
      { name: 'abuse-orphan', scope: 'write' },
      { cookie: doomedSession.cookie, 'x-csrf-token': doomedSession.csrf },
    );
    expect(orphan.statusCode).toBe(201);
    const sessionId = (
      await app.inject({
        method: 'GET',
        url: '/api/v1/sessions',
        headers: { cookie: doomedSession.cookie },
      })
    )
      .json<{ sessions: { id: string; current: boolean }[] }>()
      .sessions.find((x) => x.current)?.id;
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/api/v1/sessions/${sessionId}`,
          headers: write(),
        })
      ).statusCode,
    ).toBe(200);
    secrets.expiredToken = expiring.json<{ token: string }>().token;
    secrets.orphanToken = orphan.json<{ token: string }>().token;
    const routes = app.registeredRoutes.filter(
      (r) =>
        r.url.startsWith('/api/v1/') &&
        r.method !== 'HEAD' &&
        !(r.url === '/api/v1/session' && r.method === 'POST'),
    );
    const credentials: [string, Record<string, string>][] = [
      ['none', {}],
      ['garbage bearer', { authorization: 'Bearer not-a-token' }],
      ['empty bearer', { authorization: 'Bearer ' }],
      [
        'basic scheme',
        { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
      ],
      ['revoked token', { authorization: `Bearer ${revoked}` }],
      [
        'token with a changed letter',
        { authorization: `Bearer ${secrets.writeToken?.slice(0, -1)}x` },
      ],
      ['expired session', { cookie: expired.cookie, 'x-csrf-token': expired.csrf }],
      ['signed-out session', { cookie: gone.cookie, 'x-csrf-token': gone.csrf }],
      ['expired token', { authorization: `Bearer ${secrets.expiredToken}` }],
      ['token of a revoked session', { authorization: `Bearer ${secrets.orphanToken}` }],
      ['revoked session', { cookie: doomedSession.cookie, 'x-csrf-token': doomedSession.csrf }],
      ['forged cookie', { cookie: 'ims_session=forged', 'x-csrf-token': 'forged' }],
    ];
    const before = snapshot();
    for (const route of routes) {
      const url = route.url.replace(/:(\w+)/g, '1');
      const isNode = route.url.startsWith('/api/v1/node/');
      const isWrite = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method);
      const readOnlyPost = [
        '/api/v1/routing/advice',
        '/api/v1/routing/evaluate',
        '/api/v1/routing/impact',
      ].includes(route.url);
      const cases: [string, Record<string, string>, number][] = credentials.map(([n, h]) => [
        n,
        h,
        401,
      ]);
      if (isNode) {
        cases.push(['a user write token on the node API', writeAuth, 401]);
        cases.push(['a session cookie on the node API', write(), 401]);
      } else {
        cases.push(['a node token', nodeAuth, 403]);
        if (SESSION_ONLY.has(route.url) && isWrite) {
          cases.push(['a write token (a session only)', writeAuth, 403]);
        }
        if (isWrite && !readOnlyPost) {
          cases.push(['a read token', readAuth, 403]);
          cases.push(['a cookie without CSRF', { cookie: browser.cookie }, 403]);
          cases.push([
            'a cookie with a wrong CSRF',
            { cookie: browser.cookie, 'x-csrf-token': 'wrong' },
            403,
          ]);
          cases.push([
            "a cookie with another session's CSRF",
            { cookie: browser.cookie, 'x-csrf-token': other.csrf },
            403,
          ]);
        }
      }
      for (const [name, headers, status] of cases) {
        await record.check(
          `${route.method} ${route.url}: ${name}`,
          async () => {
            const res = await app.inject({
              method: route.method as InjectOptions['method'],
              url,
              headers: { ...headers, 'content-type': 'application/json' },
              payload: '{}',
            });
            expect(res.statusCode, `${route.method} ${url} with ${name}`).toBe(status);
            problemOk(res);
          },
          'credentials',
        );
      }
    }
    expect(snapshot()).toBe(before);
  }, 120_000);

  it('login brute force is throttled per address; the right password waits too from that address; unknown users look the same', async () => {
    await record.check(
      'login brute force',
      async () => {
        const attempt = (password: string, username = 'admin', remoteAddress = '10.3.0.1') =>
          app.inject({
            method: 'POST',
            url: '/api/v1/session',
            remoteAddress,
            payload: { username, password },
          });
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++)
          statuses.push((await attempt(WRONG_PASSWORDS[i % 2] as string)).statusCode);
        expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
        expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
        const locked = await attempt(ADMIN_PASSWORD);
        expect(locked.statusCode).toBe(429);
        // A forged X-Forwarded-For does not make the same client someone else.
        const forged = await app.inject({
          method: 'POST',
          url: '/api/v1/session',
          remoteAddress: '10.3.0.1',
          headers: { 'x-forwarded-for': '203.0.113.77', 'x-real-ip': '203.0.113.78' },
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        });
        expect(forged.statusCode).toBe(429);
        expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
        // Another address is not locked out; an unknown user gets the same answer as a wrong password.
        const unknown = await attempt('whatever', 'nobody', '10.3.0.2');
        const wrong = await attempt('whatever', 'admin', '10.3.0.3');
        expect(unknown.statusCode).toBe(401);
        expect(unknown.json<{ type: string; detail?: string }>()).toMatchObject({
          type: wrong.json<{ type: string }>().type,
          detail: wrong.json<{ detail?: string }>().detail,
        });
        expect((await attempt(ADMIN_PASSWORD, 'admin', '10.3.0.4')).statusCode).toBe(200);
      },
      'credentials',
    );
  }, 60_000);
});

// ---- the console's edge: Host names, forwarded headers, guesses from many addresses ----

describe("the console's edge (issue 13, items 7-9)", () => {
  const REBINDING_HOSTS = [
    'evil.example',
    'evil.example:8080',
    'localhost.evil.example',
    '127.0.0.1.nip.io',
    'localhost@evil.example',
    '[::2]:8080',
    '0.0.0.0',
    'localhos',
    'xn--localhost-.example',
    `${'a'.repeat(300)}.example`,
  ];

  it('wrong Host: every route (health and metrics too) answers 421 problem+json and changes nothing', async () => {
    const before = snapshot();
    const targets = [
      ...new Map(
        app.registeredRoutes
          .filter((r) => r.method !== 'HEAD')
          .map((r) => [`${r.method} ${r.url}`, r] as const),
      ).values(),
    ];
    for (const route of targets) {
      const url = route.url.replace(/:(\w+)/g, '1').replace(/\*$/, 'index.html');
      for (const host of REBINDING_HOSTS) {
        await record.check(
          `${route.method} ${route.url} with Host ${host.slice(0, 40)}`,
          async () => {
            const res = await app.inject({
              method: route.method as InjectOptions['method'],
              url,
              headers: { ...writeAuth, host, 'content-type': 'application/json', 'if-match': '*' },
              ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{}' }),
            });
            expect(res.statusCode, `${route.method} ${url} Host ${host}`).toBe(421);
            problemOk(res);
            expect(res.json<{ type: string }>().type).toBe('/problems/misdirected-request');
          },
          'wrong Host',
        );
      }
    }
    await record.check(
      'sign-in with a rebinding Host is refused before the password is checked',
      async () => {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/session',
          remoteAddress: '10.6.0.1',
          headers: { host: 'evil.example' },
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        });
        expect(res.statusCode).toBe(421);
        expect(res.headers['set-cookie']).toBeUndefined();
      },
      'wrong Host',
    );
    expect(snapshot()).toBe(before);
  }, 120_000);

  it('spoofed X-Forwarded-For/-Proto/-Host without a trusted proxy: the peer is the client', async () => {
    const spoofs: [string, Record<string, string>][] = [
      ['X-Forwarded-For', { 'x-forwarded-for': '203.0.113.50' }],
      ['X-Forwarded-For list', { 'x-forwarded-for': '203.0.113.51, 198.51.100.1' }],
      ['X-Real-IP', { 'x-real-ip': '203.0.113.52' }],
      ['Forwarded', { forwarded: 'for=203.0.113.53;proto=https;host=evil.example' }],
      ['True-Client-IP', { 'true-client-ip': '203.0.113.54' }],
      ['X-Forwarded-For IPv6', { 'x-forwarded-for': '2001:db8::54' }],
      ['X-Forwarded-For garbage', { 'x-forwarded-for': "'; DROP TABLE users; --" }],
    ];
    const peer = '10.7.0.1';
    // The peer fails five times: it is throttled whatever it claims to be.
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        remoteAddress: peer,
        headers: { 'x-forwarded-for': `203.0.113.${100 + i}` },
        payload: { username: 'nobody-here', password: 'x' },
      });
      expect(res.statusCode).toBe(401);
    }
    const sources = app.db
      .prepare(
        "SELECT DISTINCT source FROM audit_log WHERE action = 'login.failed' AND source LIKE '203.0.113.%'",
      )
      .all();
    await record.check(
      'X-Forwarded-For never reaches the audit log',
      () => expect(sources).toEqual([]),
      'spoofed X-Forwarded-For',
    );
    for (const [name, headers] of spoofs) {
      await record.check(
        `${name}: still throttled as the peer`,
        async () => {
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/session',
            remoteAddress: peer,
            headers,
            payload: { username: 'admin', password: ADMIN_PASSWORD },
          });
          expect(res.statusCode).toBe(429);
          problemOk(res);
          expect(res.json<{ retryAfter: number }>().retryAfter).toBeGreaterThan(0);
        },
        'spoofed X-Forwarded-For',
      );
      await record.check(
        `${name} and X-Forwarded-Proto https: no __Host- or Secure cookie on plain HTTP, no HSTS`,
        async () => {
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/session',
            remoteAddress: `10.7.1.${spoofs.findIndex(([n]) => n === name) + 1}`,
            headers: {
              ...headers,
              'x-forwarded-proto': 'https',
              'x-forwarded-host': 'evil.example',
            },
            payload: { username: 'admin', password: ADMIN_PASSWORD },
          });
          expect(res.statusCode).toBe(200);
          const cookie = String(res.headers['set-cookie']);
          expect(cookie).toMatch(/^ims_session=/);
          expect(cookie).not.toMatch(/Secure/i);
          expect(res.headers['strict-transport-security']).toBeUndefined();
          const row = app.db
            .prepare("SELECT source FROM audit_log WHERE action = 'login' ORDER BY id DESC LIMIT 1")
            .get() as { source: string };
          expect(row.source).toMatch(/^10\.7\.1\./);
        },
        'spoofed X-Forwarded-For',
      );
    }
  });

  it('brute force over many addresses: the account counter throttles it; the administrator still signs in', async () => {
    const statuses: number[] = [];
    const guess = (i: number, round: number) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/session',
        remoteAddress: `10.8.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        payload: { username: 'admin', password: `guess ${round}-${i}` },
      });
    // 20 addresses, three guesses each: no address ever reaches its own limit.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) statuses.push((await guess(i, round)).statusCode);
    }
    const checked = statuses.filter((s) => s === 401).length;
    await record.check(
      'guesses over 20 addresses: at most the free ones plus one per fresh address are checked',
      () => {
        expect(checked).toBeLessThanOrEqual(10 + 20);
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(60 - 20 - 10);
        expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      },
      'brute force over many addresses',
    );
    await record.check(
      'an address that guessed stays throttled for the account, even with the right password',
      async () => {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/session',
          remoteAddress: '10.8.0.7',
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        });
        expect(res.statusCode).toBe(429);
        expect(Number(res.headers['retry-after'])).toBe(
          res.json<{ retryAfter: number }>().retryAfter,
        );
      },
      'brute force over many addresses',
    );
    await record.check(
      'IPv6 guesses from one /64 count as one client',
      async () => {
        const v6: number[] = [];
        for (let i = 1; i <= 8; i++) {
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/session',
            remoteAddress: `2001:db8:77:1::${i.toString(16)}`,
            payload: { username: 'nobody-v6', password: 'x' },
          });
          v6.push(res.statusCode);
        }
        expect(v6.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
        expect(v6.slice(5)).toEqual([429, 429, 429]);
      },
      'brute force over many addresses',
    );
    await record.check(
      'the administrator, from an address with no failures, signs in all the same',
      async () => {
        await login(ADMIN_PASSWORD, '10.9.0.1');
      },
      'brute force over many addresses',
    );
  }, 300_000);
});

// ---- accounts: password change, sessions, sign-in body (issue 13 items 10, 11) ----

describe('accounts: the password, sessions and the sign-in body', () => {
  it('guessing the current password through a stolen session stops after five tries, even at the right one', async () => {
    await record.check(
      'password change brute force',
      async () => {
        const s = await login();
        const headers = { cookie: s.cookie, 'x-csrf-token': s.csrf };
        const statuses: number[] = [];
        for (let i = 0; i < 8; i++) {
          const res = await app.inject({
            method: 'PUT',
            url: '/api/v1/session/password',
            headers,
            payload: { currentPassword: WRONG_PASSWORDS[i % 2], newPassword: 'pwned password!' },
          });
          problemOk(res);
          statuses.push(res.statusCode);
        }
        expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
        expect(statuses.slice(5).every((x) => x === 429)).toBe(true);
        const right = await app.inject({
          method: 'PUT',
          url: '/api/v1/session/password',
          headers,
          payload: { currentPassword: ADMIN_PASSWORD, newPassword: 'pwned password!' },
        });
        expect(right.statusCode).toBe(429);
        // The password is unchanged.
        await login();
      },
      'accounts',
    );
  });

  it('a session id that is not one (malformed, unknown, traversal) is 400 or 404 and revokes nothing', async () => {
    const before = snapshot();
    for (const id of [
      '0',
      'x'.repeat(24),
      '..%2f..',
      'a'.repeat(25),
      '0'.repeat(24),
      "1' OR '1'='1",
    ]) {
      await record.check(
        `revoke session ${id}`,
        async () => {
          const res = await app.inject({
            method: 'DELETE',
            url: `/api/v1/sessions/${encodeURIComponent(id)}`,
            headers: write(),
          });
          expect([400, 404]).toContain(res.statusCode);
          problemOk(res);
        },
        'accounts',
      );
    }
    expect(snapshot()).toBe(before);
  });

  it('the sign-in body is refused over 4 KB (413) before it is parsed or checked', async () => {
    for (const size of [4097, 64 * 1024, 1024 * 1024]) {
      await record.check(
        `sign-in body of ${size} bytes`,
        async () => {
          const before = snapshot();
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/session',
            remoteAddress: '10.9.0.1',
            headers: { 'content-type': 'application/json' },
            payload: `{"username":"admin","password":"${'p'.repeat(size)}"}`,
          });
          expect(res.statusCode).toBe(413);
          problemOk(res);
          expect(snapshot()).toBe(before);
        },
        'accounts',
      );
    }
  });
});

// ---- oversized and malformed bodies ------------------------------------------------

describe('oversized and malformed bodies', () => {
  it('are refused with a 4xx problem and change nothing', async () => {
    const headers = { ...writeAuth, 'if-match': '*' };
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const manyRoutes = {
      config: {
        ...defaultConfig('example.com'),
        routes: Array.from({ length: 20_000 }, (_, i) => ({
          sentTo: `d${i}.example`,
          routeTo: '<inbound>',
        })),
      },
    };
    const cases: [string, InjectOptions, number[]][] = [
      [
        '9 MB body',
        {
          method: 'PUT',
          url: '/api/v1/routing',
          headers: { ...headers, 'content-type': 'application/json' },
          payload: `{"config":"${'x'.repeat(9 * 1024 * 1024)}"}`,
        },
        [413],
      ],
      [
        'nested 200,000 deep',
        {
          method: 'PUT',
          url: '/api/v1/routing',
          headers: { ...headers, 'content-type': 'application/json' },
          payload: deep,
        },
        [400],
      ],
      [
        'nested objects in config',
        {
          method: 'POST',
          url: '/api/v1/routing/advice',
          headers: { ...writeAuth, 'content-type': 'application/json' },
          payload: `{"config":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
        },
        [200, 400, 422],
      ],
      [
        '20,000 routes',
        {
          method: 'PUT',
          url: '/api/v1/routing',
          headers: { ...headers, 'content-type': 'application/json' },
          payload: JSON.stringify(manyRoutes),
        },
        [200, 400, 422],
      ],
      [
        '1,001 acknowledgements',
        {
          method: 'PUT',
          url: '/api/v1/routing',
          headers: { ...headers, 'content-type': 'application/json' },
          payload: JSON.stringify({
            config: defaultConfig('example.com'),
            acknowledge: Array.from({ length: 1001 }, (_, i) => `f${i}`),
          }),
        },
        [400],
      ],
      [
        'not JSON',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'application/json' },
          payload: '{"name":',
        },
        [400],
      ],
      [
        'JSON null',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'application/json' },
          payload: 'null',
        },
        [400],
      ],
      [
        'JSON number',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'application/json' },
          payload: '42',
        },
        [400],
      ],
      [
        'text/plain',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'text/plain' },
          payload: 'name=x',
        },
        // Fastify reads text/plain as a string, which the body schema refuses.
        [400, 415],
      ],
      [
        'form encoded',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'name=x&scope=write',
        },
        [415],
      ],
      [
        'multipart',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'multipart/form-data; boundary=x' },
          payload: '--x\r\n\r\n--x--',
        },
        [415],
      ],
      [
        'BOM then JSON',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'application/json' },
          payload: '\ufeff{"name":"bom","scope":"read"}',
        },
        [201, 400],
      ],
      [
        'duplicate keys',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'application/json' },
          payload: '{"name":"dup","scope":"read","scope":"admin"}',
        },
        [400],
      ],
      [
        'string over maxLength',
        {
          method: 'POST',
          url: '/api/v1/nodes',
          headers: { ...write(), 'content-type': 'application/json' },
          payload: JSON.stringify({ name: 'n'.repeat(101) }),
        },
        [400],
      ],
      [
        'empty body where one is required',
        {
          method: 'POST',
          url: '/api/v1/tokens',
          headers: { ...write(), 'content-type': 'application/json' },
          payload: '',
        },
        [400],
      ],
    ];
    for (const [name, req, allowed] of cases) {
      await record.check(
        name,
        async () => {
          const before = snapshot();
          const res = await app.inject(req);
          expect(allowed, `${name}: ${res.statusCode} ${res.body.slice(0, 200)}`).toContain(
            res.statusCode,
          );
          if (res.statusCode >= 400) {
            problemOk(res);
            expect(snapshot()).toBe(before);
          }
        },
        'oversized and malformed',
      );
    }
    integrityOk();
  }, 120_000);
});

// ---- static files: traversal, headers, CSP ------------------------------------------

/** One raw HTTP/1.1 request, exactly as written (no client-side normalisation). */
function raw(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d) => {
      out += d;
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('static files of the web app', () => {
  it('path traversal never reaches a file outside the web root', async () => {
    const targets = [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/%252e%252e%252fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/assets/../../secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/....//secret.txt',
      '/.%2e/secret.txt',
      '//secret.txt',
      `/${join(root, 'secret.txt')}`,
      `/%2f${encodeURIComponent(join(root, 'secret.txt'))}`,
      '/index.html%00.js',
      '/%00',
      '/assets/app.js%00../../secret.txt',
      '/..%c0%afsecret.txt',
      '/..%ef%bc%8fsecret.txt',
      '/etc/passwd',
      '/../../../../../../etc/passwd',
    ];
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    for (const target of targets) {
      await record.check(
        `traversal ${target}`,
        async () => {
          const viaSocket = await raw(port, target);
          const status = Number(viaSocket.slice(9, 12));
          expect(status, `${target}: ${viaSocket.slice(0, 100)}`).toBeLessThan(500);
          expect(viaSocket).not.toContain(SECRET_FILE_TEXT);
          expect(viaSocket).not.toMatch(/root:x:0:0/);
          const viaInject = await app.inject({ method: 'GET', url: target });
          expect(viaInject.statusCode).toBeLessThan(500);
          expect(viaInject.body).not.toContain(SECRET_FILE_TEXT);
        },
        'path traversal',
      );
    }
  });

  it('the UI is served with security headers and a Content-Security-Policy', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    const api = await app.inject({ method: 'GET', url: '/api/v1/routing', headers: readAuth });
    const h = res.headers;
    const csp = String(h['content-security-policy'] ?? '');
    const directive = (name: string) =>
      csp
        .split(';')
        .map((d) => d.trim())
        .find((d) => d.startsWith(`${name} `)) ?? '';
    const checks: [string, () => void][] = [
      ['/ is the web app', () => expect(res.body).toContain('<title>IMS</title>')],
      ['CSP default-src self', () => expect(directive('default-src')).toBe("default-src 'self'")],
      [
        'CSP script-src self, no inline or eval',
        () => {
          expect(directive('script-src')).toBe("script-src 'self'");
        },
      ],
      ['CSP object-src none', () => expect(directive('object-src')).toBe("object-src 'none'")],
      [
        'CSP frame-ancestors',
        () => expect(directive('frame-ancestors')).toMatch(/^frame-ancestors '(self|none)'$/),
      ],
      ['CSP base-uri', () => expect(directive('base-uri')).toMatch(/^base-uri '(self|none)'$/)],
      [
        'CSP form-action',
        () => expect(directive('form-action')).toMatch(/^form-action '(self|none)'$/),
      ],
      ['X-Content-Type-Options nosniff', () => expect(h['x-content-type-options']).toBe('nosniff')],
      [
        'X-Frame-Options',
        () => expect(String(h['x-frame-options'])).toMatch(/^(SAMEORIGIN|DENY)$/),
      ],
      [
        'Referrer-Policy',
        () => expect(String(h['referrer-policy'])).toMatch(/no-referrer|same-origin|strict-origin/),
      ],
      [
        // HSTS only on HTTPS (console-edge.listen.test.ts): on plain HTTP it would pin nothing useful.
        'no Strict-Transport-Security on plain HTTP',
        () => expect(h['strict-transport-security']).toBeUndefined(),
      ],
      [
        'no upgrade-insecure-requests on plain HTTP (a LAN address loads the UI)',
        () => expect(csp).not.toContain('upgrade-insecure-requests'),
      ],
      [
        'Cross-Origin-Opener-Policy',
        () => expect(h['cross-origin-opener-policy']).toBe('same-origin'),
      ],
      [
        'Cross-Origin-Resource-Policy',
        () => expect(h['cross-origin-resource-policy']).toBe('same-origin'),
      ],
      ['no X-Powered-By', () => expect(h['x-powered-by']).toBeUndefined()],
      [
        'API answers nosniff too',
        () => expect(api.headers['x-content-type-options']).toBe('nosniff'),
      ],
      [
        'API answers carry the CSP too',
        () =>
          expect(String(api.headers['content-security-policy'])).toContain("default-src 'self'"),
      ],
      [
        'session cookie HttpOnly, SameSite=Strict',
        () => {
          expect(secrets.cookie).toBeTruthy();
        },
      ],
    ];
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      remoteAddress: '10.4.0.1',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const setCookie = String(login.headers['set-cookie']);
    checks.push(['session cookie HttpOnly', () => expect(setCookie).toMatch(/HttpOnly/i)]);
    checks.push([
      'session cookie SameSite=Strict',
      () => expect(setCookie).toMatch(/SameSite=Strict/i),
    ]);
    checks.push(['session cookie Path=/', () => expect(setCookie).toMatch(/Path=\//)]);
    for (const [name, fn] of checks) await record.check(name, fn, 'security headers');
  });
});

// ---- the Queues routes and the node request channel ------------------------------

/** The app on a real socket (event streams need one), and the abuse node attached to it. */
async function attached(behave: (r: NodeRequest) => unknown) {
  if (!app.server.listening) await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const node = createApiClient({ baseUrl: url, token: secrets.nodeToken });
  const requests: NodeRequest[] = [];
  const abort = new AbortController();
  await new Promise<void>((resolve, reject) => {
    node.events
      .node(
        {
          onOpen: resolve,
          onEvent: ({ type, data }) => {
            if (type !== 'request') return;
            requests.push(data as NodeRequest);
            const answer = behave(data as NodeRequest);
            if (answer !== undefined)
              void node.raw('PUT', `/api/v1/node/requests/${(data as NodeRequest).id}`, answer);
          },
        },
        { signal: abort.signal },
      )
      .catch((err: unknown) => (abort.signal.aborted ? undefined : reject(err)));
  });
  return { requests, detach: () => abort.abort() };
}

describe('the Queues routes and node answers (issue 17 §4)', () => {
  it('bad input: malformed node names and message ids never reach a node and change nothing', async () => {
    const node = await attached(() => ({ ok: false, error: { code: 'not-found', message: 'no' } }));
    try {
      const ids = [
        '..%2F..%2Fetc%2Fpasswd',
        '%2e%2e',
        'a%00b',
        "1'%20OR%20'1'%3D'1",
        '%3Cscript%3E',
        'x%0D%0ASet-Cookie:%20a=1',
        '__proto__%5B0%5D',
        'a%2Fb',
        'a%20b',
      ];
      const before = snapshot();
      for (const id of ids) {
        for (const [method, url] of [
          ['POST', `/api/v1/service/queue/abuse-node/${id}/retry`],
          ['DELETE', `/api/v1/service/queue/abuse-node/${id}?ndr=true`],
          ['POST', `/api/v1/service/queue/${id}/1.a/retry`],
          ['DELETE', `/api/v1/service/queue/abuse-node/1.a?ndr=${id}`],
        ] as const) {
          await record.check(
            `${method} ${url}`,
            async () => {
              const res = await app.inject({ method, url, headers: writeAuth });
              expect([400, 404, 414], `${method} ${url}: ${res.body}`).toContain(res.statusCode);
              problemOk(res);
            },
            'queues: bad input',
          );
        }
      }
      await record.check(
        'an id past 200 characters',
        async () => {
          const res = await app.inject({
            method: 'POST',
            url: `/api/v1/service/queue/abuse-node/${'9'.repeat(201)}/retry`,
            headers: writeAuth,
          });
          expect(res.statusCode).toBe(414);
        },
        'queues: bad input',
      );
      // None of them was asked of the node ('%2e%2e' and the like are valid names that the node
      // does not hold: those reach it and come back 404).
      expect(node.requests.every((r) => /^[A-Za-z0-9._-]+$/.test(String(r.params.id)))).toBe(true);
      expect(snapshot()).toBe(before);
    } finally {
      node.detach();
    }
  });

  it('wrong credentials: answers need the node token of the node asked, once', async () => {
    let held: NodeRequest | undefined;
    const node = await attached((r) => {
      held = r;
      return undefined;
    });
    try {
      const otherNode = await post('/api/v1/nodes', { name: 'abuse-other-node' }, write());
      expect(otherNode.statusCode).toBe(201);
      secrets.otherNodeToken = otherNode.json<{ token: string }>().token;
      const listing = app.inject({
        method: 'GET',
        url: '/api/v1/service/queue',
        headers: readAuth,
      });
      const end = Date.now() + 5000;
      while (!held && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const id = held?.id ?? 'none';
      const body = { ok: true, result: { messages: [] } };
      const cases: [string, Record<string, string>, number][] = [
        ['no credentials', {}, 401],
        ['a user write token', writeAuth, 401],
        ['a session cookie', write(), 401],
        [
          'a revoked token',
          { authorization: `Bearer ${(globalThis as Record<string, unknown>).__revokedToken}` },
          401,
        ],
        ["another node's token", { authorization: `Bearer ${secrets.otherNodeToken}` }, 404],
      ];
      for (const [name, headers, status] of cases) {
        await record.check(
          `PUT /api/v1/node/requests/{id} with ${name}`,
          async () => {
            const res = await app.inject({
              method: 'PUT',
              url: `/api/v1/node/requests/${id}`,
              headers: { ...headers, 'content-type': 'application/json' },
              payload: JSON.stringify(body),
            });
            expect(res.statusCode, name).toBe(status);
            problemOk(res);
          },
          'queues: credentials',
        );
      }
      // The node asked answers: it counts once.
      const answer = (payload: unknown) =>
        app.inject({
          method: 'PUT',
          url: `/api/v1/node/requests/${id}`,
          headers: { ...nodeAuth, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
      await record.check(
        'the node asked answers once; a second answer is 404',
        async () => {
          expect((await answer(body)).statusCode).toBe(204);
          expect((await answer({ ok: true, result: { messages: [{ evil: 1 }] } })).statusCode).toBe(
            404,
          );
          expect((await listing).json()).toEqual({ nodes: [{ name: 'abuse-node', messages: [] }] });
        },
        'queues: credentials',
      );
    } finally {
      node.detach();
    }
  });

  it('floods: requests waiting for a node are bounded, answers for nothing are refused, the console stays up', async () => {
    const node = await attached(() => undefined);
    try {
      // Nothing of the cases before still waits.
      const end = Date.now() + 5000;
      while (app.nodeRequests.waiting(1) > 0 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      const before = snapshot();
      await record.check(
        '100 retries at once for a node that never answers',
        async () => {
          const flood = Array.from({ length: 100 }, (_, i) =>
            app.inject({
              method: 'POST',
              url: `/api/v1/service/queue/abuse-node/1.m${i}/retry`,
              headers: writeAuth,
            }),
          );
          // While they wait, the console answers others at once.
          const health = await app.inject({ method: 'GET', url: '/healthz' });
          expect(health.statusCode).toBe(200);
          expect(app.nodeRequests.waiting(1)).toBeLessThanOrEqual(16);
          const statuses = (await Promise.all(flood)).map((r) => r.statusCode);
          expect(statuses.filter((s) => s === 504)).toHaveLength(16);
          expect(statuses.filter((s) => s === 503)).toHaveLength(84);
          expect(node.requests.length).toBe(16);
          expect(app.nodeRequests.waiting(1)).toBe(0);
        },
        'queues: floods',
      );
      await record.check(
        '500 answers to requests nobody sent',
        async () => {
          for (let i = 0; i < 500; i++) {
            const res = await app.inject({
              method: 'PUT',
              url: `/api/v1/node/requests/${crypto.randomUUID()}`,
              headers: { ...nodeAuth, 'content-type': 'application/json' },
              payload: JSON.stringify({ ok: true, result: { messages: [] } }),
            });
            expect(res.statusCode).toBe(404);
          }
        },
        'queues: floods',
      );
      await record.check(
        'an answer of 5 MB',
        async () => {
          const res = await app.inject({
            method: 'PUT',
            url: '/api/v1/node/requests/abc',
            headers: { ...nodeAuth, 'content-type': 'application/json' },
            payload: JSON.stringify({ ok: true, result: { pad: 'x'.repeat(5 * 1024 * 1024) } }),
          });
          expect(res.statusCode).toBe(413);
          problemOk(res);
        },
        'queues: floods',
      );
      // Nothing was audited: no action reached a node that did it.
      expect(snapshot()).toBe(before);
    } finally {
      node.detach();
    }
  }, 60_000);
});

// ---- the impact preview: what a node answers is not trusted ------------------------------

describe('the impact preview and hostile node answers (issue 14 §2)', () => {
  /** The abuse node attached, reporting that it runs the saved version. */
  async function running(behave: (r: NodeRequest) => unknown) {
    const node = await attached(behave);
    const current = await app.inject({ method: 'GET', url: '/api/v1/routing', headers: readAuth });
    const status = await app.inject({
      method: 'PUT',
      url: '/api/v1/node/status',
      headers: { authorization: `Bearer ${secrets.nodeToken}` },
      payload: {
        runningVersion: current.json<{ version: number }>().version,
        state: 'running',
        listen: ['127.0.0.1:2525'],
        startedAt: new Date().toISOString(),
        counters: {},
      },
    });
    expect(status.statusCode).toBe(204);
    return node;
  }

  const good = {
    clientIp: '127.0.0.2',
    serverIp: '127.0.0.1',
    authenticated: false,
    recipient: 'partner.example',
    local: false,
    counts: { deliver: 0, relay: 1, reject: 0, 'accept-ndr': 0 },
  };
  const page = (records: unknown, extra: Record<string, unknown> = {}) => ({
    ok: true,
    result: { since: '2026-11-22T00:00:00.000Z', windowDays: 7, records, ...extra },
  });
  const hostile: [string, unknown, number][] = [
    ['records that are not a list', page({ a: 1 }), 502],
    ['a negative count', page([{ ...good, counts: { ...good.counts, relay: -5 } }]), 502],
    ['a fractional count', page([{ ...good, counts: { ...good.counts, relay: 1.5 } }]), 502],
    ['an extra field (message content)', page([{ ...good, subject: 'secret' }]), 502],
    ['a recipient past 512 characters', page([{ ...good, recipient: 'x'.repeat(513) }]), 502],
    ['more records than a page holds', page(Array.from({ length: 5001 }, () => good)), 502],
    ['a since that is not a time', { ok: true, result: { ...page([]).result, since: 'x' } }, 502],
    ['an error answer', { ok: false, error: { code: 'failed', message: 'disk gone' } }, 502],
    ['a client address that is no address', page([{ ...good, clientIp: '<script>' }]), 200],
    ['a recipient that is no domain', page([{ ...good, recipient: '../../etc/passwd' }]), 200],
  ];

  it('a shape the contract does not allow is a 502 problem; odd but valid records are judged', async () => {
    let answer: unknown;
    const node = await running(() => answer);
    try {
      const config = defaultConfig('example.com');
      for (const [name, body, status] of hostile) {
        await record.check(
          name,
          async () => {
            answer = body;
            // A node's answer updates when it was last seen, and nothing else.
            const state = () => snapshot().replace(/"last_seen":"[^"]*"/g, '');
            const before = state();
            const res = await app.inject({
              method: 'POST',
              url: '/api/v1/routing/impact',
              headers: readAuth,
              payload: { config },
            });
            expect(res.statusCode, `${name}: ${res.body.slice(0, 300)}`).toBe(status);
            if (status >= 400) problemOk(res);
            expect(state()).toBe(before);
          },
          'impact: hostile node answers',
        );
      }
    } finally {
      node.detach();
    }
  }, 60_000);

  it('a cursor without end is read for a bounded number of pages', async () => {
    const node = await running(() => page([good], { next: 'again' }));
    try {
      await record.check(
        'an endless next cursor',
        async () => {
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/routing/impact',
            headers: readAuth,
            payload: { config: defaultConfig('example.com') },
          });
          expect(res.statusCode).toBe(200);
          expect(res.json<{ transactions: number }>().transactions).toBe(100);
          expect(node.requests.length).toBe(100);
        },
        'impact: hostile node answers',
      );
    } finally {
      node.detach();
    }
  }, 60_000);
});

// ---- rollouts: restart bodies, bursts, rollback -----------------------------------------

describe('rolling restart and rollback', () => {
  /**
   * What a restart changes: the fleet's target, each node's own target, the
   * latest rollout, the saved versions and the audit log (not what nodes
   * report meanwhile, which other tests' streams may still do).
   */
  const restartState = () =>
    JSON.stringify({
      target: app.db.prepare('SELECT * FROM service_state').all(),
      pins: app.db.prepare('SELECT id, target_version FROM nodes ORDER BY id').all(),
      rollout: app.rollout.record() ?? null,
      saved: app.routingVersions.current().version,
      audit: app.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get(),
    });

  it('bad restart bodies are refused with 400 and change nothing', async () => {
    const bodies: unknown[] = [
      { strategy: 'rolling', order: ['no-such-node'] },
      { strategy: 'rolling', order: [] },
      { strategy: 'rolling', order: ['abuse-node', 'abuse-node'] },
      { strategy: 'rolling', order: ['../etc/passwd'] },
      { strategy: 'rolling', order: ["x' OR '1'='1"] },
      { strategy: 'rolling', order: Array.from({ length: 1001 }, (_, i) => `n${i}`) },
      { strategy: 'rolling', order: 'abuse-node' },
      { strategy: 'rolling', order: [42] },
      { strategy: 'ROLLING' },
      { strategy: null },
      { order: ['abuse-node'] },
      { strategy: 'all', force: true },
      ['rolling'],
      'rolling',
      42,
    ];
    for (const body of bodies) {
      const text = JSON.stringify(body);
      await record.check(
        `POST /api/v1/service/restart ${text.slice(0, 60)}`,
        async () => {
          const before = restartState();
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/service/restart',
            headers: { ...writeAuth, 'content-type': 'application/json' },
            payload: text,
          });
          expect(res.statusCode, res.body).toBe(400);
          problemOk(res);
          expect(restartState()).toBe(before);
        },
        'rollout: bad input',
      );
    }
  });

  it('a burst of rolling restarts and rollbacks: 202 or 409, never a 5xx, one rollout at a time', async () => {
    const names = app.nodes.list(() => false).map((n) => n.name);
    const requests = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 2
        ? { url: '/api/v1/service/rollback', payload: undefined }
        : {
            url: '/api/v1/service/restart',
            payload: JSON.stringify(
              i % 3 === 0 ? { strategy: 'rolling', order: names } : { strategy: 'all' },
            ),
          },
    );
    const answers = await Promise.all(
      requests.map((r) =>
        app.inject({
          method: 'POST',
          url: r.url,
          headers: {
            ...writeAuth,
            ...(r.payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(r.payload === undefined ? {} : { payload: r.payload }),
        }),
      ),
    );
    for (const [i, res] of answers.entries()) {
      await record.check(
        `burst ${i}: POST ${requests[i]?.url}`,
        () => {
          expect([202, 409], res.body).toContain(res.statusCode);
          if (res.statusCode === 409) problemOk(res);
        },
        'rollout: bursts',
      );
    }
    await record.check(
      'the rollout after the burst is one whole record',
      () => {
        const rollout = app.rollout.current();
        expect(rollout).not.toBeNull();
        expect(['running', 'done', 'halted']).toContain(rollout?.state);
        expect(rollout?.version).toBe(app.routingVersions.current().version);
        for (const n of rollout?.done ?? []) expect(rollout?.order).toContain(n);
      },
      'rollout: bursts',
    );
    integrityOk();
  });
});

// ---- the Postfix export ----------------------------------------------------------

describe('the Postfix export (issue 12)', () => {
  it('never a 5xx; a parameter cannot add a line or a parameter to main.cf; no password hash leaves', async () => {
    const params = ['listen', 'port', 'smartHost', 'myhostname', 'saslSocket', 'configDirectory'];
    const encodable = (v: string) => {
      try {
        encodeURIComponent(v);
        return v.length < 5000;
      } catch {
        return false; // a lone surrogate cannot be put in a URL
      }
    };
    const values = [
      ...INJECTIONS.filter(encodable),
      '127.0.0.1\nrelayhost = evil.example',
      '127.0.0.1,\r\nsmtpd_relay_restrictions = permit',
      '/run/auth\nmynetworks = 0.0.0.0/0',
      'relay.example:25 permit',
      '0.0.0.0',
      '::',
      '[::1]',
      '-1',
      '1e9',
    ];
    for (const param of params) {
      for (const value of values) {
        await record.check(
          `export ${param}=${JSON.stringify(value).slice(0, 40)}`,
          async () => {
            const res = await app.inject({
              method: 'GET',
              url: `/api/v1/routing/versions/1/export/postfix?${param}=${encodeURIComponent(value)}`,
              headers: readAuth,
            });
            expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
            expect(res.body).not.toContain('scrypt$');
            if (res.statusCode === 200) {
              const main = res.json<{ files: Record<string, string> }>().files['main.cf'] ?? '';
              expect(main).not.toMatch(
                /^(relayhost = evil|mynetworks = 0|smtpd_relay_restrictions = permit$)/m,
              );
              expect(main).not.toContain('/etc/postfix\n');
            } else {
              expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
            }
          },
          'Postfix export',
        );
      }
    }
    for (const n of ['0', '-1', 'abc', '1.5', '99999999999999999999', '1;id', '%00']) {
      await record.check(
        `export of version ${n}`,
        async () => {
          const res = await app.inject({
            method: 'GET',
            url: `/api/v1/routing/versions/${n}/export/postfix`,
            headers: readAuth,
          });
          expect([400, 404]).toContain(res.statusCode);
        },
        'Postfix export',
      );
    }
    await record.check(
      'export with a node token',
      async () => {
        const res = await app.inject({
          method: 'GET',
          url: '/api/v1/routing/versions/1/export/postfix',
          headers: nodeAuth,
        });
        expect([401, 403]).toContain(res.statusCode);
      },
      'Postfix export',
    );
  }, 120_000);
});

// ---- logs ------------------------------------------------------------------------------

describe('the log', () => {
  it('never contains a password, token, cookie or CSRF token', async () => {
    // The audit log is a log too: read it the way the API serves it, and as stored.
    const audit = JSON.stringify(app.db.prepare('SELECT * FROM audit_log').all());
    for (const [name, secret] of Object.entries(secrets)) {
      await record.check(
        `no ${name} in the audit log`,
        () => expect(audit.includes(secret), `${name} is in the audit log`).toBe(false),
        'log scan',
      );
    }
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(500);
    for (const [name, secret] of Object.entries(secrets)) {
      await record.check(
        `no ${name} in ${lines.length} log lines`,
        () => {
          expect(secret.length, name).toBeGreaterThan(6);
          expect(log.includes(secret), `${name} is in the log`).toBe(false);
        },
        'log scan',
      );
    }
  });
});
