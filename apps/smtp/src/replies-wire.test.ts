/**
 * Every reply on the wire is a row of routing-core's one table (#13 item
 * 12): the library's own texts are replaced, and a quoted local part with a
 * space, valid under RFC 5321 §4.1.2, is judged by routing-core's parser,
 * as the what-if judges it.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decide, defaultConfig, formatReply, REPLIES } from '@ims/routing-core';
import { describe, expect, it } from 'vitest';
import { libraryReply } from './ims-smtp-server';
import { session, startNode } from './testing/node-fixture';

const require = createRequire(import.meta.url);
const TABLE = new Set<string>(Object.values(REPLIES).map(formatReply));

describe("the library's own lines", () => {
  it('every send() of the library (connection, SASL, server) has its row in the table', () => {
    const files = ['smtp-connection.js', 'sasl.js', 'smtp-server.js'].map((f) =>
      readFileSync(require.resolve(`smtp-server/lib/${f}`), 'utf8'),
    );
    const sends = files.flatMap((source) =>
      [...source.matchAll(/\.send\((\d{3}),\s*'([^']*)'/g)].map(
        ([, code, text]) => [Number(code), text ?? ''] as const,
      ),
    );
    expect(sends.length).toBeGreaterThan(60);
    const missing = sends.filter(
      ([code, text]) =>
        // The AUTH challenges, the greeting and HELO's line are composed, not chosen.
        code !== 334 &&
        code !== 354 && // START_MAIL_INPUT
        !(code === 250 && text === 'Accepted') && // by context: REPLIES.senderOk, recipientOk
        code !== 220 &&
        !(code === 250 && text === '') &&
        !libraryReply(code, text, 'mx'),
    );
    // WIZ's 200 is disabled (an unknown command here).
    expect(missing.filter(([code]) => code !== 200)).toEqual([]);
    for (const [code, text] of sends) {
      const row = libraryReply(code, text, 'mx');
      if (row) expect(TABLE.has(formatReply(row))).toBe(true);
    }
  });

  it('on the wire: the table’s lines, never the library’s texts', async () => {
    const { port } = await startNode();
    const c = await session(port);
    expect(await c.cmd('MAIL FROM:<a@remote.example>')).toBe('503 5.5.1 Send HELO/EHLO first');
    expect(await c.cmd('BOGUS')).toBe('500 5.5.2 Command not recognized');
    expect(await c.cmd('WIZ')).toBe('500 5.5.2 Command not recognized');
    expect(await c.cmd('EHLO')).toBe('501 5.5.4 Syntax error in parameters or arguments');
    await c.cmd('EHLO client.example');
    expect(await c.cmd('NOOP')).toBe('250 2.0.0 OK');
    expect(await c.cmd('HELP')).toBe(formatReply(REPLIES.help));
    expect(await c.cmd('VRFY alice')).toBe(formatReply(REPLIES.cannotVerify));
    expect(await c.cmd('RCPT TO:<alice@example.com>')).toBe('503 5.5.1 Need MAIL command');
    expect(await c.cmd('DATA')).toBe('503 5.5.1 Need RCPT command');
    expect(await c.cmd('MAIL FROM:<a@remote.example>')).toBe('250 2.1.0 Accepted');
    expect(await c.cmd('MAIL FROM:<a@remote.example>')).toBe('503 5.5.1 Nested MAIL command');
    expect(await c.cmd('DATA')).toBe('503 5.5.1 Need RCPT command');
    expect(await c.cmd('AUTH CRAM-MD5')).toBe(
      '503 5.5.1 Bad sequence of commands: AUTH is not allowed during a mail transaction',
    );
    expect(await c.cmd('RSET')).toBe('250 2.0.0 OK');
    expect(await c.cmd('AUTH CRAM-MD5')).toBe('504 5.5.4 Unrecognized authentication type');
    expect(await c.cmd('AUTH PLAIN')).toBe('334');
    expect(await c.cmd('*')).toBe('501 5.7.0 Authentication aborted');
    expect(await c.cmd('MAIL FROM:<a@remote.example> SIZE=x')).toBe(
      '501 5.5.4 Syntax error in parameters or arguments',
    );
    expect(await c.cmd('MAIL FROM:<a@remote.example> SIZE=999999999999')).toBe(
      formatReply(REPLIES.messageTooBig),
    );
    expect(await c.cmd('QUIT')).toBe('221 2.0.0 Bye');
  });
});

describe('a quoted local part with a space (RFC 5321 §4.1.2)', () => {
  const config = defaultConfig('example.com');
  const whatIf = (rcptTo: string, mailFrom = '<"john doe"@example.com>') =>
    decide(
      config,
      { clientIp: '127.0.0.1', serverIp: '127.0.0.1', authenticated: false, mailFrom, rcptTo },
      ['alice@example.com'],
    ).reply.line;

  it('MAIL FROM and RCPT TO take it; RCPT gets what the what-if prints', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    expect(await c.cmd('MAIL FROM:<"john doe"@example.com> SIZE=100')).toBe('250 2.1.0 Accepted');
    for (const rcpt of [
      '<"john doe"@example.com>',
      '<"a@b"@elsewhere.example>',
      '<"a b"@elsewhere.example>',
      '<"quoted \\" quote"@example.com>',
    ]) {
      const wire = await c.cmd(`RCPT TO:${rcpt}`);
      expect(wire, rcpt).toBe(whatIf(rcpt));
      expect(wire, rcpt).not.toMatch(/^501 /);
    }
    expect(whatIf('<"john doe"@example.com>')).toBe(formatReply(REPLIES.unknownRecipient));
    expect(whatIf('<"a b"@elsewhere.example>')).toBe(formatReply(REPLIES.relayDenied));
  });

  it('a malformed quoted path is still refused, with the table’s line', async () => {
    const { port } = await startNode();
    const c = await session(port);
    await c.cmd('EHLO client.example');
    expect(await c.cmd('MAIL FROM:<"john doe@example.com>')).toBe(
      formatReply(REPLIES.badSenderSyntax),
    );
    expect(await c.cmd('MAIL FROM:<"john doe"@example.com>')).toBe('250 2.1.0 Accepted');
    expect(await c.cmd('RCPT TO:<"a b"@>')).toBe(formatReply(REPLIES.badRecipientSyntax));
    expect(await c.cmd('RCPT TO:<"a\u0001b"@example.com>')).toMatch(/^501 5\.1\.3 /);
  });
});
