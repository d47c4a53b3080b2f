/**
 * Helpers that the end-to-end tests, the CLI's tests and the benchmarks share:
 * free ports, child processes, polling and temporary directories.
 *
 * A test must not depend on the shell that runs it: every child started here
 * gets the caller's environment without the product's own `IMS_*` settings
 * (an exported IMS_ADMIN_PASSWORD or IMS_HTTP_PORT would otherwise change
 * what the child does), plus exactly what the test passes.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The product's own settings: what a test sets explicitly or not at all. */
export const PRODUCT_VARIABLE = /^IMS_/;

/**
 * The environment for a child a test starts: this process's environment
 * without the product's `IMS_*` variables, then `extra`.
 */
export function childEnv(
  extra: Record<string, string> = {},
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(from)) {
    if (value !== undefined && !PRODUCT_VARIABLE.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** A port free on `host` now (the kernel's choice), for the caller to bind soon. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const chosen = (server.address() as { port: number }).port;
        server.close(() => resolve(chosen));
      });
    });
    // The kernel may offer a port again once it is closed: never the same
    // one twice to this process, whose caller may not have bound the first yet.
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Ports freePort() has returned in this process. */
const handedOut = new Set<number>();

export interface Child {
  proc: ChildProcess;
  /** Everything the child wrote so far, stdout and stderr interleaved. */
  output: () => string;
  /** SIGTERM, and resolves when the child has exited. */
  stop: () => Promise<void>;
}

/**
 * Starts `node --import tsx <entry> [args]` in `cwd`: the environment is
 * `childEnv()` with LOG_LEVEL=warn (unless `env` says otherwise) and `env`.
 * `nodeArgs` replaces `--import tsx` (built JavaScript runs without it).
 */
export function start(
  cwd: string,
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
  nodeArgs: string[] = ['--import', 'tsx'],
): Child {
  const proc = spawn(process.execPath, [...nodeArgs, entry, ...args], {
    cwd,
    env: childEnv({ LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += String(d);
  });
  proc.stderr?.on('data', (d) => {
    out += String(d);
  });
  return {
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        // Already gone (exited, or killed by a signal such as kill -9): nothing to wait for.
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** Polls `check` until it returns a value, or fails after `ms`. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  ms = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** A new private temporary directory, and how to remove it. */
export function tempDir(prefix = 'ims-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A self-signed certificate for tests (`openssl req -x509`), valid for the
 * given names (DNS names, and IP addresses as `IP:127.0.0.1`), written as
 * `cert.pem` and `key.pem` in `dir`. The certificate is its own CA: trust it
 * with `ca: cert`.
 */
export function selfSignedCert(
  dir: string,
  names: readonly string[] = ['DNS:localhost', 'IP:127.0.0.1'],
): { certFile: string; keyFile: string; cert: Buffer; key: Buffer } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=IMS test console',
      '-addext',
      `subjectAltName=${names.join(',')}`,
      '-days',
      '2',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** The processes under `pid` (Linux /proc), each with its command line; gone ones are left out. */
export function descendants(pid: number): { pid: number; cmdline: string }[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid …: the comm may hold spaces, so split after its ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const out: { pid: number; cmdline: string }[] = [];
  const walk = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      try {
        const cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' ');
        out.push({ pid: child, cmdline: cmdline.trim() });
      } catch {
        // Gone meanwhile.
      }
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** Whether process `pid` still runs: false once it is gone, or a zombie waiting for whoever adopted it to reap it. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}
