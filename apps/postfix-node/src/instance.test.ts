/**
 * The instance lifecycle against a real private Postfix (3.7, /usr/sbin):
 * a version goes live only once Postfix took it, a later one by reload with
 * sessions already open keeping their rules, and a rendering Postfix does not
 * take leaves the previous one live with the reason. Each test stops its
 * instance; nothing touches /etc/postfix.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@ims/passwords';
import { freePort, renderPostfix, SmtpProbe } from '@ims/postfix-config';
import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplyError, type Mailboxes, PostfixInstance } from './instance';

const installed = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v postfix && command -v postconf'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function instance(render?: typeof renderPostfix) {
  const root = mkdtempSync(join(tmpdir(), 'ims-pfx-'));
  const port = await freePort();
  const pfx = new PostfixInstance({
    root,
    target: { listen: [{ host: '127.0.0.1', port }], myhostname: 'mx.test.example', auth: false },
    ...(render ? { render } : {}),
  });
  cleanups.push(async () => {
    await pfx.stop().catch(() => undefined);
    // A master left behind by a failed stop: its pid file says which.
    try {
      const pid = Number(readFileSync(join(root, 'queue', 'pid', 'master.pid'), 'utf8').trim());
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // stopped
    }
    rmSync(root, { recursive: true, force: true });
  });
  await pfx.prepare();
  return { pfx, port, root };
}

const directory = async (): Promise<Mailboxes> => [
  {
    address: 'alice@example.com',
    passwordHash: await hashPassword('secret-1', { N: 1024, r: 8, p: 1 }),
  },
];

/** Opens a session and says EHLO and MAIL FROM; `rcpt` then answers `code enhanced`. */
async function session(port: number) {
  const { probe, greeting } = await SmtpProbe.open('127.0.0.1', port, { timeoutMs: 120_000 });
  expect(greeting.code).toBe(220);
  await probe.command('EHLO client.test');
  expect((await probe.command('MAIL FROM:<sender@elsewhere.test>')).code).toBe(250);
  return {
    rcpt: async (to: string) => {
      const r = await probe.command(`RCPT TO:<${to}>`);
      return `${r.code} ${r.enhanced ?? ''}`.trim();
    },
    close: () => probe.quit(),
  };
}

const openRelay = (): RoutingConfig => {
  const c = defaultConfig('example.com');
  return { ...c, restrictions: { ...c.restrictions, authenticated: false } };
};

describe.skipIf(!installed)('PostfixInstance', () => {
  it('starts with v1 once smtpd greets; v2 by reload: a session opened before keeps v1, a new one gets v2', async () => {
    const { pfx, port } = await instance();
    const dir = await directory();
    expect(await pfx.isRunning()).toBe(false);
    await pfx.apply(1, defaultConfig('example.com'), dir);
    expect(pfx.runningVersion).toBe(1);
    expect(await pfx.isRunning()).toBe(true);

    const before = await session(port);
    expect(await before.rcpt('alice@example.com')).toBe('250 2.1.5');
    expect(await before.rcpt('bob@example.com')).toBe('550 5.1.1');
    expect(await before.rcpt('someone@elsewhere.test')).toBe('550 5.7.1');

    // v2: none of the restrictions ticked (an open relay, as on the product's node).
    await pfx.apply(2, openRelay(), dir);
    expect(pfx.runningVersion).toBe(2);
    const after = await session(port);
    expect(await after.rcpt('someone@elsewhere.test')).toBe('250 2.1.5');
    expect(await before.rcpt('someone@elsewhere.test')).toBe('550 5.7.1');
    await before.close();
    await after.close();
  });

  it('a version Postfix cannot express is refused before anything is written; the previous stays live', async () => {
    const { pfx, port, root } = await instance();
    const dir = await directory();
    await pfx.apply(1, defaultConfig('example.com'), dir);
    const live = readFileSync(join(root, 'etc', 'main.cf'), 'utf8');
    const faithful: RoutingConfig = {
      ...defaultConfig('example.com'),
      rerouteMode: 'no-reroute',
      rejectUnknownRecipients: false,
    };
    const err = await pfx.apply(2, faithful, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).step).toBe('render');
    expect((err as Error).message).toMatch(/^Postfix cannot express version 2: /);
    expect(pfx.runningVersion).toBe(1);
    expect(readFileSync(join(root, 'etc', 'main.cf'), 'utf8')).toBe(live);
    const s = await session(port);
    expect(await s.rcpt('someone@elsewhere.test')).toBe('550 5.7.1');
    await s.close();
  });

  it('a rendering whose smtpd dies at start-up is rolled back: the previous version answers again, the error says why', async () => {
    // The live rendering of version 3 only: a restriction class that loops,
    // which postconf and `postfix check` accept and smtpd dies of.
    const broken: typeof renderPostfix = (config, dir, target) => {
      const r = renderPostfix(config, dir, target);
      if (target.configDirectory.endsWith('/etc') && config.siteDomain === 'broken.example') {
        return {
          files: {
            ...r.files,
            'main.cf': `${r.files['main.cf']}smtpd_restriction_classes = ims_loop\nims_loop = ims_loop\nsmtpd_helo_required = yes\nsmtpd_helo_restrictions = ims_loop\nsmtpd_recipient_restrictions = ims_loop\n`,
          },
        };
      }
      return r;
    };
    const { pfx, port, root } = await instance(broken);
    const dir = await directory();
    await pfx.apply(2, openRelay(), dir);
    const live = readFileSync(join(root, 'etc', 'main.cf'), 'utf8');
    const bad = { ...openRelay(), siteDomain: 'broken.example' };
    bad.routes = [{ sentTo: 'broken.example', routeTo: '<inbound>' }];
    const err = await pfx.apply(3, bad, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).step).toBe('reload');
    expect((err as Error).message).toMatch(
      /^Postfix did not take version 3: .*(no SMTP greeting|bad command startup)/,
    );
    expect(pfx.runningVersion).toBe(2);
    expect(readFileSync(join(root, 'etc', 'main.cf'), 'utf8')).toBe(live);
    const s = await session(port);
    expect(await s.rcpt('someone@elsewhere.test')).toBe('250 2.1.5');
    await s.close();
    // Two self-checks, a greeting that never comes (10 s), then a rollback
    // whose reload meets the master's throttled smtpd and restarts it: 36 s
    // on a quiet machine, and past 90 s beside the rest of the suite.
  }, 300_000);
});
