import { createServer, type Server } from 'node:net';
import {
  defaultConfig,
  evaluate,
  formatReply,
  type RoutingConfig,
  replyFor,
} from '@ims/routing-core';
import { afterEach, describe, expect, it } from 'vitest';
import { relayBattery } from './battery';
import { isLoopback, runRelayTest } from './run';

/**
 * A stand-in SMTP service that decides every RCPT with routing-core, as the
 * real node does (the node itself lives in apps/ and is tested end to end).
 */
function fakeSmtp(config: RoutingConfig) {
  const peers: string[] = [];
  const server: Server = createServer((socket) => {
    const clientIp = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const serverIp = (socket.localAddress ?? '').replace(/^::ffff:/, '');
    peers.push(clientIp);
    let mailFrom = '';
    let buffer = '';
    socket.write('220 fake ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += String(chunk);
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-fake\r\n250 ENHANCEDSTATUSCODES\r\n');
        else if (verb === 'MAIL') {
          mailFrom = line.slice('MAIL FROM:'.length);
          socket.write('250 2.1.0 Sender OK\r\n');
        } else if (verb === 'RCPT') {
          const d = evaluate(config, {
            clientIp,
            serverIp,
            authenticated: false,
            mailFrom,
            rcptTo: line.slice('RCPT TO:'.length),
            isKnownRecipient: () => false,
          });
          socket.write(`${formatReply(replyFor(d))}\r\n`);
        } else if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
        else socket.write('500 5.5.2 Unknown command\r\n');
      }
    });
    socket.on('error', () => {});
  });
  return new Promise<{ port: number; peers: string[]; server: Server }>((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as { port: number }).port, peers, server }),
    );
  });
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
async function serve(config: RoutingConfig) {
  const s = await fakeSmtp(config);
  servers.push(s.server);
  return s;
}

const base = () => defaultConfig('example.com');

describe('the battery', () => {
  it('covers every address-trick family, the NDR relay and positive controls', () => {
    const cases = relayBattery({ siteDomain: 'example.com', serverAddress: '127.0.0.1' });
    const families = new Set(cases.map((c) => c.family));
    for (const f of [
      'control',
      'plain',
      'percent-hack',
      'bang-path',
      'source-route',
      'quoted-local-part',
      'trailing-dot',
      'case',
      'domain-lookalike',
      'ip-literal',
      'spoofed-sender',
      'null-sender',
      'ndr-relay',
    ]) {
      expect(families, f).toContain(f);
    }
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    expect(cases.find((c) => c.id === 'percent-hack')?.rcptTo).toBe(
      '<victim%relay-test.invalid@example.com>',
    );
    expect(cases.find((c) => c.id === 'percent-hack-literal')?.rcptTo).toBe(
      '<victim%relay-test.invalid@[127.0.0.1]>',
    );
    expect(cases.filter((c) => c.expected === 'accept').length).toBeGreaterThan(0);
  });
});

describe('runRelayTest', () => {
  it('passes every case against the defaults, from the chosen source address', async () => {
    const s = await serve(base());
    const r = await runRelayTest({
      host: '127.0.0.1',
      port: s.port,
      from: '127.0.0.2',
      siteDomain: 'example.com',
    });
    expect(r.cases.filter((c) => !c.passed)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.from).toBe('127.0.0.2');
    expect(r.target).toEqual({ host: '127.0.0.1', port: s.port });
    expect(new Set(s.peers)).toEqual(new Set(['127.0.0.2']));
    expect(r.cases.find((c) => c.id === 'plain-outside')?.reply).toBe(
      '550 5.7.1 Relaying is prohibited',
    );
    expect(r.cases.find((c) => c.id === 'control-postmaster')?.reply).toMatch(/^250 /);
  });

  it('fails every relay attempt against an open relay (no restriction ticked)', async () => {
    const config = base();
    config.restrictions.authenticated = false;
    const s = await serve(config);
    const r = await runRelayTest({
      host: '127.0.0.1',
      port: s.port,
      from: '127.0.0.1',
      siteDomain: 'example.com',
    });
    expect(r.passed).toBe(false);
    const plain = r.cases.find((c) => c.id === 'plain-outside');
    expect(plain).toMatchObject({ passed: false, reply: '250 2.1.5 Accepted' });
    for (const id of ['source-route', 'ip-literal', 'null-sender', 'spoofed-site-sender']) {
      expect(r.cases.find((c) => c.id === id)?.passed, id).toBe(false);
    }
    // The % hack stays local (and unknown): refused even here.
    expect(r.cases.find((c) => c.id === 'percent-hack')?.reply).toMatch(/^550 5\.1\.1 /);
    expect(r.cases.filter((c) => c.family === 'control').every((c) => c.passed)).toBe(true);
  });

  it('flags the Q255695 NDR relay: "Do not reroute" without rejecting unknown recipients', async () => {
    const config = base();
    config.rerouteMode = 'no-reroute';
    config.rejectUnknownRecipients = false;
    const s = await serve(config);
    const r = await runRelayTest({
      host: '127.0.0.1',
      port: s.port,
      from: '127.0.0.1',
      siteDomain: 'example.com',
    });
    expect(r.cases.find((c) => c.id === 'ndr-relay')).toMatchObject({
      passed: false,
      reply: '250 2.1.5 Accepted',
      mailFrom: '<victim@ndr-victim.invalid>',
    });
    expect(r.cases.find((c) => c.id === 'ndr-unknown-local')?.passed).toBe(false);
    expect(r.cases.find((c) => c.id === 'percent-hack')?.passed).toBe(false);

    // With the hardening option on, the same mode is closed.
    config.rejectUnknownRecipients = true;
    const closed = await serve(config);
    const r2 = await runRelayTest({
      host: '127.0.0.1',
      port: closed.port,
      from: '127.0.0.1',
      siteDomain: 'example.com',
    });
    expect(r2.cases.filter((c) => !c.passed)).toEqual([]);
  });

  it('judges from the chosen source address only', async () => {
    const config = base();
    config.restrictions.clientAddresses = {
      enabled: true,
      entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }],
    };
    const s = await serve(config);
    const run = (from: string) =>
      runRelayTest({ host: '127.0.0.1', port: s.port, from, siteDomain: 'example.com' });
    expect((await run('127.0.0.2')).passed).toBe(false);
    expect((await run('127.0.0.3')).passed).toBe(true);
  });

  it('reports a dead service as a fail on every case, with a clear reply', async () => {
    const s = await serve(base());
    const port = s.port;
    await new Promise((r) => s.server.close(r));
    const r = await runRelayTest({
      host: '127.0.0.1',
      port,
      from: '127.0.0.1',
      siteDomain: 'x.example',
    });
    expect(r.passed).toBe(false);
    expect(r.cases.every((c) => !c.passed)).toBe(true);
    expect(r.cases[0]?.reply).toMatch(/^no answer: connection refused/);
  });

  it('reports a silent service as a fail (timeout)', async () => {
    // It reads (so it sees the client leave) but never answers.
    const silent = createServer((socket) => socket.resume());
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const cases = relayBattery({ siteDomain: 'example.com', serverAddress: '127.0.0.1' }).slice(
      0,
      2,
    );
    const r = await runRelayTest({
      host: '127.0.0.1',
      port,
      from: '127.0.0.1',
      siteDomain: 'example.com',
      timeoutMs: 200,
      cases,
    });
    expect(r.cases.map((c) => c.reply)).toEqual([
      'no answer: no reply within 200 ms',
      'no answer: no reply within 200 ms',
    ]);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['::ffff:127.0.0.9', true],
    ['10.0.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['localhost', false],
    ['127.0.0.256', false],
    ['', false],
  ])('%s → %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});
