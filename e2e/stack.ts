/**
 * A whole product on loopback for end-to-end tests: the console and one SMTP
 * node as real processes on ephemeral ports and temporary data dirs, a write
 * token, the mailbox alice@example.com, and a loopback SMTP sink standing in
 * for the outside world (the node's smart host).
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ApiClient, createApiClient, type Service } from '@ims/api-client';
import type { RoutingConfig } from '@ims/routing-core';
import { SmtpSink } from '@ims/smtp/testing';
import { type Child, freePort, running, start, until } from '@ims/test-support';

export const root = resolve(import.meta.dirname, '..');
export const ALICE = { address: 'alice@example.com', password: 'alice e2e password' };

export type { Service };

export interface StackOptions {
  /** IMS_SMTP_LISTEN of the node (default 127.0.0.1). */
  listen?: string[];
  /** LOG_LEVEL of the console (default warn), for tests that read its log. */
  consoleLogLevel?: string;
  /** IMS_SMTP_WORKERS of the node (default 1: one process, the quickest to start). */
  workers?: number;
  /**
   * What enforces the configuration (issue 12): the product's SMTP node
   * (apps/smtp, default) or a private Postfix driven by apps/postfix-node.
   */
  engine?: Engine;
  /** More variables for the node's environment (IMS_SMTP_* settings a bench or test needs). */
  nodeEnv?: Record<string, string>;
}

export type Engine = 'ims' | 'postfix';

/** Whether a Postfix engine can run here (Postfix installed, and root to run a private instance). */
export function postfixAvailable(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v postfix && command -v postconf'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/** The engines the parameterised suites run against: both where Postfix is available. */
export const ENGINES: Engine[] = postfixAvailable() ? ['ims', 'postfix'] : ['ims'];

function kill9(child: Child | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return resolve();
    child.proc.once('exit', () => resolve());
    child.proc.kill('SIGKILL');
  });
}

export class Stack {
  private readonly dirs: string[] = [];
  private readonly children: Child[] = [];
  url = '';
  smtpPort = 0;
  sink!: SmtpSink;
  /** A second loopback SMTP host, for routing-table entries. */
  partner!: SmtpSink;
  /** The console with the e2e write token. */
  client!: ApiClient;
  private tokenValue = '';
  private consoleEnv: Record<string, string> = {};
  private nodeEnv: Record<string, string> = {};
  private console: Child | undefined;
  private node: Child | undefined;
  private readonly consoles: Child[] = [];
  private readonly nodes: Child[] = [];
  adminPassword = 'e2e admin password';
  engine: Engine = 'ims';
  /** Data directories of Postfix nodes (a master left behind is killed at stop). */
  private readonly postfixDirs: string[] = [];

  private temp(): string {
    const d = mkdtempSync(join(tmpdir(), 'ims-e2e-'));
    this.dirs.push(d);
    return d;
  }

  static async start(opts: StackOptions = {}): Promise<Stack> {
    const s = new Stack();
    try {
      await s.boot(opts);
    } catch (err) {
      // Nobody holds the stack yet: stop what it started before it failed.
      await s.stop();
      throw err;
    }
    return s;
  }

  private async boot(opts: StackOptions): Promise<void> {
    this.engine = opts.engine ?? 'ims';
    // The sinks first: each binds a port of the kernel's choice, which could
    // otherwise be one just chosen below for the console or the node.
    this.sink = await SmtpSink.start();
    this.partner = await SmtpSink.start();
    const httpPort = await freePort();
    this.smtpPort = await freePort();
    this.url = `http://127.0.0.1:${httpPort}`;
    this.consoleEnv = {
      IMS_HTTP_PORT: String(httpPort),
      IMS_DATA_DIR: this.temp(),
      IMS_ADMIN_PASSWORD: this.adminPassword,
      ...(opts.consoleLogLevel ? { LOG_LEVEL: opts.consoleLogLevel } : {}),
    };
    await this.startConsole();
    const session = await createApiClient({ baseUrl: this.url }).login('admin', this.adminPassword);
    const browser = createApiClient({
      baseUrl: this.url,
      cookie: session.cookie,
      csrfToken: session.csrfToken,
    });
    const { token } = await browser.tokens.create('e2e', 'write');
    this.tokenValue = token;
    this.client = createApiClient({ baseUrl: this.url, token });
    await this.client.directory.create({
      address: ALICE.address,
      displayName: 'Alice',
      password: ALICE.password,
    });
    // Only a signed-in user registers nodes.
    const node = await browser.nodes.register('e2e');
    this.nodeEnv = {
      IMS_CONSOLE_URL: this.url,
      IMS_NODE_TOKEN: node.token,
      IMS_SMTP_PORT: String(this.smtpPort),
      IMS_SMTP_LISTEN: (opts.listen ?? ['127.0.0.1']).join(','),
      IMS_SMART_HOST: `127.0.0.1:${this.sink.port}`,
      IMS_DATA_DIR: this.temp(),
      IMS_SMTP_WORKERS: String(opts.workers ?? 1),
      ...opts.nodeEnv,
    };
    this.startNode();
    await this.waitForRunning(1);
  }

  /** Starts the SMTP node process (on the same port, token and data dir each time). */
  startNode(): void {
    const app = this.engine === 'postfix' ? 'apps/postfix-node' : 'apps/smtp';
    this.node = start(join(root, app), 'src/main.ts', this.nodeEnv);
    this.children.push(this.node);
    this.nodes.push(this.node);
  }

  /** Sets IMS_SMTP_WORKERS for the node's next start. */
  setNodeWorkers(workers: number): void {
    this.nodeEnv.IMS_SMTP_WORKERS = String(workers);
  }

  /**
   * The pids of the SMTP node's worker processes (its children running the
   * same executable; none with one worker). Not every child is a worker:
   * each SMTP process keeps a small `sh` for its journal's syncfs
   * (apps/smtp/src/sync-fs.ts).
   */
  nodeWorkerPids(): number[] {
    const parent = this.node?.proc.pid;
    if (parent === undefined) return [];
    let executable: string;
    try {
      executable = readlinkSync(`/proc/${parent}/exe`);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        // pid (comm) state ppid …: the comm may hold spaces, so split after its ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === parent && readlinkSync(`/proc/${name}/exe`) === executable)
          out.push(Number(name));
      } catch {
        // Gone meanwhile.
      }
    }
    return out;
  }

  /** The pid of the SMTP node's process (its primary, with several workers). */
  nodePid(): number {
    const pid = this.node?.proc.pid;
    if (pid === undefined) throw new Error('no SMTP node started');
    return pid;
  }

  /**
   * Established TCP connections that process `pid` holds to the console's
   * HTTP port, read from /proc (its socket descriptors matched against the
   * kernel's TCP tables). A node attached to the console holds one (its event
   * stream); a process that never talks to the console holds none.
   */
  consoleConnections(pid: number): number {
    const port = Number(new URL(this.url).port);
    const sockets = new Set<string>();
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return 0; // Gone.
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) sockets.add(inode);
      } catch {
        // Closed meanwhile.
      }
    }
    let count = 0;
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text: string;
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      // sl local_address rem_address st … inode: 01 is ESTABLISHED, ports in hex.
      for (const row of text.split('\n').slice(1)) {
        const f = row.trim().split(/\s+/);
        const remotePort = Number.parseInt(f[2]?.split(':')[1] ?? '', 16);
        if (f[3] === '01' && remotePort === port && sockets.has(f[9] ?? '')) count++;
      }
    }
    return count;
  }

  /**
   * Registers and starts one more node of `engine` (a mixed fleet): its own
   * port and data directory, the same console and smart host.
   */
  async addNode(name: string, engine: Engine): Promise<{ name: string; port: number }> {
    const node = await (await this.signIn()).nodes.register(name);
    const port = await freePort();
    const dataDir = this.temp();
    const child = start(
      join(root, engine === 'postfix' ? 'apps/postfix-node' : 'apps/smtp'),
      'src/main.ts',
      {
        ...this.nodeEnv,
        IMS_NODE_TOKEN: node.token,
        IMS_SMTP_PORT: String(port),
        IMS_SMTP_LISTEN: '127.0.0.1',
        IMS_DATA_DIR: dataDir,
      },
    );
    this.children.push(child);
    this.nodes.push(child);
    if (engine === 'postfix') this.postfixDirs.push(dataDir);
    return { name, port };
  }

  /** The console's data directory (its SQLite file is there). */
  get consoleDataDir(): string {
    return this.consoleEnv.IMS_DATA_DIR ?? '';
  }

  /** The SMTP node's data directory. */
  get nodeDataDir(): string {
    return this.nodeEnv.IMS_DATA_DIR ?? '';
  }

  /** What every console process started so far has written to stdout and stderr (its log). */
  consoleOutput(): string {
    return this.consoles.map((c) => c.output()).join('');
  }

  /** What every SMTP node process started so far has written to stdout and stderr (its JSON log). */
  nodeOutput(): string {
    return this.nodes.map((c) => c.output()).join('');
  }

  /** Sends a signal to the SMTP node process (SIGHUP: reload). */
  signalNode(signal: NodeJS.Signals): void {
    this.node?.proc.kill(signal);
  }

  /** kill -9 the console; resolves once the process is gone. */
  killConsole(): Promise<void> {
    return kill9(this.console);
  }

  /**
   * kill -9 the SMTP node, all of it: the node and its SMTP workers at once
   * (as `kill -9` of its process group, or the machine losing power for
   * them); resolves once every one of them is gone.
   */
  async killNode(): Promise<void> {
    const workers = this.nodeWorkerPids();
    for (const pid of workers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await kill9(this.node);
    await until(
      async () => (workers.some(running) ? undefined : true),
      10_000,
      'the killed workers to be gone',
    );
  }

  /** Starts the console process (on the same port and data dir each time). */
  async startConsole(): Promise<void> {
    this.console = start(join(root, 'apps/server'), 'src/server.ts', this.consoleEnv);
    this.children.push(this.console);
    this.consoles.push(this.console);
    await until(
      async () => ((await createApiClient({ baseUrl: this.url }).health()) ? true : undefined),
      60_000,
      'the console',
    );
  }

  /** Stops the console process; the node keeps running. */
  async stopConsole(): Promise<void> {
    await this.console?.stop();
  }

  get token(): string {
    return this.tokenValue;
  }

  /**
   * One request with the e2e write token, answered whatever its status (for
   * tests that check the wire); the method and path must be a route of the
   * api-contract route table.
   */
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    return this.client.raw<T>(method, path, body, extra);
  }

  /**
   * A signed-in administrator (a session, as a browser has): what only a
   * session may do (mint tokens, register nodes) goes through it.
   */
  async signIn(): Promise<ApiClient> {
    const session = await createApiClient({ baseUrl: this.url }).login('admin', this.adminPassword);
    return createApiClient({
      baseUrl: this.url,
      cookie: session.cookie,
      csrfToken: session.csrfToken,
    });
  }

  /** Saves a change to the routing configuration (acknowledging critical findings); returns the new version. */
  async save(change: (config: RoutingConfig) => void): Promise<number> {
    const current = await this.api<{ config: RoutingConfig }>('GET', '/api/v1/routing');
    const config = current.body.config;
    change(config);
    const ifMatch = { 'if-match': current.headers.get('etag') ?? '' };
    let res = await this.api<{ version: number; findings?: { id: string }[] }>(
      'PUT',
      '/api/v1/routing',
      { config },
      ifMatch,
    );
    if (res.status === 422 && res.body.findings) {
      const acknowledge = res.body.findings.map((f) => f.id);
      res = await this.api('PUT', '/api/v1/routing', { config, acknowledge }, ifMatch);
    }
    if (res.status !== 200) throw new Error(`save: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.version;
  }

  async service(): Promise<Service> {
    return this.client.service.status();
  }

  async waitForRunning(version: number): Promise<void> {
    await until(
      async () => {
        const s = await this.service();
        return s.nodes[0]?.online && s.nodes[0].runningVersion === version ? true : undefined;
      },
      // A Postfix node runs a staging self-check before each version goes live.
      this.engine === 'postfix' ? 180_000 : 60_000,
      `the node to run version ${version}`,
    );
  }

  /** Restarts the service and waits until the node runs the saved version. */
  async restart(): Promise<void> {
    const res = await this.client.service.restart();
    await this.waitForRunning(res.version);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
    if (this.engine === 'postfix') this.postfixDirs.push(this.nodeDataDir);
    for (const dir of this.postfixDirs) {
      // The agent stops its Postfix on SIGTERM; a master it left (killed) goes here.
      try {
        const pidFile = join(dir, 'postfix', 'queue', 'pid', 'master.pid');
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (pid > 0 && cmdline.includes('master')) process.kill(pid, 'SIGKILL');
      } catch {
        // no master left
      }
    }
    await Promise.all([this.sink?.close(), this.partner?.close()]);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
