import { verifyPassword } from '@ims/passwords';
import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { type Browser, build, login, problem, token } from '../../testing/helper';

const URL = '/api/v1/directory/mailboxes';
const PASSWORD = 'alice-secret-pw-1';

interface MailboxBody {
  id: number;
  address: string;
  displayName: string;
  createdAt: string;
  updatedAt: string;
}

async function setup(): Promise<{ app: FastifyInstance; browser: Browser }> {
  const app = await build();
  return { app, browser: await login(app) };
}

function create(
  app: FastifyInstance,
  headers: Record<string, string>,
  payload: Record<string, unknown> = {
    address: 'alice@example.com',
    displayName: 'Alice',
    password: PASSWORD,
  },
) {
  return app.inject({ method: 'POST', url: URL, headers, payload });
}

async function created(app: FastifyInstance, browser: Browser, address = 'alice@example.com') {
  const res = await create(app, browser.write, {
    address,
    displayName: 'Alice',
    password: PASSWORD,
  });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json<MailboxBody>();
}

const pointers = (body: Record<string, unknown>) =>
  (body.errors as { pointer: string }[]).map((e) => e.pointer);

/** Saves a routing configuration (version 1 is the seeded one). */
async function saveRouting(
  app: FastifyInstance,
  browser: Browser,
  config: RoutingConfig,
  acknowledge: string[] = [],
) {
  const res = await app.inject({
    method: 'PUT',
    url: '/api/v1/routing',
    headers: { ...browser.write, 'if-match': '*' },
    payload: { config, acknowledge },
  });
  if (res.statusCode !== 200) throw new Error(`save failed: ${res.body}`);
}

async function auditLog(app: FastifyInstance, browser: Browser) {
  const res = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: browser.read });
  expect(res.statusCode).toBe(200);
  return res;
}

describe('display names refuse control characters (issue 13 item 11)', () => {
  it('400 with a per-field error on create and update, and nothing is stored', async () => {
    const { app, browser } = await setup();
    for (const displayName of [
      'Eve\r\nBcc: x@evil.example',
      'Tab\there',
      'NUL\u0000',
      'C1\u0085',
      'LS\u2028',
    ]) {
      const res = await create(app, browser.write, {
        address: 'eve@example.com',
        displayName,
        password: PASSWORD,
      });
      expect(problem(res, 400, 'validation-failed').errors, JSON.stringify(displayName)).toEqual([
        { pointer: '/displayName', detail: 'must not contain control characters' },
      ]);
    }
    expect(app.directory.isKnown('eve@example.com')).toBe(false);
    const ok = await create(app, browser.write, {
      address: 'eve@example.com',
      displayName: 'Ève Ünïcode 😀',
      password: PASSWORD,
    });
    expect(ok.statusCode).toBe(201);
    const id = ok.json<{ id: number }>().id;
    const patch = await app.inject({
      method: 'PATCH',
      url: `${URL}/${id}`,
      headers: browser.write,
      payload: { displayName: 'Bad\u001bName' },
    });
    problem(patch, 400, 'validation-failed');
    expect(app.directory.list().find((m) => m.id === id)?.displayName).toBe('Ève Ünïcode 😀');
  });
});

describe('POST /api/v1/directory/mailboxes', () => {
  it('creates a mailbox, stored canonical and lower-case, with a scrypt hash', async () => {
    const { app, browser } = await setup();
    const res = await create(app, browser.write, {
      address: 'Alice@Example.COM',
      displayName: 'Alice Liddell',
      password: PASSWORD,
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<MailboxBody>();
    expect(body).toEqual({
      id: expect.any(Number),
      address: 'alice@example.com',
      displayName: 'Alice Liddell',
      createdAt: expect.any(String),
      updatedAt: body.createdAt,
    });
    expect(res.body).not.toContain(PASSWORD);
    expect(res.body).not.toContain('scrypt');

    expect(app.directory.isKnown('alice@example.com')).toBe(true);
    expect(app.directory.isKnown('ALICE@example.com')).toBe(true);
    expect(app.directory.isKnown('bob@example.com')).toBe(false);
    expect(app.directory.isKnown('not an address')).toBe(false);
    expect(app.directory.count()).toBe(2);
    const entries = app.directory.bundleEntries();
    expect(entries).toEqual([
      { address: 'alice@example.com', passwordHash: expect.any(String) },
      // Created by the first start (RFC 5321 §4.5.1).
      { address: 'postmaster@example.com', passwordHash: expect.any(String) },
    ]);
    const hash = entries[0]?.passwordHash ?? '';
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
  });

  it('normalises the domain (IDN to A-label, trailing dot) and quoted local parts', async () => {
    const { app, browser } = await setup();
    await saveRouting(app, browser, {
      ...defaultConfig('example.com'),
      routes: [
        { sentTo: 'example.com', routeTo: '<inbound>' },
        { sentTo: 'xn--bcher-kva.example', routeTo: '<inbound>' },
      ],
    });
    const idn = await create(app, browser.write, {
      address: 'Hans@BÜCHER.example.',
      displayName: 'Hans',
      password: PASSWORD,
    });
    expect(idn.statusCode).toBe(201);
    expect(idn.json().address).toBe('hans@xn--bcher-kva.example');
    const quoted = await create(app, browser.write, {
      address: '"John.Doe"@example.com',
      displayName: 'John',
      password: PASSWORD,
    });
    expect(quoted.statusCode).toBe(201);
    expect(quoted.json().address).toBe('john.doe@example.com');
  });

  it('accepts any address under an <inbound> domain, including subdomains', async () => {
    const { app, browser } = await setup();
    expect((await created(app, browser, 'bob@sales.example.com')).address).toBe(
      'bob@sales.example.com',
    );
  });

  it('422 with pointer /address outside the <inbound> domains of the saved configuration', async () => {
    const { app, browser } = await setup();
    const body = problem(
      await create(app, browser.write, {
        address: 'mallory@elsewhere.test',
        displayName: 'Mallory',
        password: PASSWORD,
      }),
      422,
      'policy-invalid',
    );
    expect(pointers(body)).toEqual(['/address']);
    expect(app.directory.count()).toBe(1);

    // A host entry under the site domain is not local either.
    await saveRouting(app, browser, {
      ...defaultConfig('example.com'),
      routes: [
        { sentTo: 'example.com', routeTo: '<inbound>' },
        { sentTo: 'branch.example.com', routeTo: 'mail2.example.net' },
        { sentTo: 'partner.test', routeTo: '<inbound>' },
      ],
    });
    problem(
      await create(app, browser.write, {
        address: 'carol@branch.example.com',
        displayName: 'Carol',
        password: PASSWORD,
      }),
      422,
      'policy-invalid',
    );
    // The saved configuration's new <inbound> domain is accepted at once.
    expect((await created(app, browser, 'dave@partner.test')).address).toBe('dave@partner.test');
  });

  it('accepts the site domain even when the table does not list it', async () => {
    const { app, browser } = await setup();
    await saveRouting(
      app,
      browser,
      { ...defaultConfig('example.com'), routes: [{ sentTo: 'other.test', routeTo: '<inbound>' }] },
      ['site-domain-not-inbound'],
    );
    expect((await created(app, browser, 'alice@example.com')).address).toBe('alice@example.com');
    // ... but not its subdomains, which the table no longer delivers locally.
    problem(
      await create(app, browser.write, {
        address: 'eve@sub.example.com',
        displayName: 'Eve',
        password: PASSWORD,
      }),
      422,
      'policy-invalid',
    );
  });

  it('422 with pointer /address for a malformed address, a literal or a source route', async () => {
    const { app, browser } = await setup();
    for (const address of [
      'alice',
      'alice@',
      '',
      'a b@example.com',
      'alice@example.com@example.com',
      '<alice@example.com>',
      'alice@[192.0.2.1]',
      '@relay.example.com:alice@example.com',
      'alice@-bad-.example.com',
    ]) {
      const body = problem(
        await create(app, browser.write, { address, displayName: 'A', password: PASSWORD }),
        422,
        'policy-invalid',
      );
      expect(pointers(body), address).toEqual(['/address']);
    }
    expect(app.directory.count()).toBe(1);
  });

  it('409 for a duplicate address, whatever its case', async () => {
    const { app, browser } = await setup();
    await created(app, browser, 'alice@example.com');
    problem(
      await create(app, browser.write, {
        address: 'ALICE@example.com',
        displayName: 'Alice 2',
        password: PASSWORD,
      }),
      409,
      'conflict',
    );
    expect(app.directory.count()).toBe(2);
  });

  it('400 with per-field pointers: short password, long display name, unknown and missing fields', async () => {
    const { app, browser } = await setup();
    const body = problem(
      await create(app, browser.write, {
        address: 'alice@example.com',
        displayName: 'x'.repeat(201),
        password: 'short',
        admin: true,
      }),
      400,
      'validation-failed',
    );
    expect(pointers(body)).toEqual(expect.arrayContaining(['/displayName', '/password', '/admin']));
    const missing = problem(await create(app, browser.write, {}), 400, 'validation-failed');
    expect(pointers(missing)).toEqual(
      expect.arrayContaining(['/address', '/displayName', '/password']),
    );
    const typed = problem(
      await create(app, browser.write, { address: 1, displayName: 'A', password: PASSWORD }),
      400,
      'validation-failed',
    );
    expect(pointers(typed)).toEqual(['/address']);
    expect(app.directory.count()).toBe(1);
  });

  it('401 without credentials, 403 for a read token, 403 without CSRF; a write token may', async () => {
    const { app, browser } = await setup();
    problem(await create(app, {}), 401, 'unauthenticated');
    problem(await create(app, await token(app, 'read')), 403, 'forbidden');
    problem(await create(app, browser.read), 403, 'csrf-token-missing');
    problem(
      await create(app, { ...browser.read, 'x-csrf-token': 'forged' }),
      403,
      'csrf-token-missing',
    );
    expect(app.directory.count()).toBe(1);
    const writer = await token(app, 'write');
    expect((await create(app, writer)).statusCode).toBe(201);
  });

  it('audits the creation without the password', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    const res = await auditLog(app, browser);
    expect(res.body).not.toContain(PASSWORD);
    expect(res.body).not.toContain('scrypt');
    expect(res.json().entries[0]).toMatchObject({
      actor: 'admin',
      action: 'mailbox.created',
      target: 'mailbox:alice@example.com',
      details: { id: mailbox.id, displayName: 'Alice' },
    });
  });
});

describe('GET /api/v1/directory/mailboxes', () => {
  it('lists the mailboxes by address, never their passwords', async () => {
    const { app, browser } = await setup();
    await created(app, browser, 'zoe@example.com');
    await created(app, browser, 'alice@example.com');
    const res = await app.inject({ method: 'GET', url: URL, headers: browser.read });
    expect(res.statusCode).toBe(200);
    const { mailboxes } = res.json<{ mailboxes: MailboxBody[] }>();
    expect(mailboxes.map((m) => m.address)).toEqual([
      'alice@example.com',
      'postmaster@example.com',
      'zoe@example.com',
    ]);
    expect(Object.keys(mailboxes[0] ?? {}).sort()).toEqual([
      'address',
      'createdAt',
      'displayName',
      'id',
      'updatedAt',
    ]);
    expect(res.body).not.toContain(PASSWORD);
    expect(res.body).not.toContain('scrypt');
  });

  it('a new install has only postmaster@ the site domain; a read token may list', async () => {
    const app = await build();
    const res = await app.inject({ method: 'GET', url: URL, headers: await token(app, 'read') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      mailboxes: [
        expect.objectContaining({ address: 'postmaster@example.com', displayName: 'Postmaster' }),
      ],
    });
  });

  it('401 without credentials', async () => {
    const app = await build();
    problem(await app.inject({ method: 'GET', url: URL }), 401, 'unauthenticated');
  });
});

describe('GET /api/v1/directory/mailboxes/:id', () => {
  it('returns one mailbox without its password', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    const res = await app.inject({
      method: 'GET',
      url: `${URL}/${mailbox.id}`,
      headers: await token(app, 'read'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(mailbox);
    expect(res.body).not.toContain(PASSWORD);
  });

  it('404 for an unknown id, 400 for a malformed one, 401 without credentials', async () => {
    const { app, browser } = await setup();
    problem(
      await app.inject({ method: 'GET', url: `${URL}/999`, headers: browser.read }),
      404,
      'not-found',
    );
    const body = problem(
      await app.inject({ method: 'GET', url: `${URL}/abc`, headers: browser.read }),
      400,
      'validation-failed',
    );
    expect(pointers(body)).toEqual(['/id']);
    problem(
      await app.inject({ method: 'GET', url: `${URL}/0`, headers: browser.read }),
      400,
      'validation-failed',
    );
    problem(await app.inject({ method: 'GET', url: `${URL}/1` }), 401, 'unauthenticated');
  });
});

describe('PATCH /api/v1/directory/mailboxes/:id', () => {
  const patch = (
    app: FastifyInstance,
    id: number | string,
    headers: Record<string, string>,
    payload: Record<string, unknown>,
  ) => app.inject({ method: 'PATCH', url: `${URL}/${id}`, headers, payload });

  it('changes the display name; the address and the password stay', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    const hashBefore = app.directory.bundleEntries()[0]?.passwordHash;
    const res = await patch(app, mailbox.id, browser.write, { displayName: 'Alice L.' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      ...mailbox,
      displayName: 'Alice L.',
      updatedAt: expect.any(String),
    });
    expect(app.directory.get(mailbox.id)?.displayName).toBe('Alice L.');
    expect(app.directory.bundleEntries()[0]?.passwordHash).toBe(hashBefore);
    const entry = (await auditLog(app, browser)).json().entries[0];
    expect(entry).toMatchObject({
      action: 'mailbox.updated',
      target: 'mailbox:alice@example.com',
      details: { id: mailbox.id, displayName: { from: 'Alice', to: 'Alice L.' } },
    });
    expect(entry.details.passwordChanged).toBeUndefined();
  });

  it('changes the password: a new scrypt hash, audited without the password', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    const newPassword = 'a-brand-new-password';
    const res = await patch(app, mailbox.id, browser.write, { password: newPassword });
    expect(res.statusCode).toBe(200);
    expect(res.json().displayName).toBe('Alice');
    expect(res.body).not.toContain(newPassword);
    const hash = app.directory.bundleEntries()[0]?.passwordHash ?? '';
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword(newPassword, hash)).toBe(true);
    expect(await verifyPassword(PASSWORD, hash)).toBe(false);
    const log = await auditLog(app, browser);
    expect(log.body).not.toContain(newPassword);
    expect(log.body).not.toContain(PASSWORD);
    expect(log.body).not.toContain('scrypt');
    expect(log.json().entries[0]).toMatchObject({
      action: 'mailbox.updated',
      details: { id: mailbox.id, passwordChanged: true },
    });
  });

  it('400 with pointers: empty body, short password, unknown field (the address cannot change)', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    problem(await patch(app, mailbox.id, browser.write, {}), 400, 'validation-failed');
    const body = problem(
      await patch(app, mailbox.id, browser.write, {
        password: 'short',
        address: 'bob@example.com',
      }),
      400,
      'validation-failed',
    );
    expect(pointers(body)).toEqual(expect.arrayContaining(['/password', '/address']));
    problem(await patch(app, 'abc', browser.write, { displayName: 'X' }), 400, 'validation-failed');
    expect(app.directory.get(mailbox.id)).toEqual(mailbox);
  });

  it('404 for an unknown id', async () => {
    const { app, browser } = await setup();
    problem(
      await patch(app, 999, browser.write, { password: 'long enough password' }),
      404,
      'not-found',
    );
  });

  it('401 without credentials, 403 for a read token, 403 without CSRF', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    const payload = { displayName: 'Hacked' };
    problem(await patch(app, mailbox.id, {}, payload), 401, 'unauthenticated');
    problem(await patch(app, mailbox.id, await token(app, 'read'), payload), 403, 'forbidden');
    problem(await patch(app, mailbox.id, browser.read, payload), 403, 'csrf-token-missing');
    expect(app.directory.get(mailbox.id)?.displayName).toBe('Alice');
  });
});

describe('DELETE /api/v1/directory/mailboxes/:id', () => {
  const remove = (app: FastifyInstance, id: number | string, headers: Record<string, string>) =>
    app.inject({ method: 'DELETE', url: `${URL}/${id}`, headers });

  it('deletes a mailbox: gone from the directory and the bundle, audited', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    const res = await remove(app, mailbox.id, browser.write);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(app.directory.isKnown('alice@example.com')).toBe(false);
    expect(app.directory.bundleEntries().map((e) => e.address)).toEqual(['postmaster@example.com']);
    problem(
      await app.inject({ method: 'GET', url: `${URL}/${mailbox.id}`, headers: browser.read }),
      404,
      'not-found',
    );
    expect((await auditLog(app, browser)).json().entries[0]).toMatchObject({
      action: 'mailbox.deleted',
      target: 'mailbox:alice@example.com',
      details: { id: mailbox.id },
    });
    // The address can be used again.
    expect((await created(app, browser)).address).toBe('alice@example.com');
  });

  it('404 for an unknown id (and a second delete), 400 for a malformed one', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    expect((await remove(app, mailbox.id, browser.write)).statusCode).toBe(204);
    problem(await remove(app, mailbox.id, browser.write), 404, 'not-found');
    problem(await remove(app, 'abc', browser.write), 400, 'validation-failed');
  });

  it('401 without credentials, 403 for a read token, 403 without CSRF', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    problem(await remove(app, mailbox.id, {}), 401, 'unauthenticated');
    problem(await remove(app, mailbox.id, await token(app, 'read')), 403, 'forbidden');
    problem(await remove(app, mailbox.id, browser.read), 403, 'csrf-token-missing');
    expect(app.directory.count()).toBe(2);
  });
});

describe('the directory and the audit log', () => {
  it('no password or hash ever reaches the audit log, and every change is there', async () => {
    const { app, browser } = await setup();
    const mailbox = await created(app, browser);
    await app.inject({
      method: 'PATCH',
      url: `${URL}/${mailbox.id}`,
      headers: browser.write,
      payload: { displayName: 'A', password: 'second-password' },
    });
    await app.inject({ method: 'DELETE', url: `${URL}/${mailbox.id}`, headers: browser.write });
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=mailbox.updated',
      headers: browser.read,
    });
    expect(res.json().entries).toHaveLength(1);
    const all = await auditLog(app, browser);
    for (const secret of [PASSWORD, 'second-password', 'scrypt']) {
      expect(all.body).not.toContain(secret);
    }
    expect(
      all
        .json<{ entries: { action: string }[] }>()
        .entries.map((e) => e.action)
        .filter((a) => a.startsWith('mailbox.')),
    ).toEqual(['mailbox.deleted', 'mailbox.updated', 'mailbox.created', 'mailbox.created']);
  });
});

describe('the directory and the SMTP nodes', () => {
  it('announces every change (and only changes) to the attached nodes', async () => {
    const { app, browser } = await setup();
    const events = (
      app as unknown as { nodeEvents?: { publishToNodes(type: string, data: object): unknown } }
    ).nodeEvents;
    expect(events, 'the nodeEvents decorator is registered').toBeDefined();
    if (!events) return;
    const publish = vi.spyOn(events, 'publishToNodes');
    const mailbox = await created(app, browser);
    expect(publish).toHaveBeenLastCalledWith('directory', {});
    await app.inject({
      method: 'PATCH',
      url: `${URL}/${mailbox.id}`,
      headers: browser.write,
      payload: { displayName: 'B' },
    });
    await app.inject({ method: 'DELETE', url: `${URL}/${mailbox.id}`, headers: browser.write });
    expect(publish).toHaveBeenCalledTimes(3);
    // Reads, refusals and failures announce nothing.
    await app.inject({ method: 'GET', url: URL, headers: browser.read });
    await app.inject({ method: 'DELETE', url: `${URL}/${mailbox.id}`, headers: browser.write });
    await create(app, browser.write, {
      address: 'x@elsewhere.test',
      displayName: 'X',
      password: PASSWORD,
    });
    expect(publish).toHaveBeenCalledTimes(3);
  });
});
