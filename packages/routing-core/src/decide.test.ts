import { describe, expect, it } from 'vitest';
import { compile } from './compile';
import { defaultConfig } from './config';
import { type Directory, decide } from './decide';

const config = defaultConfig('example.com');
const envelope = (rcptTo: string, authenticated = false) => ({
  clientIp: '192.0.2.10',
  serverIp: '127.0.0.1',
  authenticated,
  mailFrom: '<sender@remote.example>',
  rcptTo,
});

describe('decide', () => {
  const directories: [string, Directory][] = [
    ['a list', ['alice@example.com']],
    ['a set', new Set(['Alice@Example.com'])],
    ['a lookup', (a: string) => a.toLowerCase() === 'alice@example.com'],
  ];

  it.each(directories)('with %s, an unknown local recipient gets 550 5.1.1', (_kind, directory) => {
    expect(decide(config, envelope('<nobody@example.com>'), directory)).toMatchObject({
      decision: { action: 'reject', reason: 'unknown-recipient' },
      reply: {
        code: 550,
        enhanced: '5.1.1',
        line: '550 5.1.1 Recipient address rejected: no such user here',
      },
    });
    expect(decide(config, envelope('<ALICE@example.com>'), directory).reply.line).toBe(
      '250 2.1.5 Accepted',
    );
  });

  it('without a directory, every local address counts as a mailbox', () => {
    expect(decide(config, envelope('<nobody@example.com>')).reply.line).toBe('250 2.1.5 Accepted');
  });

  it.each([
    ['<alice@example.com>', false, '250 2.1.5 Accepted', 'deliver'],
    ['<Postmaster>', false, '250 2.1.5 Accepted', 'deliver'],
    ['<victim@elsewhere.example>', false, '550 5.7.1 Relaying is prohibited', 'reject'],
    ['<victim@elsewhere.example>', true, '250 2.1.5 Accepted', 'relay'],
    ['<no-at-sign>', false, '501 5.1.3 Bad recipient address syntax', 'reject'],
  ] as const)('%s (authenticated: %s) → %s', (rcptTo, authenticated, line, action) => {
    const verdict = decide(config, envelope(rcptTo, authenticated), ['alice@example.com']);
    expect(verdict.reply.line).toBe(line);
    expect(verdict.decision.action).toBe(action);
    expect(verdict.reply.line).toBe(
      `${verdict.reply.code} ${verdict.reply.enhanced} ${verdict.reply.text}`,
    );
  });

  it('with recipient rejection off, an unknown local recipient is accepted for an NDR', () => {
    const lax = { ...config, rejectUnknownRecipients: false };
    expect(decide(lax, envelope('<nobody@example.com>'), [])).toMatchObject({
      decision: { action: 'accept-ndr', reason: 'unknown-recipient' },
      reply: { line: '250 2.1.5 Accepted' },
    });
  });

  it('takes a compiled policy as well as a configuration, with the same answer', () => {
    const e = envelope('<victim@elsewhere.example>');
    expect(decide(compile(config), e, [])).toEqual(decide(config, e, []));
  });

  it('a bad MAIL FROM gets the sender syntax reply', () => {
    expect(
      decide(config, { ...envelope('<alice@example.com>'), mailFrom: '<bad' }, []).reply.line,
    ).toBe('501 5.1.7 Bad sender address syntax');
  });
});
