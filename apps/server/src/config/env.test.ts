import { describe, expect, it } from 'vitest';
import { readEnv, readLauncherEnv } from './env';

describe('the console settings', () => {
  it('defaults', () => {
    expect(readEnv({})).toEqual({
      httpHost: '127.0.0.1',
      httpPort: 8080,
      dataDir: './data',
      siteDomain: 'example.com',
      adminPassword: undefined,
      logLevel: 'info',
      allowedHosts: [],
      trustProxy: false,
      tls: undefined,
      rolloutSettleMs: 5000,
      rolloutTimeoutMs: 60_000,
      metricsTokenRequired: false,
    });
    expect(readEnv({ IMS_METRICS_TOKEN_REQUIRED: 'true' }).metricsTokenRequired).toBe(true);
    expect(
      readLauncherEnv(true, { IMS_SMTP_LISTEN: '127.0.0.1, ::1', IMS_SMTP_PORT: '25' }),
    ).toMatchObject({ localNode: { smtpListen: '127.0.0.1,::1', smtpPort: 25 } });
  });

  it('running it for real: allowed hosts, trusted proxies, TLS', () => {
    expect(
      readEnv({
        IMS_ALLOWED_HOSTS: 'console.example.com, [2001:db8::1]:8443,.corp.example',
        IMS_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, ::1/128, loopback',
        IMS_HTTP_TLS_CERT: '/etc/ims/cert.pem',
        IMS_HTTP_TLS_KEY: '/etc/ims/key.pem',
      }),
    ).toMatchObject({
      allowedHosts: ['console.example.com', '[2001:db8::1]:8443', '.corp.example'],
      trustProxy: ['127.0.0.1', '10.0.0.0/8', '::1/128', 'loopback'],
      tls: { certFile: '/etc/ims/cert.pem', keyFile: '/etc/ims/key.pem' },
    });
    expect(readEnv({ IMS_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(readEnv({ IMS_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(readEnv({ IMS_ALLOWED_HOSTS: '*' }).allowedHosts).toEqual(['*']);
  });

  it('bad proxy lists, host lists and half a TLS pair are refused together', () => {
    expect(() =>
      readEnv({
        IMS_TRUST_PROXY: '10.0.0.0/33,proxy.example',
        IMS_ALLOWED_HOSTS: 'evil/path',
        IMS_HTTP_TLS_CERT: '/etc/ims/cert.pem',
      }),
    ).toThrow(
      [
        'Invalid environment:',
        '- IMS_ALLOWED_HOSTS must be a comma list of host names (name, name:port, .domain, or * for any), not "evil/path"',
        '- IMS_TRUST_PROXY must be true, false, a number of proxy hops, or a comma list of proxy addresses/CIDRs (e.g. 127.0.0.1,10.0.0.0/8), not "10.0.0.0/33,proxy.example"',
        '- IMS_HTTP_TLS_CERT and IMS_HTTP_TLS_KEY go together: set both or neither',
      ].join('\n'),
    );
  });

  it('the rollout times', () => {
    expect(readEnv({ IMS_ROLLOUT_SETTLE_MS: '0', IMS_ROLLOUT_TIMEOUT_MS: '1500' })).toMatchObject({
      rolloutSettleMs: 0,
      rolloutTimeoutMs: 1500,
    });
    expect(() => readEnv({ IMS_ROLLOUT_TIMEOUT_MS: '10' })).toThrow(
      'IMS_ROLLOUT_TIMEOUT_MS must be milliseconds (1000-3600000), not "10"',
    );
  });

  it('IMS_SMTP_ENGINE: ims by default, postfix when asked, an error otherwise', () => {
    expect(readLauncherEnv(true, {}).localNode?.engine).toBe('ims');
    expect(readLauncherEnv(true, { IMS_SMTP_ENGINE: 'postfix' }).localNode?.engine).toBe('postfix');
    expect(() => readLauncherEnv(true, { IMS_SMTP_ENGINE: 'exim' })).toThrow(
      'Invalid environment:\n- IMS_SMTP_ENGINE must be ims or postfix, not "exim"',
    );
    expect(readLauncherEnv(false, { IMS_SMTP_ENGINE: 'exim' }).localNode).toBeUndefined();
  });

  it('a bad port', () => {
    expect(() => readEnv({ IMS_HTTP_PORT: '80a' })).toThrow(
      'Invalid environment:\n- IMS_HTTP_PORT must be a port number (0-65535), not "80a"',
    );
  });

  it('a bad listen list (checked only when there is a local node)', () => {
    expect(() => readLauncherEnv(true, { IMS_SMTP_LISTEN: '127.0.0.1,localhost' })).toThrow(
      'Invalid environment:\n- IMS_SMTP_LISTEN must be a comma list of IP addresses, e.g. 127.0.0.1,::1, not "127.0.0.1,localhost"',
    );
    expect(readLauncherEnv(false, { IMS_SMTP_LISTEN: 'localhost' }).localNode).toBeUndefined();
  });

  it('several bad at once: one error naming every one, without repeating the password', () => {
    expect(() =>
      readLauncherEnv(true, {
        IMS_HTTP_PORT: '99999',
        IMS_ADMIN_PASSWORD: 'short',
        LOG_LEVEL: 'loud',
        IMS_SMTP_PORT: 'smtp',
        IMS_SMTP_LISTEN: '10.0.0.300',
      }),
    ).toThrow(
      [
        'Invalid environment:',
        '- IMS_HTTP_PORT must be a port number (0-65535), not "99999"',
        '- IMS_ADMIN_PASSWORD must be at least 8 characters long',
        '- LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud"',
        '- IMS_SMTP_PORT must be a port number (0-65535), not "smtp"',
        '- IMS_SMTP_LISTEN must be a comma list of IP addresses, e.g. 127.0.0.1,::1, not "10.0.0.300"',
      ].join('\n'),
    );
  });
});
