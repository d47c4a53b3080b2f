/**
 * The embedded start (apps/server/src/launcher.ts) as a real process: it
 * prints the URL and the first-run password, registers and supervises one
 * local SMTP node that runs the saved version, restarts it when it is killed,
 * and leaves no process behind on SIGINT or SIGTERM.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApiClient } from '@ims/api-client';
import { RawSmtp } from '@ims/smtp/testing';
import { type Child, descendants, freePort, running, start, until } from '@ims/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { postfixAvailable } from './stack';

const root = resolve(import.meta.dirname, '..');
const children: Child[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ims-launcher-'));
  dirs.push(d);
  return d;
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function launch(env: Record<string, string>, args: string[] = []): Child {
  const child = start(join(root, 'apps/server'), 'src/launcher.ts', env, args);
  children.push(child);
  return child;
}

function exited(child: Child): Promise<number | null> {
  return new Promise((done) => {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      return done(child.proc.exitCode);
    }
    child.proc.once('exit', (code) => done(code));
  });
}

async function greeting(port: number): Promise<string> {
  const c = await RawSmtp.open(port);
  try {
    return await c.reply();
  } finally {
    c.close();
  }
}

type Service = {
  savedVersion: number;
  nodes: {
    id: number;
    name: string;
    state: string;
    online: boolean;
    runningVersion: number | null;
    listen: string[];
    lastError: string | null;
  }[];
};

describe('npm start: the console with one supervised local SMTP node', () => {
  it('registers, attaches, restarts a killed node, and shuts down cleanly', {
    timeout: 180_000,
  }, async () => {
    const httpPort = await freePort();
    const smtpPort = await freePort();
    const dataDir = temp();
    const env = {
      IMS_HTTP_PORT: String(httpPort),
      IMS_SMTP_PORT: String(smtpPort),
      IMS_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    };
    const url = `http://127.0.0.1:${httpPort}`;
    const first = launch(env);

    // It prints the URL and, on first run, the admin password.
    const password = await until(
      async () => /"admin" password is\s+(\S+)/.exec(first.output())?.[1],
      60_000,
      'the first-run password',
    );
    await until(async () => (first.output().includes(`${url}/`) ? true : undefined));

    const session = await createApiClient({ baseUrl: url }).login('admin', password);
    expect(session.cookie).toMatch(/^ims_session=/);
    const browser = createApiClient({ baseUrl: url, cookie: session.cookie });
    const service = (): Promise<Service> => browser.service.status();

    // Registered, attached, running the saved version.
    const running = await until(
      async () => {
        const s = await service();
        const n = s.nodes[0];
        return n?.online && n.state === 'running' && n.runningVersion === s.savedVersion
          ? s
          : undefined;
      },
      60_000,
      'the local node to run the saved version',
    );
    expect(running.nodes).toHaveLength(1);
    expect(running.nodes[0]).toMatchObject({ name: 'local', listen: [`127.0.0.1:${smtpPort}`] });
    expect(await greeting(smtpPort)).toMatch(/^220 /);
    expect(statSync(join(dataDir, 'local-node.json')).mode & 0o777).toBe(0o600);

    // Killed: restarted, with the crash in the registry until it reports again.
    const pid = Number(readFileSync(join(dataDir, 'local-node.pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    const newPid = await until(
      async () => {
        const p = Number(readFileSync(join(dataDir, 'local-node.pid'), 'utf8'));
        return p !== pid && alive(p) ? p : undefined;
      },
      30_000,
      'a restarted node',
    );
    await until(
      async () => {
        const n = (await service()).nodes[0];
        return n?.state === 'running' && n.online ? true : undefined;
      },
      60_000,
      'the restarted node to report',
    );
    expect(await greeting(smtpPort)).toMatch(/^220 /);
    expect(first.output()).toContain('killed by SIGKILL');

    // SIGINT: the node stops first, then the console; nothing is left behind.
    first.proc.kill('SIGINT');
    expect(await exited(first)).toBe(0);
    expect(alive(newPid)).toBe(false);
    expect(existsSync(join(dataDir, 'local-node.pid'))).toBe(false);
    await expect(RawSmtp.open(smtpPort)).rejects.toThrow();

    // Second start on the same data: the same node, no new password; SIGTERM.
    // IMS_ADMIN_PASSWORD is set this time: it must not reach the node (issue 13 item 11).
    const second = launch({ ...env, IMS_ADMIN_PASSWORD: 'never-in-the-node-env' });
    await until(
      async () => {
        const n = (await service()).nodes;
        return n.length === 1 && n[0]?.online && n[0].state === 'running' ? true : undefined;
      },
      60_000,
      'the node after a second start',
    );
    expect(second.output()).not.toContain('password is');
    const secondPid = Number(readFileSync(join(dataDir, 'local-node.pid'), 'utf8'));
    // The node's environment, as the kernel holds it: an allow list.
    const nodeEnv = readFileSync(`/proc/${secondPid}/environ`, 'utf8').split('\0');
    expect(nodeEnv.some((kv) => kv.startsWith('IMS_NODE_TOKEN='))).toBe(true);
    expect(nodeEnv.some((kv) => kv.startsWith('IMS_ADMIN_PASSWORD='))).toBe(false);
    expect(nodeEnv.join('\n')).not.toContain('never-in-the-node-env');
    // A launcher on the same data directory while this one runs: refused, clearly.
    const twin = launch(env);
    expect(await exited(twin)).toBe(1);
    await until(
      async () => (twin.output().includes('Another console') ? true : undefined),
      10_000,
      "the twin's message",
    );
    expect(twin.output()).toContain(
      `Another console (pid ${second.proc.pid}) is running on the data directory ${dataDir}: stop it first.`,
    );
    second.proc.kill('SIGTERM');
    expect(await exited(second)).toBe(0);
    expect(alive(secondPid)).toBe(false);

    // A launcher killed outright (SIGKILL, OOM) leaves no node behind either:
    // the node sees its IPC channel close and stops.
    const killed = launch(env);
    const orphanPid = await until(
      async () => {
        const pid = Number(readFileSync(join(dataDir, 'local-node.pid'), 'utf8'));
        return pid !== secondPid && alive(pid) && (await greeting(smtpPort)).startsWith('220 ')
          ? pid
          : undefined;
      },
      60_000,
      'the node after a third start',
    );
    killed.proc.kill('SIGKILL');
    await exited(killed);
    await until(async () => (alive(orphanPid) ? undefined : true), 40_000, 'the node to stop');
    await until(
      async () =>
        RawSmtp.open(smtpPort).then(
          (c) => {
            c.close();
            return undefined;
          },
          () => true,
        ),
      10_000,
      'the SMTP port to close',
    );

    // --no-local-node: the console alone.
    const third = launch(env, ['--no-local-node']);
    await until(
      async () => ((await createApiClient({ baseUrl: url }).health()) ? true : undefined),
      60_000,
    );
    expect(third.output()).toContain('No local SMTP node');
    expect(existsSync(join(dataDir, 'local-node.pid'))).toBe(false);
    await expect(RawSmtp.open(smtpPort)).rejects.toThrow();
    third.proc.kill('SIGTERM');
    expect(await exited(third)).toBe(0);
  });
});

describe('npm start as it runs: the JavaScript scripts/build.mjs builds, without tsx', () => {
  it('scripts/start.sh builds the console, the node and the CLI, then runs the built launcher', () => {
    const script = readFileSync(join(root, 'scripts/start.sh'), 'utf8');
    const commands = script.split('\n').filter((line) => line.trim() && !line.startsWith('#'));
    // With no app named, build.mjs builds all three (apps/server, apps/smtp, apps/cli).
    expect(commands).toContain('node scripts/build.mjs');
    expect(commands.at(-1)).toBe(
      'exec node --enable-source-maps apps/server/build/launcher.js "$@"',
    );
    expect(commands.filter((line) => /\btsx\b/.test(line))).toEqual([]);
    const build = readFileSync(join(root, 'scripts/build.mjs'), 'utf8');
    for (const app of ['apps/server', 'apps/smtp', 'apps/cli'])
      expect(build).toContain(`dir: '${app}'`);
  });

  it('the built launcher serves the console and starts the built node with its two SMTP workers', {
    timeout: 120_000,
  }, async () => {
    // As scripts/start.sh does (but the CLI, which other tests may be running), then its last line.
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'apps/server', 'apps/smtp'], {
      stdio: 'pipe',
    });
    const httpPort = await freePort();
    const smtpPort = await freePort();
    const dataDir = temp();
    const url = `http://127.0.0.1:${httpPort}`;
    const child = start(
      root,
      join(root, 'apps/server/build/launcher.js'),
      {
        IMS_HTTP_PORT: String(httpPort),
        IMS_SMTP_PORT: String(smtpPort),
        IMS_DATA_DIR: dataDir,
        IMS_SMTP_WORKERS: '2',
        IMS_ADMIN_PASSWORD: 'built start password',
      },
      [],
      ['--enable-source-maps'],
    );
    const proc = child.proc;
    children.push(child);
    await until(
      async () => (child.output().includes(`${url}/`) ? true : undefined),
      60_000,
      'the URL',
    );
    const session = await createApiClient({ baseUrl: url }).login('admin', 'built start password');
    const browser = createApiClient({ baseUrl: url, cookie: session.cookie });
    await until(
      async () => {
        const s = await browser.service.status();
        const n = s.nodes[0];
        return n?.online && n.state === 'running' && n.runningVersion === s.savedVersion
          ? true
          : undefined;
      },
      60_000,
      'the built node to run the saved version',
    );
    // The node's policy answers on the wire: relaying refused, as the defaults say.
    const c = await RawSmtp.open(smtpPort);
    try {
      expect(await c.reply()).toMatch(/^220 /);
      expect(await c.cmd('EHLO client.example')).toMatch(/^250/);
      expect(await c.cmd('MAIL FROM:<someone@remote.example>')).toMatch(/^250 /);
      expect(await c.cmd('RCPT TO:<victim@elsewhere.example>')).toBe(
        '550 5.7.1 Relaying is prohibited',
      );
    } finally {
      c.close();
    }
    // Every process is built JavaScript: the node (build/main.js) and its two
    // workers (worker.js beside it), and none runs the tsx loader.
    const nodePid = Number(readFileSync(join(dataDir, 'local-node.pid'), 'utf8'));
    const tree = descendants(proc.pid ?? 0);
    const node = tree.find((p) => p.pid === nodePid);
    expect(node?.cmdline).toMatch(/build\/main\.js/);
    expect(tree.filter((p) => /apps\/smtp\/build\/worker\.js/.test(p.cmdline))).toHaveLength(2);
    expect(tree.filter((p) => p.cmdline.includes('tsx'))).toEqual([]);
    expect(readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8')).not.toContain('tsx');
    const workerPids = tree.filter((p) => p.cmdline.includes('worker.js')).map((p) => p.pid);
    proc.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(alive(nodePid)).toBe(false);
    // Its workers end with it (a zombie left for init to reap is gone too).
    await until(
      async () => (workerPids.some(running) ? undefined : true),
      10_000,
      'the built workers to end',
    );
  });
});

describe.skipIf(!postfixAvailable())(
  'IMS_SMTP_ENGINE=postfix npm start: the local node is a private Postfix',
  () => {
    it('runs the saved version through Postfix, reports engine postfix, and SIGTERM stops Postfix too', {
      timeout: 300_000,
    }, async () => {
      const httpPort = await freePort();
      const smtpPort = await freePort();
      const dataDir = temp();
      const url = `http://127.0.0.1:${httpPort}`;
      const launcher = launch({
        IMS_HTTP_PORT: String(httpPort),
        IMS_SMTP_PORT: String(smtpPort),
        IMS_DATA_DIR: dataDir,
        IMS_SMTP_ENGINE: 'postfix',
        IMS_ADMIN_PASSWORD: 'launcher postfix password',
      });
      await until(async () => (launcher.output().includes(`${url}/`) ? true : undefined), 60_000);
      await until(
        async () => (launcher.output().includes('a private Postfix instance') ? true : undefined),
        60_000,
        'the launcher to say the local node is Postfix',
      );
      const session = await createApiClient({ baseUrl: url }).login(
        'admin',
        'launcher postfix password',
      );
      const browser = createApiClient({ baseUrl: url, cookie: session.cookie });
      const node = await until(
        async () => {
          const s = await browser.service.status();
          const n = s.nodes[0];
          return n?.online && n.state === 'running' && n.runningVersion === s.savedVersion
            ? n
            : undefined;
        },
        180_000,
        'the Postfix node to run the saved version',
      );
      expect(node).toMatchObject({ name: 'local', engine: 'postfix' });
      expect(await greeting(smtpPort)).toMatch(/^220 \S+ ESMTP/);
      const masterPid = Number(
        readFileSync(join(dataDir, 'postfix', 'queue', 'pid', 'master.pid'), 'utf8').trim(),
      );
      expect(alive(masterPid)).toBe(true);

      launcher.proc.kill('SIGTERM');
      expect(await exited(launcher)).toBe(0);
      await until(async () => (alive(masterPid) ? undefined : true), 30_000, 'Postfix to stop');
      await expect(RawSmtp.open(smtpPort)).rejects.toThrow();
    });
  },
);
