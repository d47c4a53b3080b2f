import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseDomain } from './domain';
import type { DomainKind, Mailbox, ParsedPath, ParsePathOptions, PathError } from './path';
import { parsePath } from './path';

type Expected =
  | { mailbox: Mailbox; sourceRoute?: string[] }
  | { kind: 'null' | 'postmaster' }
  | { error: PathError };

interface Case {
  input: string;
  options?: ParsePathOptions;
  expected: Expected;
  why?: string;
}

function mailbox(localPart: string, domain: string, domainKind: DomainKind = 'name'): Expected {
  const shown =
    domainKind === 'name' ? domain : domainKind === 'ipv4' ? `[${domain}]` : `[IPv6:${domain}]`;
  return { mailbox: { localPart, domain, domainKind, address: `${localPart}@${shown}` } };
}

function routed(route: string[], localPart: string, domain: string): Expected {
  return { ...(mailbox(localPart, domain) as { mailbox: Mailbox }), sourceRoute: route };
}

const error = (e: PathError): Expected => ({ error: e });

/** A valid domain name of exactly `length` characters (labels of 62, then the rest). */
function domainOfLength(length: number): string {
  const labels: string[] = [];
  let remaining = length;
  while (remaining > 63) {
    labels.push('a'.repeat(62));
    remaining -= 63;
  }
  labels.push('b'.repeat(remaining));
  return labels.join('.');
}

const ALLOW_NULL: ParsePathOptions = { allowNull: true };
const ALLOW_POSTMASTER: ParsePathOptions = { allowPostmaster: true };
const ALLOW_BOTH: ParsePathOptions = { allowNull: true, allowPostmaster: true };

const local64 = 'l'.repeat(64);
const local65 = 'l'.repeat(65);
// <local64@domain189> is exactly 256 characters.
const domain189 = domainOfLength(189);
const domain190 = domainOfLength(190);
// Six labels of 30 × ü: 189 characters as given, 225 as A-labels.
const idn189 = `${Array(6).fill('ü'.repeat(30)).join('.')}.com`;

function run(cases: Case[]): void {
  for (const c of cases) {
    const shown = JSON.stringify(c.input);
    const input = shown.length > 80 ? `${shown.slice(0, 60)}…(${c.input.length} chars)` : shown;
    const options = c.options ? ` ${JSON.stringify(c.options)}` : '';
    const label = `${input}${options}${c.why ? ` (${c.why})` : ''}`;
    it(label, () => {
      const result = parsePath(c.input, c.options);
      const e = c.expected;
      if ('error' in e) {
        expect(result).toMatchObject({ ok: false, error: e.error });
        if (!result.ok) expect(result.message).toMatch(/^[A-Z<].*\.$/);
      } else if ('kind' in e) {
        expect(result).toEqual({ ok: true, kind: e.kind });
      } else {
        expect(result).toEqual({
          ok: true,
          kind: 'mailbox',
          mailbox: e.mailbox,
          sourceRoute: e.sourceRoute ?? [],
        });
      }
    });
  }
}

describe('parsePath', () => {
  describe('normal addresses', () => {
    const cases: Case[] = [
      { input: '<user@example.com>', expected: mailbox('user', 'example.com') },
      { input: 'user@example.com', expected: mailbox('user', 'example.com'), why: 'bare' },
      { input: '<First.Last@Example.COM>', expected: mailbox('First.Last', 'example.com') },
      { input: "<o'brien+tag@example.com>", expected: mailbox("o'brien+tag", 'example.com') },
      {
        input: "<!#$%&'*+-/=?^_`{|}~@example.com>",
        expected: mailbox("!#$%&'*+-/=?^_`{|}~", 'example.com'),
        why: 'every atext special',
      },
      { input: '<a.b.c@mail.example.co.uk>', expected: mailbox('a.b.c', 'mail.example.co.uk') },
      { input: '<user@localhost>', expected: mailbox('user', 'localhost') },
      { input: '<Postmaster@example.com>', expected: mailbox('Postmaster', 'example.com') },
      { input: '<user@192.0.2.1>', expected: error('bad-domain'), why: 'IP without brackets' },
      { input: '<user@example.123>', expected: error('bad-domain') },
      { input: '<user@exa_mple.com>', expected: error('bad-domain') },
      { input: '<user@-example.com>', expected: error('bad-domain') },
      { input: '<user@.example.com>', expected: error('bad-domain') },
      { input: '<user@example..com>', expected: error('bad-domain') },
      { input: '<user@example.com:25>', expected: error('bad-domain') },
      { input: '<user@>', expected: error('bad-domain') },
      { input: 'user@', expected: error('bad-domain') },
      { input: '<.user@example.com>', expected: error('syntax') },
      { input: '<user.@example.com>', expected: error('syntax') },
      { input: '<us..er@example.com>', expected: error('syntax') },
      { input: '<us(er)@example.com>', expected: error('syntax') },
      { input: '<us,er@example.com>', expected: error('syntax') },
      { input: '<us\\er@example.com>', expected: error('syntax') },
      { input: '<user"x"@example.com>', expected: error('syntax') },
      { input: '@', expected: error('syntax') },
      { input: '<@>', expected: error('syntax') },
    ];
    run(cases);
  });

  describe('null path', () => {
    const cases: Case[] = [
      { input: '<>', expected: error('null-path-not-allowed') },
      { input: '<>', options: ALLOW_NULL, expected: { kind: 'null' } },
      { input: '<>', options: ALLOW_BOTH, expected: { kind: 'null' } },
      { input: '<>', options: ALLOW_POSTMASTER, expected: error('null-path-not-allowed') },
      { input: '', options: ALLOW_NULL, expected: error('syntax'), why: 'not <>' },
      { input: '< >', options: ALLOW_NULL, expected: error('syntax') },
      { input: '<<>>', options: ALLOW_NULL, expected: error('syntax') },
      { input: '<""@>', options: ALLOW_NULL, expected: error('bad-domain') },
    ];
    run(cases);
  });

  describe('Postmaster', () => {
    const cases: Case[] = [
      { input: '<Postmaster>', options: ALLOW_POSTMASTER, expected: { kind: 'postmaster' } },
      { input: '<postmaster>', options: ALLOW_POSTMASTER, expected: { kind: 'postmaster' } },
      { input: '<POSTMASTER>', options: ALLOW_BOTH, expected: { kind: 'postmaster' } },
      { input: '<pOsTmAsTeR>', options: ALLOW_POSTMASTER, expected: { kind: 'postmaster' } },
      { input: 'Postmaster', options: ALLOW_POSTMASTER, expected: { kind: 'postmaster' } },
      { input: '<Postmaster>', expected: error('no-domain') },
      { input: '<Postmaster>', options: ALLOW_NULL, expected: error('no-domain') },
      {
        input: '<Postmaster@example.com>',
        options: ALLOW_POSTMASTER,
        expected: mailbox('Postmaster', 'example.com'),
      },
      { input: '<"Postmaster">', options: ALLOW_POSTMASTER, expected: error('no-domain') },
      { input: '<Postmasters>', options: ALLOW_POSTMASTER, expected: error('no-domain') },
      { input: '<Post.master>', options: ALLOW_POSTMASTER, expected: error('no-domain') },
      { input: '<Postmaster.>', options: ALLOW_POSTMASTER, expected: error('syntax') },
      { input: '< Postmaster>', options: ALLOW_POSTMASTER, expected: error('syntax') },
      { input: '<Postmaster@>', options: ALLOW_POSTMASTER, expected: error('bad-domain') },
      {
        input: '<@relay.example:Postmaster>',
        options: ALLOW_POSTMASTER,
        expected: error('no-domain'),
        why: 'RFC 5321 allows only the exact form <Postmaster>',
      },
      { input: '<user>', options: ALLOW_POSTMASTER, expected: error('no-domain') },
    ];
    run(cases);
  });

  describe('source routes (accepted and ignored)', () => {
    const cases: Case[] = [
      {
        input: '<@a.example:user@d.example>',
        expected: routed(['a.example'], 'user', 'd.example'),
      },
      {
        input: '<@a.example,@B.Example.,@c.example:user@d.example>',
        expected: routed(['a.example', 'b.example', 'c.example'], 'user', 'd.example'),
      },
      {
        input: '@a.example:user@d.example',
        expected: routed(['a.example'], 'user', 'd.example'),
        why: 'bare',
      },
      {
        input: '<@bücher.example:user@d.example>',
        expected: routed(['xn--bcher-kva.example'], 'user', 'd.example'),
      },
      {
        input: '<@example.com:user@victim.example>',
        expected: routed(['example.com'], 'user', 'victim.example'),
        why: 'the final mailbox decides, not the route',
      },
      { input: '<@a.example>', expected: error('syntax') },
      { input: '<@a.example:>', expected: error('syntax') },
      { input: '<@a.example:@d.example>', expected: error('syntax') },
      { input: '<@:user@d.example>', expected: error('syntax') },
      { input: '<@a.example,:user@d.example>', expected: error('syntax') },
      { input: '<@a.example,b.example:user@d.example>', expected: error('syntax') },
      { input: '<@a.example,,@b.example:user@d.example>', expected: error('syntax') },
      { input: '<@a.example::user@d.example>', expected: error('syntax') },
      { input: '<@a.example user@d.example>', expected: error('syntax') },
      { input: '<@a.example;user@d.example>', expected: error('syntax') },
      { input: '<@bad_domain:user@d.example>', expected: error('syntax') },
      { input: '<@a..example:user@d.example>', expected: error('syntax') },
      { input: '<@[192.0.2.1]:user@d.example>', expected: error('syntax') },
      { input: '<@"a":user@d.example>', expected: error('syntax') },
      { input: '<@a.example:user>', expected: error('no-domain') },
      { input: '<@a.example:user@@d.example>', expected: error('syntax') },
      {
        input: `<@${domainOfLength(250)}:user@d.example>`,
        expected: error('path-too-long'),
      },
    ];
    run(cases);
  });

  describe('quoted local parts', () => {
    const cases: Case[] = [
      { input: '<"john doe"@example.com>', expected: mailbox('"john doe"', 'example.com') },
      {
        input: '<"user@victim.example"@example.com>',
        expected: mailbox('"user@victim.example"', 'example.com'),
      },
      { input: '<"a\\"b"@example.com>', expected: mailbox('"a\\"b"', 'example.com') },
      { input: '<"a\\\\b"@example.com>', expected: mailbox('"a\\\\b"', 'example.com') },
      {
        input: '<"john.doe"@example.com>',
        expected: mailbox('john.doe', 'example.com'),
        why: 'a quoted dot-string is unquoted',
      },
      {
        input: '<"J\\o\\h\\n"@example.com>',
        expected: mailbox('John', 'example.com'),
        why: 'needless escapes',
      },
      { input: '<"john\\ doe"@example.com>', expected: mailbox('"john doe"', 'example.com') },
      { input: '<"a..b"@example.com>', expected: mailbox('"a..b"', 'example.com') },
      { input: '<".a"@example.com>', expected: mailbox('".a"', 'example.com') },
      { input: '<""@example.com>', expected: mailbox('""', 'example.com') },
      { input: '<"a>b<c"@example.com>', expected: mailbox('"a>b<c"', 'example.com') },
      { input: '<"a:b,c"@example.com>', expected: mailbox('"a:b,c"', 'example.com') },
      { input: '"john doe"@example.com', expected: mailbox('"john doe"', 'example.com') },
      { input: '<"unterminated@example.com>', expected: error('syntax') },
      { input: '<"a"b@example.com>', expected: error('syntax') },
      { input: '<"a".b@example.com>', expected: error('syntax') },
      { input: '<a."b"@example.com>', expected: error('syntax') },
      { input: '<"a"@"b"@example.com>', expected: error('syntax') },
      { input: '<"a\\"@example.com>', expected: error('syntax'), why: 'escaped closing quote' },
      { input: '<"a\tb"@example.com>', expected: error('syntax') },
      { input: '<"a\\\tb"@example.com>', expected: error('syntax') },
      { input: '<"a\\\u0000b"@example.com>', expected: error('syntax') },
      { input: '<"a\u007fb"@example.com>', expected: error('syntax') },
      { input: '<"a\r\nb"@example.com>', expected: error('syntax') },
      { input: '<"bücher"@example.com>', expected: error('syntax') },
      { input: '<"user@victim.example">', expected: error('no-domain') },
    ];
    run(cases);
  });

  describe('relay tricks', () => {
    const cases: Case[] = [
      // % hack
      {
        input: '<user%victim.example@example.com>',
        expected: mailbox('user%victim.example', 'example.com'),
      },
      { input: '<user%victim.example>', expected: error('no-domain') },
      { input: 'user%victim.example', expected: error('no-domain') },
      {
        input: '<user%victim.example@[192.0.2.1]>',
        expected: mailbox('user%victim.example', '192.0.2.1', 'ipv4'),
      },
      {
        input: '<"user%victim.example"@example.com>',
        expected: mailbox('user%victim.example', 'example.com'),
      },
      // Bang paths
      {
        input: '<victim.example!user@example.com>',
        expected: mailbox('victim.example!user', 'example.com'),
      },
      { input: '<victim.example!user>', expected: error('no-domain') },
      { input: 'victim.example!user', expected: error('no-domain') },
      // Double @
      { input: '<user@victim.example@example.com>', expected: error('syntax') },
      { input: 'user@victim.example@example.com', expected: error('syntax') },
      { input: '<user@example.com@victim.example>', expected: error('syntax') },
      { input: '<user@@example.com>', expected: error('syntax') },
      { input: '<user@victim.example,@example.com>', expected: error('syntax') },
      { input: '<user@example.com:user@victim.example>', expected: error('syntax') },
      // Quoted @
      {
        input: '<"user@victim.example"@example.com>',
        expected: mailbox('"user@victim.example"', 'example.com'),
      },
      {
        input: '<"user@victim.example"@[192.0.2.1]>',
        expected: mailbox('"user@victim.example"', '192.0.2.1', 'ipv4'),
      },
      { input: '<"user"@victim.example@example.com>', expected: error('syntax') },
      // Hidden characters splitting the domain
      { input: '<user@victim.example\u0000@example.com>', expected: error('syntax') },
      { input: '<user@victim.example\r\n@example.com>', expected: error('syntax') },
      { input: '<user@victim.example>@example.com>', expected: error('syntax') },
      { input: '<user@[victim.example]>', expected: error('bad-address-literal') },
      // Case and trailing dots
      { input: '<user@VICTIM.Example>', expected: mailbox('user', 'victim.example') },
      { input: '<USER@EXAMPLE.COM.>', expected: mailbox('USER', 'example.com') },
      { input: '<user@example.com..>', expected: error('bad-domain') },
      { input: '<user@.>', expected: error('bad-domain') },
    ];
    run(cases);
  });

  describe('address literals', () => {
    const cases: Case[] = [
      { input: '<user@[192.0.2.1]>', expected: mailbox('user', '192.0.2.1', 'ipv4') },
      { input: 'user@[0.0.0.0]', expected: mailbox('user', '0.0.0.0', 'ipv4') },
      { input: '<user@[IPv6:2001:DB8::1]>', expected: mailbox('user', '2001:db8::1', 'ipv6') },
      {
        input: '<user@[ipv6:2001:0db8:0000:0000:0000:0000:0000:0001]>',
        expected: mailbox('user', '2001:db8::1', 'ipv6'),
      },
      { input: '<user@[IPV6:::1]>', expected: mailbox('user', '::1', 'ipv6') },
      {
        input: '<user@[IPv6:::ffff:192.0.2.1]>',
        expected: mailbox('user', '::ffff:c000:201', 'ipv6'),
      },
      { input: '<user@[1.2.3]>', expected: error('bad-address-literal') },
      { input: '<user@[1.2.3.4.5]>', expected: error('bad-address-literal') },
      { input: '<user@[256.0.0.1]>', expected: error('bad-address-literal') },
      { input: '<user@[192.0.2.01]>', expected: error('bad-address-literal') },
      { input: '<user@[2001:db8::1]>', expected: error('bad-address-literal'), why: 'no tag' },
      { input: '<user@[IPv6:192.0.2.1]>', expected: error('bad-address-literal') },
      { input: '<user@[IPv6:2001:db8::g]>', expected: error('bad-address-literal') },
      { input: '<user@[IPv6:1::2::3]>', expected: error('bad-address-literal') },
      { input: '<user@[IPv6:fe80::1%eth0]>', expected: error('bad-address-literal') },
      { input: '<user@[IPv6:]>', expected: error('bad-address-literal') },
      { input: '<user@[IPv4:192.0.2.1]>', expected: error('bad-address-literal') },
      { input: '<user@[tag:content]>', expected: error('bad-address-literal') },
      { input: '<user@[x-foo:bar]>', expected: error('bad-address-literal') },
      { input: '<user@[]>', expected: error('bad-address-literal') },
      { input: '<user@[>', expected: error('bad-address-literal') },
      { input: '<user@[192.0.2.1>', expected: error('bad-address-literal') },
      { input: '<user@[192.0.2.1]x>', expected: error('bad-address-literal') },
      { input: '<user@[[192.0.2.1]]>', expected: error('bad-address-literal') },
      { input: '<user@x[192.0.2.1]>', expected: error('bad-domain') },
      { input: '<user@[192.0.2.1 ]>', expected: error('syntax') },
    ];
    run(cases);
  });

  describe('internationalised domains', () => {
    const cases: Case[] = [
      { input: '<user@bücher.example>', expected: mailbox('user', 'xn--bcher-kva.example') },
      { input: '<user@BÜCHER.example>', expected: mailbox('user', 'xn--bcher-kva.example') },
      { input: '<user@例え.テスト>', expected: mailbox('user', 'xn--r8jz45g.xn--zckzah') },
      {
        input: '<user@xn--bcher-kva.example>',
        expected: mailbox('user', 'xn--bcher-kva.example'),
      },
      { input: '<bücher@example.com>', expected: error('syntax'), why: 'no SMTPUTF8' },
      { input: '<user\u200b@example.com>', expected: error('syntax') },
    ];
    run(cases);
  });

  describe('limits', () => {
    const cases: Case[] = [
      {
        input: `<${local64}@example.com>`,
        expected: mailbox(local64, 'example.com'),
        why: 'local part of 64',
      },
      {
        input: `<${local65}@example.com>`,
        expected: error('local-part-too-long'),
        why: 'local part of 65',
      },
      {
        input: `<"${'q'.repeat(61)} "@example.com>`,
        expected: mailbox(`"${'q'.repeat(61)} "`, 'example.com'),
        why: 'quoted local part of 64 with its quotes',
      },
      {
        input: `<"${'q'.repeat(62)} "@example.com>`,
        expected: error('local-part-too-long'),
        why: 'quoted local part of 65 with its quotes',
      },
      {
        input: `<"${'q'.repeat(63)}"@example.com>`,
        expected: error('local-part-too-long'),
        why: 'counted as given, before unquoting',
      },
      {
        input: `<${local64}@${domain189}>`,
        expected: mailbox(local64, domain189),
        why: 'path of 256',
      },
      {
        input: `<${local64}@${domain190}>`,
        expected: error('path-too-long'),
        why: 'path of 257',
      },
      {
        input: `${local64}@${domain189}`,
        expected: mailbox(local64, domain189),
        why: 'bare path of 254 (256 with brackets)',
      },
      {
        input: `${local64}@${domain190}`,
        expected: error('path-too-long'),
        why: 'bare path of 255 (257 with brackets)',
      },
      {
        input: `<a@${domainOfLength(255)}>`,
        expected: error('path-too-long'),
        why: 'domain of 255: within its own limit, but not within a path',
      },
      {
        input: `<a@${domainOfLength(256)}>`,
        expected: error('domain-too-long'),
        why: 'domain of 256',
      },
      {
        input: `<${local64}@${idn189}>`,
        expected: error('path-too-long'),
        why: '256 as given, 292 with A-labels',
      },
      {
        input: `<${local65}@${domainOfLength(300)}>`,
        expected: error('local-part-too-long'),
      },
      { input: `<${'x'.repeat(100_000)}>`, expected: error('no-domain') },
      { input: `<${'x'.repeat(100_000)}@example.com>`, expected: error('local-part-too-long') },
      { input: `<a@${'ü'.repeat(100_000)}>`, expected: error('domain-too-long') },
      { input: `<@${'ü'.repeat(100_000)}:a@b.example>`, expected: error('path-too-long') },
    ];
    run(cases);
  });

  describe('control characters, spaces and non-ASCII', () => {
    const cases: Case[] = [
      { input: '<us er@example.com>', expected: error('syntax') },
      { input: '<user@exam ple.com>', expected: error('syntax') },
      { input: '<user @example.com>', expected: error('syntax') },
      { input: '<user@ example.com>', expected: error('syntax') },
      { input: ' <user@example.com>', expected: error('syntax') },
      { input: '<user@example.com> ', expected: error('syntax') },
      { input: '<user@example.com >', expected: error('syntax') },
      { input: '< user@example.com>', expected: error('syntax') },
      { input: ' user@example.com', expected: error('syntax') },
      { input: 'user@example.com ', expected: error('syntax') },
      { input: '<user@example.com>\r\n', expected: error('syntax') },
      { input: '<user@example.com\r\n>', expected: error('syntax') },
      { input: '<user\u0000@example.com>', expected: error('syntax') },
      { input: '<user@example.com\u0000>', expected: error('syntax') },
      { input: '\u0000', expected: error('syntax') },
      { input: '<user\t@example.com>', expected: error('syntax') },
      { input: '<user\u007f@example.com>', expected: error('syntax') },
      { input: '<user@example\u007f.com>', expected: error('syntax') },
      { input: '<user\u00a0@example.com>', expected: error('syntax') },
      { input: '<üser@example.com>', expected: error('syntax') },
      { input: '<user\ud800@example.com>', expected: error('syntax'), why: 'lone surrogate' },
      { input: '<😀@example.com>', expected: error('syntax') },
    ];
    run(cases);
  });

  describe('angle brackets', () => {
    const cases: Case[] = [
      { input: '', expected: error('syntax') },
      { input: '<', expected: error('syntax') },
      { input: '>', expected: error('syntax') },
      { input: '<<>', expected: error('syntax') },
      { input: '<>>', expected: error('syntax') },
      { input: '<user@example.com', expected: error('syntax') },
      { input: 'user@example.com>', expected: error('syntax') },
      { input: '<<user@example.com>>', expected: error('syntax') },
      { input: '<<user@example.com>', expected: error('syntax') },
      { input: '<user@example.com>>', expected: error('syntax') },
      { input: '<user@example.com><user@victim.example>', expected: error('syntax') },
      { input: 'user<@example.com', expected: error('syntax') },
      { input: '<user>@example.com', expected: error('syntax') },
    ];
    run(cases);
  });
});

describe('parsePath properties', () => {
  const ERRORS: readonly PathError[] = [
    'syntax',
    'path-too-long',
    'local-part-too-long',
    'domain-too-long',
    'bad-domain',
    'bad-address-literal',
    'null-path-not-allowed',
    'no-domain',
  ];

  /** Any UTF-16 code unit, lone surrogates included. */
  const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
  /** Characters that steer the parser into its interesting branches. */
  const pathish = fc.constantFrom(
    ...'aZ09.@"\\<>[]:,%!- _\t\u0000\u007füIPv6'.split(''),
    'IPv6:',
    'ipv6:',
    '::',
    '192.0.2.1',
    'example.com',
    'Postmaster',
    'xn--',
    '\u00a0',
    '\ud83d\ude00',
  );

  const options = fc.record({ allowNull: fc.boolean(), allowPostmaster: fc.boolean() });

  const arbitraryInputs = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'binary-ascii', maxLength: 300 }),
    fc.string({ unit: anyCodeUnit, maxLength: 300 }),
    fc.string({ unit: pathish, maxLength: 40 }),
    fc.string({ unit: pathish, maxLength: 40 }).map((s) => `<${s}>`),
  );

  // Addresses that are mostly valid, so that the idempotence check has work.
  const atom = fc.string({
    unit: fc.constantFrom(..."abcXYZ019!#$%&'*+-/=?^_`{|}~".split('')),
    minLength: 1,
    maxLength: 8,
  });
  const dotString = fc.array(atom, { minLength: 1, maxLength: 4 }).map((a) => a.join('.'));
  const quotedString = fc
    .string({ unit: fc.constantFrom(...'ab .@"\\<>,:()['.split('')), maxLength: 12 })
    .map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`);
  const needlessQuotes = dotString.map((s) => `"${s.replace(/./g, (ch) => `\\${ch}`)}"`);
  const localPart = fc.oneof(dotString, quotedString, needlessQuotes);
  const domain = fc.oneof(
    fc.domain(),
    fc.mixedCase(fc.domain()).map((d) => `${d}.`),
    fc.constantFrom('bücher.example', 'BÜCHER.example.', '例え.テスト'),
    fc.ipV4().map((ip) => `[${ip}]`),
    fc.tuple(fc.constantFrom('IPv6', 'ipv6', 'IPV6'), fc.ipV6()).map(([t, ip]) => `[${t}:${ip}]`),
  );
  const route = fc
    .array(fc.domain(), { maxLength: 3 })
    .map((ds) => (ds.length === 0 ? '' : `${ds.map((d) => `@${d}`).join(',')}:`));
  const plausible = fc
    .tuple(route, localPart, domain, fc.boolean())
    .map(([r, l, d, bare]) => (bare && r === '' ? `${l}@${d}` : `<${r}${l}@${d}>`));

  const everything = fc.oneof(arbitraryInputs, plausible, fc.emailAddress());

  function checkShape(result: ParsedPath): void {
    if (!result.ok) {
      expect(ERRORS).toContain(result.error);
      expect(typeof result.message).toBe('string');
      expect(result.message.length).toBeGreaterThan(0);
    }
  }

  it('never throws, and returns a well-formed result', () => {
    fc.assert(
      fc.property(everything, options, (input, opts) => {
        checkShape(parsePath(input, opts));
        checkShape(parsePath(input));
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts most plausible addresses', () => {
    let ok = 0;
    fc.assert(
      fc.property(plausible, (input) => {
        if (parsePath(input).ok) ok++;
      }),
      { numRuns: 1000 },
    );
    expect(ok).toBeGreaterThan(500);
  });

  it('is idempotent: the canonical address parses to the same mailbox', () => {
    fc.assert(
      fc.property(everything, options, (input, opts) => {
        const result = parsePath(input, opts);
        if (!result.ok || result.kind !== 'mailbox') return;
        const { mailbox } = result;
        const again = parsePath(`<${mailbox.address}>`);
        expect(again).toEqual({ ok: true, kind: 'mailbox', mailbox, sourceRoute: [] });
        expect(parsePath(mailbox.address)).toEqual(again);
      }),
      { numRuns: 5000 },
    );
  });

  it('puts the domain after the final @ of the canonical address, in ASCII', () => {
    fc.assert(
      fc.property(everything, (input) => {
        const result = parsePath(input);
        if (!result.ok || result.kind !== 'mailbox') return;
        const { address, domain, domainKind, localPart } = result.mailbox;
        const at = address.lastIndexOf('@');
        expect(address.slice(0, at)).toBe(localPart);
        const tail = address.slice(at + 1);
        if (domainKind === 'name') expect(tail).toBe(domain);
        else expect(tail).toBe(domainKind === 'ipv4' ? `[${domain}]` : `[IPv6:${domain}]`);
        expect(/^[\x20-\x7e]*$/.test(address)).toBe(true);
        expect(address.length).toBeLessThanOrEqual(254);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parsePath: its stored-form fast path agrees with normaliseDomain', () => {
  it('for domains made of LDH characters, dots and digits', () => {
    const ch = fc.constantFrom('a', 'z', 'B', '0', '9', '-', '.', 'x');
    fc.assert(
      fc.property(fc.array(ch, { minLength: 1, maxLength: 70 }), (chars) => {
        const text = chars.join('');
        const parsed = parsePath(`<u@${text}>`);
        const normalised = normaliseDomain(text);
        if (normalised.ok) {
          expect(parsed.ok && parsed.kind === 'mailbox' && parsed.mailbox.domain).toBe(
            normalised.value,
          );
        } else {
          expect(parsed.ok).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
