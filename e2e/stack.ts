/**
 * A whole product on loopback for end-to-end tests: the console and one SMTP
 * node as real processes on ephemeral ports and temporary data dirs, a write
 * token, the mailbox alice@example.com, and a loopback SMTP sink standing in
 * for the outside world (the node's smart host).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RoutingConfig } from '@ims/routing-core';
import { SmtpSink } from '@ims/smtp/testing';
import { type Child, freePort, start, until } from '@ims/test-support';

export const root = resolve(import.meta.dirname, '..');
export const ALICE = { address: 'alice@example.com', password: 'alice e2e password' };

export interface Service {
  savedVersion: number;
  pendingRestart: boolean;
  nodes: {
    runningVersion: number | null;
    online: boolean;
    state: string;
    lastError?: string;
    listen: string[];
  }[];
}

export interface StackOptions {
  /** IMS_SMTP_LISTEN of the node (default 127.0.0.1). */
  listen?: string[];
  /** LOG_LEVEL of the console (default warn), for tests that read its log. */
  consoleLogLevel?: string;
}

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
  private headers: Record<string, string> = {};
  private consoleEnv: Record<string, string> = {};
  private nodeEnv: Record<string, string> = {};
  private console: Child | undefined;
  private node: Child | undefined;
  private readonly consoles: Child[] = [];
  private readonly nodes: Child[] = [];
  adminPassword = 'e2e admin password';

  private temp(): string {
    const d = mkdtempSync(join(tmpdir(), 'ims-e2e-'));
    this.dirs.push(d);
    return d;
  }

  static async start(opts: StackOptions = {}): Promise<Stack> {
    const s = new Stack();
    await s.boot(opts);
    return s;
  }

  private async boot(opts: StackOptions): Promise<void> {
    const httpPort = await freePort();
    this.smtpPort = await freePort();
    this.url = `http://127.0.0.1:${httpPort}`;
    this.sink = await SmtpSink.start();
    this.partner = await SmtpSink.start();
    this.consoleEnv = {
      IMS_HTTP_PORT: String(httpPort),
      IMS_DATA_DIR: this.temp(),
      IMS_ADMIN_PASSWORD: this.adminPassword,
      ...(opts.consoleLogLevel ? { LOG_LEVEL: opts.consoleLogLevel } : {}),
    };
    await this.startConsole();
    const login = await fetch(`${this.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: this.adminPassword }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const tokenRes = await fetch(`${this.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ name: 'e2e', scope: 'write' }),
    });
    const { token } = (await tokenRes.json()) as { token: string };
    this.headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await this.api('POST', '/api/v1/directory/mailboxes', {
      address: ALICE.address,
      displayName: 'Alice',
      password: ALICE.password,
    });
    if (created.status !== 201) throw new Error(`mailbox: ${JSON.stringify(created.body)}`);
    const node = await this.api<{ token: string }>('POST', '/api/v1/nodes', { name: 'e2e' });
    this.nodeEnv = {
      IMS_CONSOLE_URL: this.url,
      IMS_NODE_TOKEN: node.body.token,
      IMS_SMTP_PORT: String(this.smtpPort),
      IMS_SMTP_LISTEN: (opts.listen ?? ['127.0.0.1']).join(','),
      IMS_SMART_HOST: `127.0.0.1:${this.sink.port}`,
      IMS_DATA_DIR: this.temp(),
    };
    this.startNode();
    await this.waitForRunning(1);
  }

  /** Starts the SMTP node process (on the same port, token and data dir each time). */
  startNode(): void {
    this.node = start(join(root, 'apps/smtp'), 'src/main.ts', this.nodeEnv);
    this.children.push(this.node);
    this.nodes.push(this.node);
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

  /** kill -9 the SMTP node; resolves once the process is gone. */
  killNode(): Promise<void> {
    return kill9(this.node);
  }

  /** Starts the console process (on the same port and data dir each time). */
  async startConsole(): Promise<void> {
    this.console = start(join(root, 'apps/server'), 'src/server.ts', this.consoleEnv);
    this.children.push(this.console);
    this.consoles.push(this.console);
    await until(
      async () => ((await fetch(`${this.url}/healthz`)).ok ? true : undefined),
      60_000,
      'the console',
    );
  }

  /** Stops the console process; the node keeps running. */
  async stopConsole(): Promise<void> {
    await this.console?.stop();
  }

  get token(): string {
    return this.headers.authorization?.replace(/^Bearer /, '') ?? '';
  }

  async api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...this.headers, ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => null)) as T,
      headers: res.headers,
    };
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
    return (await this.api<Service>('GET', '/api/v1/service')).body;
  }

  async waitForRunning(version: number): Promise<void> {
    await until(
      async () => {
        const s = await this.service();
        return s.nodes[0]?.online && s.nodes[0].runningVersion === version ? true : undefined;
      },
      60_000,
      `the node to run version ${version}`,
    );
  }

  /** Restarts the service and waits until the node runs the saved version. */
  async restart(): Promise<void> {
    const res = await this.api<{ version: number }>('POST', '/api/v1/service/restart');
    if (res.status !== 202) throw new Error(`restart: ${res.status}`);
    await this.waitForRunning(res.body.version);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
    await Promise.all([this.sink?.close(), this.partner?.close()]);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
