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
    });
    expect(
      readLauncherEnv(true, { IMS_SMTP_LISTEN: '127.0.0.1, ::1', IMS_SMTP_PORT: '25' }),
    ).toMatchObject({ localNode: { smtpListen: '127.0.0.1,::1', smtpPort: 25 } });
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
