/**
 * The Postfix node: one private Postfix instance (instance.ts), the AUTH
 * service Postfix asks over the Dovecot SASL protocol on a Unix socket
 * (verified against the bundle's scrypt hashes with @ims/passwords), and the
 * queue requests. The console link (@ims/node-link) drives it.
 */

import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import type { NodeAnswerBody } from '@ims/api-contract';
import type { Engine } from '@ims/node-link';
import { DUMMY_HASH, verifyPassword } from '@ims/passwords';
import { createSaslServer } from '@ims/postfix-config';
import type { RoutingConfig } from '@ims/routing-core';
import { type InstanceOptions, type Mailboxes, PostfixInstance } from './instance';
import { answerRequest } from './requests';

/** A configuration version with its directory, as the console serves it. */
export interface Bundle {
  version: number;
  config: RoutingConfig;
  directory: Mailboxes;
  targetVersion?: number;
}

/** scrypt checks at once: libuv's four threads also serve the rest of the agent. */
const MAX_CONCURRENT_CHECKS = 2;

export class PostfixNode implements Engine {
  readonly instance: PostfixInstance;
  readonly startedAt = new Date();
  /** Mailbox address (lower case) → password hash: what AUTH checks. */
  private directory = new Map<string, string>();
  private running: Bundle | undefined;
  private sasl: ReturnType<typeof createSaslServer> | undefined;
  private checks = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly opts: InstanceOptions) {
    this.instance = new PostfixInstance(opts);
  }

  get runningVersion(): number | undefined {
    return this.instance.runningVersion;
  }

  get listening(): string[] {
    return this.opts.target.listen.map(({ host, port }) =>
      host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    );
  }

  /** Creates the directories and opens the AUTH socket (before Postfix may ask it). */
  async start(): Promise<void> {
    await this.instance.prepare();
    if (this.opts.target.auth === false) return;
    await rm(this.instance.saslSocket, { force: true });
    const log = this.opts.log;
    this.sasl = createSaslServer({
      socketPath: this.instance.saslSocket,
      verify: (user, password) => this.verify(user, password),
      // Only Postfix (its smtpd processes run as postfix) may ask: 0600, owned by postfix.
      owner: {
        uid: Number(execFileSync('id', ['-u', 'postfix']).toString().trim()),
        gid: Number(execFileSync('id', ['-g', 'postfix']).toString().trim()),
      },
      mode: 0o600,
      ...(log
        ? {
            log: {
              info: (event: string, detail?: Record<string, unknown>) => log({ event, ...detail }),
              warn: (event: string, detail?: Record<string, unknown>) => log({ event, ...detail }),
            },
          }
        : {}),
    });
    await this.sasl.listen();
  }

  /** Whether `password` is `user`'s; unknown users cost the same scrypt work. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.directory.get(user.toLowerCase());
    while (this.checks >= MAX_CONCURRENT_CHECKS)
      await new Promise<void>((r) => this.waiting.push(r));
    this.checks++;
    try {
      return (await verifyPassword(password, hash ?? DUMMY_HASH)) && hash !== undefined;
    } finally {
      this.checks--;
      this.waiting.shift()?.();
    }
  }

  private setMailboxes(directory: Mailboxes): void {
    const map = new Map<string, string>();
    for (const e of directory) map.set(e.address.toLowerCase(), e.passwordHash);
    this.directory = map;
  }

  async apply(bundle: Bundle): Promise<void> {
    await this.instance.apply(bundle.version, bundle.config, bundle.directory);
    this.running = bundle;
    this.setMailboxes(bundle.directory);
  }

  /** A directory change: AUTH sees it at once, the mailbox table with a reload of the running version. */
  async setDirectory(bundle: Bundle): Promise<void> {
    this.setMailboxes(bundle.directory);
    const running = this.running;
    if (!running) return;
    await this.instance.apply(running.version, running.config, bundle.directory);
    this.running = { ...running, directory: bundle.directory };
  }

  status(): ReturnType<Engine['status']> {
    return { counters: {}, engine: 'postfix' };
  }

  request(method: unknown, params: unknown): Promise<NodeAnswerBody> {
    return answerRequest(this.instance.etc, method, params);
  }

  /** Stops Postfix (its master and every smtpd) and the AUTH socket. */
  async stop(): Promise<void> {
    await this.instance.stop();
    await this.sasl?.close();
  }
}
