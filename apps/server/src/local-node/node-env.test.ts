import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { localNodeEnv } from './node-env';

const launcher = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/ims',
  TZ: 'UTC',
  IMS_ADMIN_PASSWORD: 'the admin password',
  IMS_TOKEN: 'ims_cli-token',
  IMS_URL: 'http://127.0.0.1:8080',
  IMS_HTTP_TLS_KEY: '/etc/ims/console.key',
  IMS_METRICS_TOKEN_REQUIRED: 'true',
  AWS_SECRET_ACCESS_KEY: 'unrelated secret',
  LOG_LEVEL: 'debug',
  IMS_SMTP_PORT: '2525',
  IMS_SMTP_TLS_CERT: '/etc/ims/smtp.crt',
  IMS_SMTP_LOG_LEVEL: 'warn',
  IMS_SMART_HOST: 'relay.example:25',
};

describe("the local node's environment", () => {
  it('is an allow list: the node settings and process basics, never the console secrets', () => {
    const env = localNodeEnv(launcher, {
      IMS_CONSOLE_URL: 'http://127.0.0.1:8080',
      IMS_NODE_TOKEN: 'imsn_node',
      IMS_DATA_DIR: '/var/lib/ims',
      IMS_SMTP_PORT: '2526',
    });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/ims',
      TZ: 'UTC',
      IMS_SMTP_PORT: '2526',
      IMS_SMTP_TLS_CERT: '/etc/ims/smtp.crt',
      IMS_SMTP_LOG_LEVEL: 'warn',
      IMS_SMART_HOST: 'relay.example:25',
      IMS_CONSOLE_URL: 'http://127.0.0.1:8080',
      IMS_NODE_TOKEN: 'imsn_node',
      IMS_DATA_DIR: '/var/lib/ims',
    });
  });

  it('is what a child process started with it sees (no IMS_ADMIN_PASSWORD)', () => {
    const env = localNodeEnv(
      { ...process.env, IMS_ADMIN_PASSWORD: 'leaked?' },
      { IMS_NODE_TOKEN: 'imsn_x' },
    );
    const child = spawnSync(
      process.execPath,
      ['-e', 'process.stdout.write(JSON.stringify(Object.keys(process.env)))'],
      { env },
    );
    const seen = JSON.parse(String(child.stdout)) as string[];
    expect(seen).toContain('IMS_NODE_TOKEN');
    expect(seen).not.toContain('IMS_ADMIN_PASSWORD');
    expect(seen.filter((k) => k.startsWith('IMS_') && !k.startsWith('IMS_SMTP_'))).toEqual([
      'IMS_NODE_TOKEN',
    ]);
  });
});
