/**
 * The console on HTTPS (IMS_HTTP_TLS_CERT / IMS_HTTP_TLS_KEY) with a
 * self-signed certificate made here: the embedded start's own node attaches
 * over HTTPS (it trusts the console's certificate), `ims` works with
 * NODE_EXTRA_CA_CERTS and refuses the certificate without it, and a node
 * refuses a plain-HTTP console URL that is not loopback.
 */

import { join } from 'node:path';
import { selfSignedCert } from '@ims/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { type Child, freePort, ims, ROOT, startProcess, tempDir, until } from './testing/processes';

const PASSWORD = 'https console admin password';
const children: Child[] = [];
const dirs: { remove: () => void }[] = [];
const temp = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) d.remove();
});

function exitOf(child: Child): Promise<number | null> {
  return new Promise((done) => {
    if (child.proc.exitCode !== null) return done(child.proc.exitCode);
    child.proc.once('exit', (code) => done(code));
  });
}

describe('a console on HTTPS with a self-signed certificate', () => {
  it('its own node attaches over HTTPS; ims signs in with NODE_EXTRA_CA_CERTS, and refuses the certificate without', async () => {
    const cert = selfSignedCert(temp());
    const httpPort = await freePort();
    const smtpPort = await freePort();
    const launcher = startProcess(join(ROOT, 'apps/server'), 'src/launcher.ts', {
      IMS_HTTP_PORT: String(httpPort),
      IMS_SMTP_PORT: String(smtpPort),
      IMS_DATA_DIR: temp(),
      IMS_ADMIN_PASSWORD: PASSWORD,
      IMS_HTTP_TLS_CERT: cert.certFile,
      IMS_HTTP_TLS_KEY: cert.keyFile,
    });
    children.push(launcher);
    const url = `https://127.0.0.1:${httpPort}`;
    const home = temp();
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'xdg'),
      IMS_URL: url,
      NODE_EXTRA_CA_CERTS: cert.certFile,
    };
    await until(
      async () => {
        const r = await ims(
          ['login', '--username', 'admin', '--password-stdin'],
          env,
          `${PASSWORD}\n`,
        );
        return r.code === 0 ? r : undefined;
      },
      90_000,
      `ims login over HTTPS (${launcher.output()})`,
    );
    expect(launcher.output()).toContain(`IMS Routing Console: ${url}/`);
    await until(
      async () => {
        const r = await ims(['status', '--json'], env);
        const s = JSON.parse(r.stdout) as {
          nodes: { online: boolean; runningVersion: number | null }[];
        };
        return s.nodes[0]?.online && s.nodes[0].runningVersion === 1 ? true : undefined;
      },
      90_000,
      'the local node to attach over HTTPS',
    );
    const untrusting = await ims(['whoami'], { ...env, NODE_EXTRA_CA_CERTS: '' });
    expect(untrusting.code).not.toBe(0);
    expect(untrusting.stderr).toMatch(/certificate|SELF_SIGNED|self.signed/i);
    const plain = await ims(['whoami'], { ...env, IMS_URL: `http://127.0.0.1:${httpPort}` });
    expect(plain.code).not.toBe(0);
  }, 240_000);

  it('a node refuses a plain-HTTP console URL that is not loopback, before connecting', async () => {
    const node = startProcess(join(ROOT, 'apps/smtp'), 'src/main.ts', {
      IMS_CONSOLE_URL: 'http://192.0.2.10:8080',
      IMS_NODE_TOKEN: 'imsn_unused',
      IMS_SMTP_PORT: String(await freePort()),
      IMS_DATA_DIR: temp(),
    });
    children.push(node);
    expect(await exitOf(node)).toBe(1);
    expect(node.output()).toContain(
      'IMS_CONSOLE_URL is plain HTTP to 192.0.2.10, which is not this machine',
    );
    expect(node.output()).toContain('IMS_ALLOW_INSECURE_CONSOLE=1');
  }, 60_000);
});
