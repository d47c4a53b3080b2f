import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@ims/routing-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { maildirOf } from './maildir';
import { SmtpNode } from './smtp-node';
import { bundle, hash, plain, session, startNode } from './testing/node-fixture';
import { ScriptedSocket } from './testing/scripted-socket';
import { RawSmtp } from './testing/smtp-client';

describe('SMTP node: the wire', () => {
  it('a client that resets its connection mid-transaction ends its session only; the node goes on', async () => {
    const { port } = await startNode();
    for (let i = 0; i < 5; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      // In a transaction (MAIL FROM given), then a TCP reset with a command unread.
      socket.write('EHLO reset.example\r\nMAIL FROM:<a@remote.example>\r\n');
      await new Promise((r) => setTimeout(r, 200));
      socket.write('RCPT TO:<bob@example.com>\r\n');
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    const c = await session(port);
    expect(await c.cmd('EHLO client.example')).toMatch(/^250/);
  });

  it('EHLO advertises AUTH PLAIN LOGIN, PIPELINING, 8BITMIME, SIZE and ENHANCEDSTATUSCODES', async () => {
    const { port } = await startNode();
    const c = await session(port);
    const ehlo = await c.cmd('EHLO client.example');
    for (const ext of [
      'PIPELINING',
      '8BITMIME',
      'SIZE',
      'ENHANCEDSTATUSCODES',
      'AUTH PLAIN LOGIN',
    ]) {
      expect(ehlo).toMatch(new RegExp(`^250[- ]${ext}`, 'm'));
    }
    expect(ehlo).not.toMatch(/STARTTLS/);
  });

  it('relay denied: exactly 550 5.7.1 Relaying is prohibited; local delivery accepted', async () => {
    const { port, log } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    expect(await c.cmd('MAIL FROM:<spammer@remote.example>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<victim@elsewhere.example>')).toBe(
      '550 5.7.1 Relaying is prohibited',
    );
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 2\.1\.5 /);
    expect(await c.cmd('RCPT TO:<nobody@example.com>')).toBe(
      '550 5.1.1 Recipient address rejected: no such user here',
    );
    expect(await c.cmd('RCPT TO:<Postmaster>')).toMatch(/^250 2\.1\.5 /);
    expect(log.find((e) => e.rcptTo === 'victim@elsewhere.example')).toMatchObject({
      client: '127.0.0.1',
      server: '127.0.0.1',
      user: null,
      mailFrom: 'spammer@remote.example',
      action: 'reject',
      reason: 'relay-denied',
      reply: '550 5.7.1',
    });
  });

  it('a session handed over without the network (acceptConnection) gets the replies of one on the wire', async () => {
    const { node, port, log } = await startNode();
    const script = [
      'EHLO client.example',
      'MAIL FROM:<spammer@remote.example>',
      'RCPT TO:<victim@elsewhere.example>',
      'RCPT TO:<alice@example.com>',
      'RSET',
      'DATA',
      'QUIT',
    ];
    const wire: number[] = [];
    const c = await session(port);
    for (const command of script) wire.push(Number((await c.cmd(command)).slice(0, 3)));
    expect(wire).toEqual([250, 250, 550, 250, 250, 503, 221]);
    const socket = new ScriptedSocket(script, { remoteAddress: '127.0.0.9' });
    node.acceptConnection(socket);
    expect(await socket.done).toEqual([220, ...wire]);
    expect(log.filter((e) => e.rcptTo === 'victim@elsewhere.example').at(-1)).toMatchObject({
      client: '127.0.0.9',
      reason: 'relay-denied',
    });
  });

  it('relay tricks from an unauthorised client never reach an outside recipient', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    await c.cmd('MAIL FROM:<alice@example.com>'); // a forged local sender grants nothing
    const tricks = [
      'victim%elsewhere.example@example.com',
      'elsewhere.example!victim@example.com',
      '"victim@elsewhere.example"@example.com',
      'victim@elsewhere.example@example.com',
      '@example.com:victim@elsewhere.example',
      'victim@[192.0.2.1]',
      'victim@ELSEWHERE.EXAMPLE.',
      'victim%elsewhere.example@[127.0.0.1]',
    ];
    for (const t of tricks) {
      const r = await c.cmd(`RCPT TO:<${t}>`);
      expect(r, t).toMatch(/^5\d\d /);
    }
  });

  it('AUTH: a bad password gets 535 5.7.8; the right one lets the user relay', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    expect(await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'wrong')}`)).toBe(
      '535 5.7.8 Authentication credentials invalid',
    );
    expect(await c.cmd(`AUTH PLAIN ${plain('Alice@Example.com', 'alice-password')}`)).toMatch(
      /^235 2\.7\.0 /,
    );
    await c.cmd('MAIL FROM:<alice@example.com>');
    expect(await c.cmd('RCPT TO:<friend@elsewhere.example>')).toMatch(/^250 2\.1\.5 /);
  });

  it('a malformed sender gets 501 5.1.7 and the session stays up', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    expect(await c.cmd('MAIL FROM:<a b@example.com>')).toMatch(/^501 /);
    // smtp-server's own parser or our hook: either way 501 5.1.7.
    expect(await c.cmd('MAIL FROM:<x@-bad-.example>')).toMatch(/^501 5\.1\.7 /);
    expect(await c.cmd('MAIL FROM:<ok@remote.example>')).toMatch(/^250 /);
  });
});

describe('regressions from the SMTP review', () => {
  it('STARTTLS is refused, and nothing but AUTH makes a session authenticated', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO c.example');
    expect(await c.cmd('STARTTLS')).toMatch(/^5\d\d /);
    await c.cmd('MAIL FROM:<a@b.example>');
    expect(await c.cmd('RCPT TO:<victim@remote.example>')).toBe('550 5.7.1 Relaying is prohibited');
  });

  it('one copy per mailbox, however many RCPTs name it', async () => {
    const { node, port, dataDir } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<someone@remote.example>');
    for (const r of ['alice@example.com', 'Alice@Example.com', 'alice@[127.0.0.1]']) {
      expect(await c.cmd(`RCPT TO:<${r}>`)).toMatch(/^250 /);
    }
    await c.cmd('DATA');
    expect(await c.cmd('Subject: x\r\n\r\nbody\r\n.')).toBe('250 2.6.0 Message accepted');
    await node.settled();
    expect(readdirSync(join(maildirOf(dataDir, 'alice@example.com'), 'new'))).toHaveLength(1);
  });

  it('after a restart, sessions of the old version get 421 4.3.2 once the drain timeout passes', async () => {
    const { node, port } = await startNode();
    const old = await session(port);
    await old.cmd('EHLO old.example');
    node.load(bundle(2));
    expect(await old.reply()).toBe('421 4.3.2 Service restarting, please try again later');
    const fresh = await session(port);
    expect(await fresh.cmd('EHLO new.example')).toMatch(/^250/);
  });
});

describe('SMTP node: limits', () => {
  it('past the connection limit a client gets 421 and the server stays up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ims-smtp-'));
    const node = new SmtpNode({ listen: ['127.0.0.1'], port: 0, dataDir, maxClients: 1 });
    await node.start(bundle(1));
    onTestFinished(async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const port = Number(node.listening[0]?.split(':').at(-1));
    const first = await RawSmtp.open(port);
    onTestFinished(() => first.close());
    expect(await first.reply()).toMatch(/^220 /);
    const second = await RawSmtp.open(port);
    onTestFinished(() => second.close());
    expect(await second.reply()).toMatch(/^421 /);
    expect(await first.cmd('EHLO still.example')).toMatch(/^250/);
  });

  it('more than 100 recipients: 452 4.5.3 for the extra ones', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO many.example');
    await c.cmd('MAIL FROM:<a@remote.example>');
    for (let i = 0; i < 100; i++)
      expect(await c.cmd('RCPT TO:<alice@example.com>')).toMatch(/^250 /);
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toBe('452 4.5.3 Too many recipients');
  });
});

describe('SMTP node: delivery', () => {
  it('a local message is in the journal (synced) at the 250, then in the Maildir with Return-Path and Received:', async () => {
    const { node, port, dataDir } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    await c.cmd('MAIL FROM:<someone@remote.example>');
    await c.cmd('RCPT TO:<alice@example.com>');
    expect(await c.cmd('DATA')).toMatch(/^354 /);
    expect(await c.cmd('Subject: hello\r\n\r\nHi Alice.\r\n.')).toBe('250 2.6.0 Message accepted');
    expect(node.journal.stats.records).toBe(1);
    await node.settled();
    const dir = join(maildirOf(dataDir, 'alice@example.com'), 'new');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    // Mail is private to the service's user.
    expect(statSync(join(dataDir, 'maildirs')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, files[0] as string)).mode & 0o777).toBe(0o600);
    const text = readFileSync(join(dir, files[0] as string), 'utf8');
    expect(text).toMatch(
      /^Return-Path: <someone@remote\.example>\r\nReceived: from client\.example \(\[127\.0\.0\.1\]\)/,
    );
    expect(text).toContain('Hi Alice.');
  });
});

describe('SMTP node: restart', () => {
  it('a session opened before a restart keeps its rules; a new session gets the new ones', async () => {
    const { node, port } = await startNode();
    const before = await session(port);
    await before.cmd('EHLO old.example');
    const open = defaultConfig('example.com');
    open.restrictions.authenticated = false; // version 2: an open relay, for the test's sake
    node.load(bundle(2, open));
    expect(node.runningVersion).toBe(2);
    await before.cmd('MAIL FROM:<a@remote.example>');
    expect(await before.cmd('RCPT TO:<v@elsewhere.example>')).toBe(
      '550 5.7.1 Relaying is prohibited',
    );
    const after = await session(port);
    await after.cmd('EHLO new.example');
    await after.cmd('MAIL FROM:<a@remote.example>');
    expect(await after.cmd('RCPT TO:<v@elsewhere.example>')).toMatch(/^250 /);
  });

  it('logs `restarted` only when the generation changes: not at start, not for the same version', async () => {
    const { node, log } = await startNode();
    const restarted = () => log.filter((e) => e.event === 'restarted');
    expect(restarted()).toEqual([]);
    node.load(bundle(1));
    expect(restarted()).toEqual([]);
    node.load(bundle(2));
    expect(restarted()).toMatchObject([{ event: 'restarted', version: 2, previous: 1, level: 30 }]);
    expect(() => node.load({ ...bundle(3), config: {} })).toThrow();
    expect(restarted()).toHaveLength(1);
  });

  it('a bad bundle leaves the running version in place', async () => {
    const { node, port } = await startNode();
    const broken = {
      ...bundle(2),
      config: { ...defaultConfig('example.com'), siteDomain: 'not a domain' },
    };
    expect(() => node.load(broken)).toThrow(/Version 2 is not a valid configuration/);
    expect(node.runningVersion).toBe(1);
    const c = await session(port);
    await c.cmd('EHLO x.example');
    await c.cmd('MAIL FROM:<a@remote.example>');
    expect(await c.cmd('RCPT TO:<v@elsewhere.example>')).toBe('550 5.7.1 Relaying is prohibited');
  });
});

describe('SMTP node: internal addresses', () => {
  it('a client connecting to a listed server address may relay; the same client elsewhere may not', async () => {
    const config = defaultConfig('example.com');
    config.restrictions.internalAddresses = {
      enabled: true,
      entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }],
    };
    const { node } = await startNode(bundle(1, config), ['127.0.0.1', '127.0.0.2']);
    const ports = node.listening.map((l) => Number(l.split(':').at(-1)));
    const internal = await session(ports[1] as number, undefined, '127.0.0.2');
    await internal.cmd('EHLO a.example');
    await internal.cmd('MAIL FROM:<a@remote.example>');
    expect(await internal.cmd('RCPT TO:<v@elsewhere.example>')).toMatch(/^250 /);
    const external = await session(ports[0] as number, '127.0.0.3');
    await external.cmd('EHLO a.example');
    await external.cmd('MAIL FROM:<a@remote.example>');
    expect(await external.cmd('RCPT TO:<v@elsewhere.example>')).toBe(
      '550 5.7.1 Relaying is prohibited',
    );
  });
});

describe('SMTP node: bad input gets the right reply and the session stays up', () => {
  it('out-of-order, unknown, malformed and oversized commands', async () => {
    const { port } = await startNode();
    const c = await session(port);
    const cases: [string, RegExp][] = [
      ['MAIL FROM:<a@remote.example>', /^503 5\.5\.1 /],
      ['RCPT TO:<alice@example.com>', /^503 5\.5\.1 /],
      ['EHLO client.example', /^250 /m],
      ['RCPT TO:<alice@example.com>', /^503 5\.5\.1 /],
      ['DATA', /^503 5\.5\.1 /],
      ['BOGUS', /^500 5\.5\.2 /],
      [`X${'x'.repeat(4000)}`, /^500 5\.5\.2 /],
      ['MAIL FROM:<a@remote.example> XYZ=1', /^555 5\.5\.4 /],
      ['MAIL FROM:<a@remote.example> SIZE=999999999999', /^552 5\.3\.4 /],
      [`MAIL FROM:<${'a'.repeat(600)}@remote.example>`, /^501 5\.1\.7 /],
      ['MAIL FROM:<a@remote.example> BODY=8BITMIME', /^250 2\.1\.0 /],
      ['MAIL FROM:<b@remote.example>', /^503 5\.5\.1 /],
      ['RCPT TO:<alice@example.com> NOTIFY=NEVER', /^555 5\.5\.4 /],
      ['RCPT TO:alice@example.com', /^501 5\.1\.3 /],
      [`RCPT TO:<${'a'.repeat(65)}@example.com>`, /^501 5\.1\.3 /],
      [`RCPT TO:<a@${'b'.repeat(250)}.com>`, /^501 5\.1\.3 /],
      ['RCPT TO:<a@b@c>', /^501 5\.1\.3 /],
      ['RCPT TO:<alice@example.com>', /^250 2\.1\.5 /],
      ['NOOP \u0000\u0001', /^250 /],
      ['RSET', /^250 /],
    ];
    for (const [line, reply] of cases) expect(await c.cmd(line), line.slice(0, 60)).toMatch(reply);
    // A line with no end: refused with 421 once too long; the server stays up.
    for (let i = 0; i < 4; i++) c.write('Y'.repeat(1024 * 1024));
    expect(await c.reply()).toMatch(/^421 4\.4\.2 /);
    const next = await session(port);
    expect(await next.cmd('EHLO still.example')).toMatch(/^250/);
  });

  it('an oversize message is refused with 552 5.3.4 after DATA, and nothing is stored', async () => {
    const { port, dataDir } = await startNode(undefined, undefined, { maxMessageSize: 1000 });
    const c = await session(port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<a@remote.example>');
    await c.cmd('RCPT TO:<alice@example.com>');
    await c.cmd('DATA');
    expect(await c.cmd(`Subject: big\r\n\r\n${'z'.repeat(5000)}\r\n.`)).toMatch(/^552 5\.3\.4 /);
    expect(() => readdirSync(join(maildirOf(dataDir, 'alice@example.com'), 'new'))).toThrow();
    expect(await c.cmd('NOOP')).toMatch(/^250 /);
  });

  it('an idle session is closed with 421 after the idle timeout', async () => {
    const { port } = await startNode(undefined, undefined, { idleTimeoutMs: 300 });
    const c = await session(port);
    expect(await c.reply(3000)).toMatch(/^421 /);
  });
});

describe('docs/design.md §2 at the wire: one row per rule', () => {
  type Row = {
    rule: string;
    patch?: (c: ReturnType<typeof defaultConfig>) => void;
    from?: string;
    auth?: boolean;
    rcpt: string;
    reply: RegExp;
  };
  const denied = /^550 5\.7\.1 Relaying is prohibited$/;
  const ok = /^250 2\.1\.5 /;
  const q169683 = (c: ReturnType<typeof defaultConfig>) => {
    c.restrictions.authenticated = false;
    c.restrictions.clientAddresses = {
      enabled: true,
      entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }],
    };
    c.routes.push(
      { sentTo: 'ms.com', routeTo: 'host1.example' },
      { sentTo: '#ms.com', routeTo: '<inbound>' },
      { sentTo: 'x.ms.com', routeTo: '<inbound>' },
    );
  };
  const rows: Row[] = [
    { rule: '1 local delivery is never restricted', rcpt: 'alice@example.com', reply: ok },
    { rule: '1 relaying needs permission', rcpt: 'v@remote.example', reply: denied },
    {
      rule: '2 #ms.com is inbound (Q169683)',
      patch: q169683,
      rcpt: 'postmaster@ms.com',
      reply: ok,
    },
    {
      rule: '2 sales.ms.com goes to host1: relaying',
      patch: q169683,
      rcpt: 'v@sales.ms.com',
      reply: denied,
    },
    {
      rule: '2 …and a permitted client relays it',
      patch: q169683,
      from: '127.0.0.2',
      rcpt: 'v@sales.ms.com',
      reply: ok,
    },
    {
      rule: '2 x.ms.com is inbound, abc.x.ms.com too',
      patch: q169683,
      rcpt: 'postmaster@abc.x.ms.com',
      reply: ok,
    },
    {
      rule: '2 whole labels only: pms.com is no match',
      patch: q169683,
      rcpt: 'postmaster@pms.com',
      reply: denied,
    },
    {
      rule: '4 no-reroute with rejection: refused at RCPT',
      patch: (c) => {
        c.rerouteMode = 'no-reroute';
      },
      auth: true,
      rcpt: 'v@remote.example',
      reply: denied,
    },
    {
      rule: '4 no-reroute without rejection: accepted (then NDR, Q255695)',
      patch: (c) => {
        c.rerouteMode = 'no-reroute';
        c.rejectUnknownRecipients = false;
      },
      rcpt: 'v@remote.example',
      reply: ok,
    },
    {
      rule: '5 criteria are OR-ed: the IP list admits a client that did not authenticate',
      patch: (c) => {
        c.restrictions.clientAddresses = {
          enabled: true,
          entries: [{ ip: '127.0.0.0', mask: '255.255.255.0' }],
        };
      },
      from: '127.0.0.5',
      rcpt: 'v@remote.example',
      reply: ok,
    },
    {
      rule: '5 none ticked: everyone may relay (the open relay the advisor flags)',
      patch: (c) => {
        c.restrictions.authenticated = false;
      },
      rcpt: 'v@remote.example',
      reply: ok,
    },
    {
      rule: '6 never-route beats authentication',
      patch: (c) => {
        c.restrictions.neverRoute = [{ ip: '127.0.0.6', mask: '255.255.255.255' }];
      },
      from: '127.0.0.6',
      auth: true,
      rcpt: 'v@remote.example',
      reply: denied,
    },
    {
      rule: '6 never-route does not stop local delivery',
      patch: (c) => {
        c.restrictions.neverRoute = [{ ip: '127.0.0.6', mask: '255.255.255.255' }];
      },
      from: '127.0.0.6',
      rcpt: 'alice@example.com',
      reply: ok,
    },
    { rule: '8 AUTH lets a user relay', auth: true, rcpt: 'v@remote.example', reply: ok },
    {
      rule: '10 a range is network + mask; outside it, no relay',
      patch: (c) => {
        c.restrictions.clientAddresses = {
          enabled: true,
          entries: [{ ip: '127.0.0.0', mask: '255.255.255.252' }],
        };
      },
      from: '127.0.0.7',
      rcpt: 'v@remote.example',
      reply: denied,
    },
    {
      rule: 'source route ignored: judged as u@d',
      rcpt: '@relay.example:alice@example.com',
      reply: ok,
    },
    { rule: 'postmaster of the site domain always', rcpt: 'PostMaster@Example.com', reply: ok },
    { rule: 'malformed address: 501 5.1.3', rcpt: 'a..b@example.com', reply: /^501 5\.1\.3 / },
  ];
  it.each(rows)('rule $rule', async (row) => {
    const config = defaultConfig('example.com');
    row.patch?.(config);
    const { port } = await startNode(bundle(1, config));
    const c = await session(port, row.from);
    await c.cmd('EHLO client.example');
    if (row.auth)
      expect(await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'alice-password')}`)).toMatch(
        /^235/,
      );
    await c.cmd('MAIL FROM:<someone@remote.example>');
    expect(await c.cmd(`RCPT TO:<${row.rcpt}>`)).toMatch(row.reply);
  });
});

describe('SMTP node: AUTH', () => {
  it('repeated failures from one address are answered ever more slowly', async () => {
    const { port } = await startNode();
    const c = await session(port, '127.0.0.8');
    await c.cmd('EHLO c.example');
    const bad = `AUTH PLAIN ${plain('alice@example.com', 'wrong')}`;
    expect(await c.cmd(bad)).toBe('535 5.7.8 Authentication credentials invalid');
    // A lower bound only: the second failure waits at least 250 ms, the third 500 ms.
    let t = Date.now();
    expect(await c.cmd(bad)).toBe('535 5.7.8 Authentication credentials invalid');
    expect(Date.now() - t).toBeGreaterThanOrEqual(240);
    t = Date.now();
    expect(await c.cmd(bad)).toBe('535 5.7.8 Authentication credentials invalid');
    expect(Date.now() - t).toBeGreaterThanOrEqual(490);
  });

  it('a directory change applies without a restart: a new mailbox can AUTH and receive at once', async () => {
    const { node, port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO c.example');
    expect(await c.cmd(`AUTH PLAIN ${plain('bob@example.com', 'bob-password')}`)).toMatch(/^535 /);
    node.setDirectory([
      ...bundle(1).directory,
      { address: 'bob@example.com', passwordHash: hash('bob-password') },
    ]);
    expect(node.runningVersion).toBe(1);
    const d = await session(port);
    await d.cmd('EHLO d.example');
    expect(await d.cmd(`AUTH PLAIN ${plain('bob@example.com', 'bob-password')}`)).toMatch(/^235 /);
    await d.cmd('MAIL FROM:<bob@example.com>');
    expect(await d.cmd('RCPT TO:<bob@example.com>')).toMatch(/^250 /);
  });
});
