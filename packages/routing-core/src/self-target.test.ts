import { describe, expect, it } from 'vitest';
import { hostKind, isSelfTarget, splitHostPort } from './self-target';

describe('splitHostPort', () => {
  it.each([
    ['127.0.0.1:2525', { host: '127.0.0.1', port: 2525 }],
    ['[::1]:2525', { host: '::1', port: 2525 }],
    ['[::]:25', { host: '::', port: 25 }],
    ['mail.example.net', { host: 'mail.example.net' }],
    ['::1', { host: '::1' }],
    ['[::1]', { host: '::1' }],
    ['host:99999', null],
    ['[::1', null],
    ['[::1]x', null],
  ])('%s', (text, expected) => expect(splitHostPort(text)).toEqual(expected));
});

describe('hostKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['LocalHost.', 'loopback'],
    ['a.localhost', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'other'],
    ['192.0.2.1', 'other'],
    ['mail.example.net', 'other'],
    ['localhost.example', 'other'],
  ])('%s is %s', (host, kind) => expect(hostKind(host)).toBe(kind));
});

describe('isSelfTarget', () => {
  const cases: [string, number, string[], boolean, string[]?][] = [
    ['127.0.0.1', 2525, ['127.0.0.1:2525'], true],
    ['127.0.0.1', 25, ['127.0.0.1:2525'], false],
    ['localhost', 2525, ['127.0.0.1:2525'], true],
    ['[127.0.0.1]', 2525, ['127.0.0.1:2525'], true],
    ['::ffff:127.0.0.1', 2525, ['127.0.0.1:2525'], true],
    ['127.0.0.2', 2525, ['127.0.0.1:2525'], false],
    ['0.0.0.0', 2525, ['127.0.0.1:2525'], true],
    ['127.0.0.2', 2525, ['0.0.0.0:2525'], true],
    ['::1', 2525, ['0.0.0.0:2525'], false],
    ['::1', 2525, ['[::]:2525'], true],
    ['127.0.0.1', 2525, ['[::]:2525'], true],
    ['192.0.2.5', 2525, ['[::]:2525'], false],
    ['192.0.2.5', 2525, ['[::]:2525'], true, ['192.0.2.5']],
    ['192.0.2.5', 2525, ['192.0.2.5:2525'], true],
    ['192.0.2.6', 2525, ['192.0.2.5:2525'], false],
    ['2001:db8::1', 2525, ['[2001:DB8:0::1]:2525'], true],
    ['mail.example.net', 2525, ['127.0.0.1:2525'], false],
    ['127.0.0.1', 2525, ['garbage', 'host:x'], false],
  ];
  it.each(cases)('%s:%d against %j → %s', (host, port, listen, expected, locals) =>
    expect(isSelfTarget(host, port, listen, locals)).toBe(expected),
  );
});
