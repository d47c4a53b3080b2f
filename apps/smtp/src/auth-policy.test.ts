import { describe, expect, it } from 'vitest';
import { authNeedsEncryption, cleartextAuthWarning } from './auth-policy';

describe('where AUTH may be used (#13 item 5)', () => {
  it.each([
    // secure, certificate, local address → needs TLS first
    [false, true, '127.0.0.1', true],
    [true, true, '127.0.0.1', false],
    [true, true, '192.0.2.1', false],
    [false, false, '127.0.0.1', false],
    [false, false, '127.0.0.2', false],
    [false, false, '::1', false],
    [false, false, '::ffff:127.0.0.1', false],
    [false, false, '192.0.2.1', true],
    [false, false, '2001:db8::1', true],
    [false, false, '0.0.0.0', true],
  ] as const)(
    'secure %s, certificate %s, on %s: needs TLS %s',
    (secure, tlsConfigured, localAddress, needs) => {
      expect(authNeedsEncryption({ secure, tlsConfigured, localAddress })).toBe(needs);
    },
  );

  it('a node listening beyond loopback without a certificate warns at start; on loopback, or with one, not', () => {
    expect(cleartextAuthWarning(['127.0.0.1', '::1'], false)).toBeUndefined();
    expect(cleartextAuthWarning(['0.0.0.0'], true)).toBeUndefined();
    const warning = cleartextAuthWarning(['127.0.0.1', '0.0.0.0', '192.0.2.1'], false);
    expect(warning).toMatchObject({ event: 'auth-needs-tls', listen: ['0.0.0.0', '192.0.2.1'] });
    expect(warning?.message).toMatch(/SMTP AUTH is not offered .* 0\.0\.0\.0, 192\.0\.2\.1/);
    expect(warning?.message).toMatch(/IMS_SMTP_TLS_CERT/);
  });
});
