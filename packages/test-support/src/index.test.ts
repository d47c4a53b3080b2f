import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childEnv, descendants, freePort, start, tempDir, until } from './index';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('childEnv', () => {
  it("drops the product's IMS_* variables and keeps the rest, then adds what the test sets", () => {
    const env = childEnv(
      { IMS_HTTP_PORT: '8081' },
      { PATH: '/bin', IMS_ADMIN_PASSWORD: 'from the shell', IMS_SMTP_PORT: '1', HOME: '/h' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', IMS_HTTP_PORT: '8081' });
  });
});

describe('start', () => {
  it('a child sees only the IMS_* variables the test passes, and LOG_LEVEL=warn', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const entry = join(dir.path, 'print-env.mjs');
    writeFileSync(
      entry,
      "const ims = Object.keys(process.env).filter((k) => k.startsWith('IMS_')).sort();\n" +
        'console.log(JSON.stringify({ ims, level: process.env.LOG_LEVEL }));\n',
    );
    const saved = process.env.IMS_ADMIN_PASSWORD;
    process.env.IMS_ADMIN_PASSWORD = 'set in the calling shell';
    cleanups.push(() => {
      if (saved === undefined) delete process.env.IMS_ADMIN_PASSWORD;
      else process.env.IMS_ADMIN_PASSWORD = saved;
    });
    // The package's own folder as the working directory: tsx resolves from there.
    const child = start(import.meta.dirname, entry, { IMS_DATA_DIR: dir.path });
    cleanups.push(child.stop);
    const line = await until(
      async () => (child.output().includes('\n') ? child.output() : undefined),
      20_000,
      'the child to print its environment',
    );
    expect(JSON.parse(line)).toEqual({ ims: ['IMS_DATA_DIR'], level: 'warn' });
  });
});

describe('freePort and until', () => {
  it('freePort gives a port that can be listened on', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('until returns the first value, and names what it waited for when it times out', async () => {
    let n = 0;
    expect(await until(async () => (++n >= 3 ? n : undefined), 5_000)).toBe(3);
    await expect(until(async () => undefined, 250, 'nothing')).rejects.toThrow(
      'timed out waiting for nothing',
    );
  });
});

describe('descendants', () => {
  it('lists the processes under a pid, grandchildren too, with their command lines', async () => {
    const { spawn } = await import('node:child_process');
    const shell = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    cleanups.push(() => {
      for (const p of descendants(shell.pid ?? 0)) process.kill(p.pid, 'SIGKILL');
      shell.kill('SIGKILL');
    });
    const found = await until(async () => {
      const tree = descendants(process.pid);
      return tree.some((p) => p.cmdline === 'sleep 30') ? tree : undefined;
    }, 5000);
    expect(found.find((p) => p.pid === shell.pid)?.cmdline).toBe('sh -c sleep 30 & wait');
    expect(descendants(shell.pid ?? 0).map((p) => p.cmdline)).toEqual(['sleep 30']);
  });
});
