import { describe, expect, it } from 'vitest';
import { readEnv } from './env';

const base = { IMS_CONSOLE_URL: 'http://127.0.0.1:8080', IMS_NODE_TOKEN: 'node-token' };

describe('readEnv: the log level', () => {
  it('is info by default, and the console’s LOG_LEVEL does not change it', () => {
    expect(readEnv(base).logLevel).toBe('info');
    expect(readEnv({ ...base, LOG_LEVEL: 'warn' }).logLevel).toBe('info');
  });

  it('is IMS_SMTP_LOG_LEVEL when that is a pino level, an error listing it otherwise', () => {
    expect(readEnv({ ...base, IMS_SMTP_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => readEnv({ ...base, IMS_SMTP_LOG_LEVEL: 'loud' })).toThrow(
      /IMS_SMTP_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud"/,
    );
  });
});
