import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../cli';
import { readCliEnv } from './env';

describe('readCliEnv', () => {
  it('IMS_URL and IMS_TOKEN override the login stored under XDG_CONFIG_HOME (else ~/.config)', () => {
    expect(
      readCliEnv({ IMS_URL: 'http://console:8080', IMS_TOKEN: 'ims_t', XDG_CONFIG_HOME: '/x' }),
    ).toEqual({
      url: 'http://console:8080',
      token: 'ims_t',
      configFile: join('/x', 'ims', 'config.json'),
    });
    expect(readCliEnv({ HOME: '/home/u', IMS_URL: '' })).toEqual({
      url: undefined,
      token: undefined,
      configFile: join('/home/u', '.config', 'ims', 'config.json'),
    });
  });

  it('a bad IMS_URL is an error that names it; ims exits 2 (usage) before any request', async () => {
    expect(() => readCliEnv({ IMS_URL: 'console:8080' })).toThrow(
      'IMS_URL must be the console URL, e.g. http://127.0.0.1:8080, not "console:8080"',
    );
    let stderr = '';
    const code = await run(['status'], {
      env: { HOME: '/nonexistent', IMS_URL: 'ftp://console', IMS_TOKEN: 'ims_secret' },
      stdout: () => undefined,
      stderr: (text) => {
        stderr += text;
      },
      readStdin: async () => '',
    });
    expect(code).toBe(2);
    expect(stderr).toBe(
      'error: Invalid environment:\n- IMS_URL must be the console URL, e.g. http://127.0.0.1:8080, not "ftp://console"\n',
    );
  });
});
