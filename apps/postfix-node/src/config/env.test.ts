import { describe, expect, it } from 'vitest';
import { readEnv } from './env';

const NEEDED = { IMS_CONSOLE_URL: 'http://127.0.0.1:8080/', IMS_NODE_TOKEN: 'imsn_secret' };

describe("the Postfix agent's settings", () => {
  it('reach the console as the SMTP node does: plain HTTP only to this machine, a CA file of its own', () => {
    expect(() =>
      readEnv({ ...NEEDED, IMS_CONSOLE_URL: 'http://console.example.com:8080' }),
    ).toThrow(/IMS_CONSOLE_URL is plain HTTP to console\.example\.com/);
    expect(
      readEnv({
        ...NEEDED,
        IMS_CONSOLE_URL: 'http://console.example.com:8080',
        IMS_ALLOW_INSECURE_CONSOLE: '1',
      }).consoleUrl,
    ).toBe('http://console.example.com:8080');
    expect(
      readEnv({
        ...NEEDED,
        IMS_CONSOLE_URL: 'https://console.example.com',
        IMS_CONSOLE_CA: '/ca.pem',
      }).consoleCaFile,
    ).toBe('/ca.pem');
  });

  it("are the SMTP node's, with the instance under IMS_DATA_DIR/postfix", () => {
    expect(readEnv({ ...NEEDED, IMS_POSTFIX_HOSTNAME: 'mx.example' })).toEqual({
      consoleUrl: 'http://127.0.0.1:8080',
      consoleCaFile: undefined,
      nodeToken: 'imsn_secret',
      listen: ['127.0.0.1'],
      port: 2525,
      dataDir: './data/postfix',
      smartHost: undefined,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      logLevel: 'info',
      myhostname: 'mx.example',
    });
    expect(
      readEnv({
        ...NEEDED,
        IMS_SMTP_LISTEN: '127.0.0.1,::1',
        IMS_SMTP_PORT: '25',
        IMS_DATA_DIR: '/var/ims',
        IMS_SMART_HOST: '[2001:db8::1]:587',
      }),
    ).toMatchObject({
      listen: ['127.0.0.1', '::1'],
      port: 25,
      dataDir: '/var/ims/postfix',
      smartHost: '[2001:db8::1]:587',
    });
    expect(readEnv({ ...NEEDED, IMS_SMART_HOST: 'relay.example' }).smartHost).toBe(
      'relay.example:25',
    );
  });

  it('several bad at once: one error naming every one', () => {
    expect(() =>
      readEnv({
        IMS_CONSOLE_URL: 'console:8080',
        IMS_SMART_HOST: 'relay.example:0',
        IMS_POSTFIX_HOSTNAME: 'mx example',
        IMS_SMTP_TLS_KEY: '/etc/key.pem',
      }),
    ).toThrow(
      [
        'Invalid environment:',
        '- IMS_CONSOLE_URL must be the console URL, e.g. http://127.0.0.1:8080, not "console:8080"',
        '- IMS_NODE_TOKEN must be set: the token from POST /api/v1/nodes',
        '- IMS_SMART_HOST must be host:port (or [IPv6]:port), not "relay.example:0"',
        `- IMS_POSTFIX_HOSTNAME must be a host name (Postfix's myhostname), not "mx example"`,
        '- IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither',
      ].join('\n'),
    );
  });
});
