/**
 * renderPostfix() against a REAL private Postfix: the semantics of
 * docs/design.md §2 on the wire (stranger refused, local delivery from
 * anyone, unknown local 5.1.1, host routes are relaying, `#` exact vs
 * subdomain, smart host, AUTH PLAIN/LOGIN through the agent's SASL socket,
 * never-route beats AUTH, relaying through an internal listen address only,
 * address literals closed).
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '@ims/passwords';
import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirName, postfixOwner } from './render';
import { createSaslServer, directoryVerifier, type SaslServer } from './sasl-server';
import { freePort } from './self-check';
import { SmtpProbe } from './smtp-probe';
import { type PostfixFixture, startPostfix, targetUnder, tempDir } from './testing/postfix-fixture';
import { type SmtpSink, startSink } from './testing/smtp-sink';

const PASSWORD = 'correct horse battery';
let postfix: PostfixFixture;
let sasl: SaslServer;
let smartHost: SmtpSink;
let routedHost: SmtpSink;
let port: number;

function config(routedPort: number): RoutingConfig {
  const c = defaultConfig('example.com');
  c.routes.push(
    { sentTo: 'ms.com', routeTo: `127.0.0.1:${routedPort}` },
    { sentTo: '#ms.com', routeTo: '<inbound>' },
    { sentTo: 'x.ms.com', routeTo: '<inbound>' },
  );
  c.restrictions.internalAddresses = {
    enabled: true,
    entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }],
  };
  c.restrictions.neverRoute = [{ ip: '127.0.0.3', mask: '255.255.255.255' }];
  return c;
}

beforeAll(async () => {
  const dir = tempDir();
  smartHost = await startSink();
  routedHost = await startSink();
  port = await freePort();
  const directory = [{ address: 'alice@example.com', passwordHash: await hashPassword(PASSWORD) }];
  const target = targetUnder(dir, {
    listen: [
      { host: '127.0.0.1', port },
      { host: '127.0.0.2', port },
    ],
    myhostname: 'postfix.test.invalid',
    smartHost: `127.0.0.1:${smartHost.port}`,
    saslSocket: join(dir, 'auth'),
  });
  sasl = createSaslServer({
    socketPath: join(dir, 'auth'),
    verify: directoryVerifier(directory),
    owner: postfixOwner(),
  });
  await sasl.listen();
  postfix = await startPostfix(dir, target, config(routedHost.port), directory);
});

afterAll(async () => {
  await postfix?.stop();
  await sasl?.close();
  await smartHost?.close();
  await routedHost?.close();
});

interface Session {
  client?: string;
  server?: string;
  auth?: 'plain' | 'login';
  password?: string;
  user?: string;
}

/** Opens a session (from/to chosen addresses, optionally authenticated) up to MAIL FROM. */
async function session(s: Session = {}): Promise<SmtpProbe> {
  const { probe, greeting } = await SmtpProbe.open(s.server ?? '127.0.0.1', port, {
    localAddress: s.client ?? '127.0.0.1',
  });
  expect(greeting.code).toBe(220);
  await probe.command('EHLO client.invalid');
  if (s.auth) {
    const reply = await authenticate(
      probe,
      s.auth,
      s.user ?? 'alice@example.com',
      s.password ?? PASSWORD,
    );
    expect(reply).toMatch(/^235 2\.7\.0/);
  }
  const mail = await probe.command('MAIL FROM:<sender@outside.invalid>');
  expect(mail.code).toBe(250);
  return probe;
}

async function authenticate(
  probe: SmtpProbe,
  mech: 'plain' | 'login',
  user: string,
  password: string,
): Promise<string> {
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  let reply: Awaited<ReturnType<SmtpProbe['command']>>;
  if (mech === 'plain') {
    reply = await probe.command(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}`);
  } else {
    reply = await probe.command('AUTH LOGIN');
    expect(reply.code).toBe(334);
    reply = await probe.command(b64(user));
    expect(reply.code).toBe(334);
    reply = await probe.command(b64(password));
  }
  return reply.lines[reply.lines.length - 1] ?? '';
}

async function rcpt(s: Session, address: string): Promise<string> {
  const probe = await session(s);
  try {
    const reply = await probe.command(`RCPT TO:<${address}>`);
    return reply.lines[reply.lines.length - 1] ?? '';
  } finally {
    await probe.quit();
  }
}

async function send(s: Session, address: string): Promise<void> {
  const probe = await session(s);
  try {
    expect((await probe.command(`RCPT TO:<${address}>`)).code).toBe(250);
    expect((await probe.command('DATA')).code).toBe(354);
    const done = await probe.command(`Subject: test\r\n\r\nto ${address}\r\n.`);
    expect(done.code).toBe(250);
  } finally {
    await probe.quit();
  }
}

describe('a rendering on a real Postfix', () => {
  it('refuses a stranger relaying with 550 5.7.1', async () => {
    expect(await rcpt({}, 'victim@outside.invalid')).toBe(
      '550 5.7.1 <victim@outside.invalid>: Recipient address rejected: Relaying is prohibited',
    );
  });

  it('delivers to a local mailbox from anyone, into its Maildir', async () => {
    await send({}, 'alice@example.com');
    const newDir = join(postfix.target.mailDirectory, maildirName('alice@example.com'), 'new');
    const deadline = Date.now() + 45_000;
    let files: string[] = [];
    while (Date.now() < deadline) {
      files = await readdir(newDir).catch(() => []);
      if (files.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(files.length).toBeGreaterThan(0);
  });

  it('refuses an unknown local recipient with 550 5.1.1 and accepts postmaster', async () => {
    expect(await rcpt({}, 'nobody@example.com')).toMatch(/^550 5\.1\.1 /);
    expect(await rcpt({}, 'postmaster@example.com')).toMatch(/^250 2\.1\.5/);
    expect(await rcpt({}, 'Postmaster')).toMatch(/^250 2\.1\.5/);
  });

  it('treats a host route as relaying: refused for a stranger, relayed for an authenticated user', async () => {
    expect(await rcpt({}, 'bob@sales.ms.com')).toMatch(/^550 5\.7\.1 /);
    await send({ auth: 'plain' }, 'bob@sales.ms.com');
    const m = await routedHost.waitFor('bob@sales.ms.com');
    expect(m.mailFrom).toBe('sender@outside.invalid');
  });

  it('matches `#ms.com` exactly and `x.ms.com` with its subdomains (Q169683)', async () => {
    // ms.com is inbound (exact entry): a local domain, so 5.1.1 for an unknown user.
    expect(await rcpt({}, 'nobody@ms.com')).toMatch(/^550 5\.1\.1 /);
    expect(await rcpt({}, 'postmaster@ms.com')).toMatch(/^250 /);
    // sales.ms.com: the plain ms.com entry, a host route.
    expect(await rcpt({}, 'nobody@sales.ms.com')).toMatch(/^550 5\.7\.1 /);
    // x.ms.com and below: inbound.
    expect(await rcpt({}, 'postmaster@abc.x.ms.com')).toMatch(/^250 /);
    // pms.com: no entry, whole labels only.
    expect(await rcpt({}, 'nobody@pms.com')).toMatch(/^550 5\.7\.1 /);
  });

  it('sends unrouted mail of an authenticated user through the smart host', async () => {
    await send({ auth: 'login' }, 'carol@outside.invalid');
    const m = await smartHost.waitFor('carol@outside.invalid');
    expect(m.data).toContain('to carol@outside.invalid');
  });

  it('answers a failed AUTH with 535 5.7.8, the same whether or not the user exists', async () => {
    const lines: string[] = [];
    for (const [mech, user, password] of [
      ['plain', 'alice@example.com', 'wrong'],
      ['plain', 'nobody@example.com', 'wrong'],
      ['login', 'alice@example.com', 'wrong'],
      ['login', 'nobody@example.com', 'wrong'],
    ] as const) {
      const { probe } = await SmtpProbe.open('127.0.0.1', port);
      await probe.command('EHLO client.invalid');
      lines.push(await authenticate(probe, mech, user, password));
      await probe.quit();
    }
    for (const line of lines) expect(line).toMatch(/^535 5\.7\.8 /);
    expect(new Set(lines).size).toBe(1);
  });

  it('lets never-route beat authentication', async () => {
    expect(await rcpt({ client: '127.0.0.3', auth: 'plain' }, 'victim@outside.invalid')).toBe(
      '550 5.7.1 <victim@outside.invalid>: Recipient address rejected: Relaying is prohibited',
    );
    // Local delivery stays open to it.
    expect(await rcpt({ client: '127.0.0.3' }, 'alice@example.com')).toMatch(/^250 /);
  });

  it('lets a client relay through the internal listen address only', async () => {
    expect(await rcpt({ server: '127.0.0.2' }, 'victim@outside.invalid')).toMatch(/^250 2\.1\.5/);
    expect(await rcpt({ server: '127.0.0.1' }, 'victim@outside.invalid')).toMatch(/^550 5\.7\.1 /);
  });

  it('closes address literals: no delivery to system accounts', async () => {
    for (const literal of ['root@[127.0.0.1]', 'postfix@[127.0.0.2]', 'root@[192.0.2.1]']) {
      expect(await rcpt({}, literal)).toMatch(/^5\d\d /);
    }
  });
});
