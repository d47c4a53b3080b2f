import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readEnv } from './env';

const NEEDED = { IMS_CONSOLE_URL: 'http://127.0.0.1:8080/', IMS_NODE_TOKEN: 'imsn_secret' };

describe("the SMTP node's settings", () => {
  it('defaults, and the values it was given', () => {
    expect(readEnv(NEEDED)).toEqual({
      consoleUrl: 'http://127.0.0.1:8080',
      nodeToken: 'imsn_secret',
      listen: ['127.0.0.1'],
      port: 2525,
      dataDir: './data/smtp',
      smartHost: undefined,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      logLevel: 'info',
      trafficWindowDays: 7,
      clientLimits: {
        maxConnectionsPerClient: 50,
        connectionRatePerMinute: 600,
        authFailureLimit: 10,
        authCoolOffMs: 900_000,
        maxConcurrentAuthPerClient: 10,
      },
      sessionLimits: {
        greetingTimeoutMs: 30_000,
        softErrorLimit: 10,
        hardErrorLimit: 20,
        errorSleepMs: 1000,
      },
      maxRecipients: 100,
      workers: availableParallelism(),
    });
    expect(
      readEnv({
        ...NEEDED,
        IMS_SMTP_LISTEN: '0.0.0.0,::',
        IMS_SMTP_PORT: '25',
        IMS_DATA_DIR: '/var/ims',
        IMS_SMART_HOST: '[2001:db8::1]:587',
      }),
    ).toMatchObject({
      listen: ['0.0.0.0', '::'],
      port: 25,
      dataDir: '/var/ims/smtp',
      smartHost: { host: '2001:db8::1', port: 587 },
    });
  });

  it('the limits: values given, 0 to turn one off, a bad one named', () => {
    expect(
      readEnv({
        ...NEEDED,
        IMS_SMTP_CLIENT_CONNECTION_LIMIT: '10',
        IMS_SMTP_CLIENT_CONNECTION_RATE: '0',
        IMS_SMTP_GREETING_TIMEOUT: '5',
        IMS_SMTP_ERROR_SLEEP: '2',
        IMS_SMTP_AUTH_LOCKOUT: '60',
      }),
    ).toMatchObject({
      clientLimits: {
        maxConnectionsPerClient: 10,
        connectionRatePerMinute: 0,
        authCoolOffMs: 60_000,
      },
      sessionLimits: { greetingTimeoutMs: 5000, errorSleepMs: 2000 },
    });
    expect(() => readEnv({ ...NEEDED, IMS_SMTP_HARD_ERROR_LIMIT: 'many' })).toThrow(
      'IMS_SMTP_HARD_ERROR_LIMIT must be a number of error replies (0 = no limit), not "many"',
    );
    expect(() => readEnv({ ...NEEDED, IMS_SMTP_GREETING_TIMEOUT: '-1' })).toThrow(
      'IMS_SMTP_GREETING_TIMEOUT must be a number of seconds (0-86400), not "-1"',
    );
  });

  it('a bad port', () => {
    expect(() => readEnv({ ...NEEDED, IMS_SMTP_PORT: '65536' })).toThrow(
      'Invalid environment:\n- IMS_SMTP_PORT must be a port number (0-65535), not "65536"',
    );
  });

  it('a bad listen list', () => {
    expect(() => readEnv({ ...NEEDED, IMS_SMTP_LISTEN: '127.0.0.1 ::1' })).toThrow(
      'Invalid environment:\n- IMS_SMTP_LISTEN must be a comma list of IP addresses, e.g. 127.0.0.1,::1, not "127.0.0.1 ::1"',
    );
  });

  it('several bad at once: one error naming every one', () => {
    expect(() =>
      readEnv({
        IMS_CONSOLE_URL: 'console:8080',
        IMS_SMTP_PORT: 'x',
        IMS_SMTP_LISTEN: 'anywhere',
        IMS_SMART_HOST: 'relay.example:0',
        IMS_SMTP_TLS_CERT: '/etc/cert.pem',
      }),
    ).toThrow(
      [
        'Invalid environment:',
        '- IMS_CONSOLE_URL must be the console URL, e.g. http://127.0.0.1:8080, not "console:8080"',
        '- IMS_NODE_TOKEN must be set: the token from POST /api/v1/nodes',
        '- IMS_SMTP_PORT must be a port number (0-65535), not "x"',
        '- IMS_SMTP_LISTEN must be a comma list of IP addresses, e.g. 127.0.0.1,::1, not "anywhere"',
        '- IMS_SMART_HOST must be host:port (or [IPv6]:port), not "relay.example:0"',
        '- IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither',
      ].join('\n'),
    );
  });
});

describe('readEnv: the decision-record window', () => {
  it('is IMS_TRAFFIC_WINDOW_DAYS, whole days from 1 to 366', () => {
    expect(readEnv({ ...NEEDED, IMS_TRAFFIC_WINDOW_DAYS: '30' }).trafficWindowDays).toBe(30);
    for (const bad of ['0', '367', '1.5', 'week']) {
      expect(() => readEnv({ ...NEEDED, IMS_TRAFFIC_WINDOW_DAYS: bad })).toThrow(
        `IMS_TRAFFIC_WINDOW_DAYS must be a number of days (1-366), not "${bad}"`,
      );
    }
  });
});

describe('readEnv: the log level', () => {
  it('is info by default, and the console’s LOG_LEVEL does not change it', () => {
    expect(readEnv(NEEDED).logLevel).toBe('info');
    expect(readEnv({ ...NEEDED, LOG_LEVEL: 'warn' }).logLevel).toBe('info');
  });

  it('is IMS_SMTP_LOG_LEVEL when that is a pino level, an error listing it otherwise', () => {
    expect(readEnv({ ...NEEDED, IMS_SMTP_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => readEnv({ ...NEEDED, IMS_SMTP_LOG_LEVEL: 'loud' })).toThrow(
      /IMS_SMTP_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud"/,
    );
  });
});

describe('readEnv: SMTP workers', () => {
  it('default to the available cores; IMS_SMTP_WORKERS sets them; 0 or a word is an error', () => {
    expect(readEnv(NEEDED).workers).toBe(availableParallelism());
    expect(readEnv({ ...NEEDED, IMS_SMTP_WORKERS: '1' }).workers).toBe(1);
    expect(readEnv({ ...NEEDED, IMS_SMTP_WORKERS: '4' }).workers).toBe(4);
    expect(() => readEnv({ ...NEEDED, IMS_SMTP_WORKERS: '0' })).toThrow(/IMS_SMTP_WORKERS/);
    expect(() => readEnv({ ...NEEDED, IMS_SMTP_WORKERS: 'many' })).toThrow(/IMS_SMTP_WORKERS/);
  });
});
