/**
 * One private Postfix instance, driven through stage → validate → check →
 * swap → reload (docs/postfix.md "The agent"). It lives entirely under the
 * agent's data directory (its own config_directory, queue, data and Maildir
 * root) and never touches the machine's /etc/postfix.
 *
 * A version's files are written to the live directory only when its restart
 * is asked for (each new smtpd reads main.cf and the tables when it starts),
 * main.cf last and by rename. Before that the rendering is validated
 * (postconf and `postfix check`) and started in a throwaway staging instance
 * on a loopback port: an smtpd that cannot start there (a restriction list
 * Postfix rejects at start-up) never reaches the live instance, where it
 * would leave the listener mute and throttled for a minute. After the reload
 * the agent waits for the master's "reload" log line and for each listener's
 * 220 greeting; only then is the version running. Any failure puts the
 * previous files back (and reloads) and throws with the reason.
 */

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  PostfixRenderError,
  type PostfixTarget,
  type RenderedPostfix,
  renderPostfix,
  selfCheck,
} from '@ims/postfix-config';
import type { RoutingConfig } from '@ims/routing-core';

const execFileAsync = promisify(execFile);
/**
 * How long a postfix command may take. `postfix reload`/`status`/`stop` log
 * through postlog to postlogd; under load that socket has been seen to
 * deadlock (every command then hangs for ever), so none may wait unbounded.
 */
const COMMAND_TIMEOUT_MS = 30_000;
const run = (file: string, args: readonly string[]) =>
  execFileAsync(file, args, { timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' });

/** The least time between two reloads: SIGHUPs close together can deadlock the master's log. */
const RELOAD_GAP_MS = 2000;
/** How long a listener may take to greet after a reload or a start. */
const GREETING_TIMEOUT_MS = 10_000;
/** Generated probes the staging instance answers before a version goes live. */
const SELF_CHECK_CASES = 30;
/** How long the master may take to log that it reloaded. */
const RELOAD_LOG_TIMEOUT_MS = 10_000;

export type Mailboxes = { address: string; passwordHash: string }[];

/** What the agent knows of its machine; the paths come from the instance's root. */
export interface InstanceTarget {
  listen: { host: string; port: number }[];
  smartHost?: string;
  myhostname: string;
  tls?: { cert: string; key: string };
  /** Serve AUTH through the agent's socket (default true). */
  auth?: boolean;
}

export interface InstanceOptions {
  /** The instance's directory (IMS_DATA_DIR/postfix). */
  root: string;
  target: InstanceTarget;
  /** The renderer (tests give one that breaks a rendering on purpose). */
  render?: typeof renderPostfix;
  /** The self-check (tests may give one that breaks the staging on purpose). */
  selfCheck?: typeof selfCheck;
  log?: (entry: Record<string, unknown>) => void;
}

export class ApplyError extends Error {
  constructor(
    message: string,
    /** Where it failed: render, validate, stage, reload. */
    readonly step: 'render' | 'validate' | 'stage' | 'reload',
  ) {
    super(message);
    this.name = 'ApplyError';
  }
}

async function postfixIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'postfix'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postfix'])).stdout.trim());
  return { uid, gid };
}

/** Where to connect to reach a listener (a wildcard address is reached on loopback). */
function reachable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** Resolves with the greeting's first line; rejects when none comes in time. */
export function greeting(host: string, port: number, timeoutMs = GREETING_TIMEOUT_MS) {
  return new Promise<string>((resolve, reject) => {
    const socket = connect({ host: reachable(host), port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no SMTP greeting on ${host}:${port} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.end('QUIT\r\n');
      resolve(text.slice(0, end));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`no SMTP greeting on ${host}:${port}: ${err.message}`));
    });
  });
}

export class PostfixInstance {
  readonly etc: string;
  readonly queue: string;
  readonly data: string;
  readonly mail: string;
  readonly logFile: string;
  readonly saslSocket: string;
  private readonly stageRoot: string;
  /** The version whose files are live and whose reload took. */
  runningVersion: number | undefined;
  private live: RenderedPostfix | undefined;
  private lastReloadAt = 0;
  private readonly render: typeof renderPostfix;

  constructor(private readonly opts: InstanceOptions) {
    this.etc = join(opts.root, 'etc');
    this.queue = join(opts.root, 'queue');
    this.data = join(opts.root, 'data');
    this.mail = join(opts.root, 'mail');
    this.logFile = join(opts.root, 'log', 'maillog');
    this.saslSocket = join(opts.root, 'run', 'auth');
    this.stageRoot = join(opts.root, 'stage');
    this.render = opts.render ?? renderPostfix;
  }

  /** The target the live instance is rendered for. */
  get target(): PostfixTarget {
    return this.targetAt(this.opts.root, this.opts.target.listen);
  }

  private targetAt(root: string, listen: { host: string; port: number }[]): PostfixTarget {
    const t = this.opts.target;
    return {
      configDirectory: join(root, 'etc'),
      queueDirectory: join(root, 'queue'),
      dataDirectory: join(root, 'data'),
      mailDirectory: this.mail,
      listen,
      myhostname: t.myhostname,
      ...(t.smartHost ? { smartHost: t.smartHost } : {}),
      ...(t.auth === false ? {} : { saslSocket: this.saslSocket }),
      ...(t.tls ? { tls: t.tls } : {}),
      logFile: join(root, 'log', 'maillog'),
    };
  }

  /**
   * Creates the instance's directories (the data and mail ones owned by
   * postfix). Postfix's processes must reach them: an ancestor closed to
   * others (the console's data directory is 0700) gets group postfix and
   * group search (0710), and nothing more, so postfix can pass through but
   * not list or read it.
   */
  async prepare(): Promise<void> {
    const { uid, gid } = await postfixIds();
    await mkdir(this.opts.root, { recursive: true, mode: 0o755 });
    await chmod(this.opts.root, 0o755);
    for (let dir = dirname(this.opts.root); dir !== dirname(dir); dir = dirname(dir)) {
      const st = await stat(dir);
      if (st.mode & 0o001) continue;
      if (st.gid === gid && st.mode & 0o010) continue;
      if (st.gid !== 0 && st.gid !== gid) {
        throw new Error(
          `Postfix (user postfix) cannot reach ${this.opts.root}: ${dir} is closed to it; allow it search permission.`,
        );
      }
      await chown(dir, st.uid, gid);
      await chmod(dir, (st.mode & 0o7777) | 0o010);
      this.opts.log?.({ event: 'postfix-search-permission', directory: dir, mode: '0710' });
    }
    for (const dir of [this.etc, this.queue, dirname(this.logFile), dirname(this.saslSocket)]) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
    }
    for (const dir of [this.data, this.mail]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chown(dir, uid, gid);
    }
  }

  /** Whether this instance's master runs. */
  async isRunning(): Promise<boolean> {
    if (!existsSync(join(this.etc, 'main.cf'))) return false;
    try {
      await run('postfix', ['-c', this.etc, 'status']);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Makes `version` the live one: render, validate, try it in a staging
   * instance, swap it in (main.cf last), reload (or start the master) and
   * wait for it to take. On any failure the previous files stay or are put
   * back, and an ApplyError says why.
   */
  async apply(version: number, config: RoutingConfig, directory: Mailboxes): Promise<void> {
    let rendered: RenderedPostfix;
    try {
      rendered = this.render(config, directory, this.target);
    } catch (err) {
      throw new ApplyError(
        `Postfix cannot express version ${version}: ${err instanceof Error ? err.message : String(err)}`,
        'render',
      );
    }
    const files = { ...rendered.files };
    if (files['main.cf'] === undefined)
      throw new ApplyError('The rendering has no main.cf.', 'render');

    await this.tryInStaging(version, config, directory);
    const running = await this.isRunning();
    const previous = this.live ?? (running ? await this.readLive(Object.keys(files)) : undefined);
    await this.install(files);
    try {
      if (running) await this.reload();
      else await this.start();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.rollBack(previous, running).catch((again: unknown) =>
        this.opts.log?.({ event: 'postfix-rollback-failed', error: String(again) }),
      );
      throw new ApplyError(`Postfix did not take version ${version}: ${reason}`, 'reload');
    }
    this.live = { files };
    this.runningVersion = version;
  }

  /**
   * The self-check: the rendering started as a staging instance on loopback
   * (validated first), probed through XCLIENT and compared with
   * routing-core's decisions. An smtpd that cannot start there fails here.
   */
  private async tryInStaging(
    version: number,
    config: RoutingConfig,
    directory: Mailboxes,
  ): Promise<void> {
    let result: Awaited<ReturnType<typeof selfCheck>>;
    try {
      result = await (this.opts.selfCheck ?? selfCheck)(config, directory, this.target, {
        workDir: this.stageRoot,
        cases: SELF_CHECK_CASES,
        seed: version,
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (err instanceof PostfixRenderError)
        throw new ApplyError(`Postfix cannot express version ${version}: ${reason}`, 'render');
      throw new ApplyError(`Postfix rejects version ${version}: ${reason}`, 'validate');
    }
    const first = result.disagreements[0];
    if (first) {
      const p = first.probe;
      throw new ApplyError(
        `Postfix's staging instance does not decide version ${version} as routing-core does (${result.disagreements.length} of ${result.checked} probes), e.g. RCPT TO:${p.rcptTo} from ${p.clientIp}${p.authenticated ? ' (authenticated)' : ''}: expected ${first.expected}, got "${first.got}"`,
        'stage',
      );
    }
  }

  private async readLive(names: string[]): Promise<RenderedPostfix | undefined> {
    const files: Record<string, string> = {};
    for (const name of names) {
      const text = await readFile(join(this.etc, name), 'utf8').catch(() => undefined);
      if (text !== undefined) files[name] = text;
    }
    return files['main.cf'] === undefined ? undefined : { files };
  }

  /** Writes every file by rename, main.cf last. */
  private async install(files: Record<string, string>): Promise<void> {
    const names = Object.keys(files).sort((a, b) =>
      a === 'main.cf' ? 1 : b === 'main.cf' ? -1 : a.localeCompare(b),
    );
    for (const name of names) {
      const path = join(this.etc, name);
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.ims-new`;
      await writeFile(tmp, files[name] ?? '');
      await rename(tmp, path);
    }
  }

  private async logSize(): Promise<number> {
    return stat(this.logFile).then(
      (s) => s.size,
      () => 0,
    );
  }

  private async logSince(offset: number): Promise<string> {
    const handle = await open(this.logFile, 'r').catch(() => undefined);
    if (!handle) return '';
    try {
      const { size } = await handle.stat();
      if (size <= offset) return '';
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  }

  /** `postfix reload`, spaced from the last one; resolves once the master reloaded and every listener greets. */
  private async reload(): Promise<void> {
    const wait = this.lastReloadAt + RELOAD_GAP_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const offset = await this.logSize();
    this.lastReloadAt = Date.now();
    await run('postfix', ['-c', this.etc, 'reload']);
    const deadline = Date.now() + RELOAD_LOG_TIMEOUT_MS;
    while (!/postfix\/master\[\d+\]: reload -- /.test(await this.logSince(offset))) {
      if (Date.now() > deadline) throw new Error('the master did not log its reload');
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.checkListeners(offset);
  }

  private async start(): Promise<void> {
    const offset = await this.logSize();
    try {
      await run('postfix', ['-c', this.etc, 'start']);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`postfix start failed: ${stderr.trim() || String(err)}`);
    }
    this.lastReloadAt = Date.now();
    await this.checkListeners(offset);
  }

  private async checkListeners(offset: number): Promise<void> {
    try {
      for (const { host, port } of this.opts.target.listen) {
        const line = await greeting(host, port);
        if (!/^220[ -]/.test(line)) throw new Error(`${host}:${port} greeted with "${line}"`);
      }
    } catch (err) {
      const detail = lastProblems(await this.logSince(offset));
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}${detail ? ` (${detail})` : ''}`,
      );
    }
    const bad = startupFailure(await this.logSince(offset));
    if (bad) throw new Error(bad);
  }

  /** Puts the previous files back and reloads; a master left mute by a throttled smtpd is restarted. */
  private async rollBack(previous: RenderedPostfix | undefined, wasRunning: boolean) {
    if (!previous) {
      // Nothing ran before: leave no half-started instance behind.
      await run('postfix', ['-c', this.etc, 'stop']).catch(() => undefined);
      return;
    }
    await this.install(previous.files);
    if (!wasRunning) {
      await this.start();
      return;
    }
    try {
      await this.reload();
    } catch {
      await this.stopOrKill();
      await this.start();
    }
    this.opts.log?.({ event: 'postfix-rolled-back', version: this.runningVersion });
  }

  /** Stops the master (sessions in progress end; mail on disk stays queued). */
  async stop(): Promise<void> {
    if (await this.isRunning()) await this.stopOrKill();
  }

  /**
   * `postfix stop`; when that fails or hangs (a master deadlocked on its log
   * socket), SIGKILL to the master and its children, as an operator would:
   * the queue is on disk, and the children exit with their master anyway.
   */
  private async stopOrKill(): Promise<void> {
    try {
      await run('postfix', ['-c', this.etc, 'stop']);
      return;
    } catch (err) {
      this.opts.log?.({ event: 'postfix-stop-failed', error: String(err) });
    }
    const pidFile = join(this.opts.root, 'queue', 'pid', 'master.pid');
    const master = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!(master > 0)) return;
    for (const pid of [...childrenOf(master), master]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    const deadline = Date.now() + 10_000;
    while (alive(master) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }
}

/** A log line that says smtpd could not start. */
export function startupFailure(log: string): string | undefined {
  const line = log
    .split('\n')
    .find((l) => /bad command startup -- throttling|smtpd\[\d+\]: (fatal|panic):/.test(l));
  return line ? line.replace(/^.*?postfix\//, 'postfix/') : undefined;
}

/** The last fatal/panic/error lines of a log, for an error message. */
function lastProblems(log: string): string {
  return log
    .split('\n')
    .filter((l) => /: (fatal|panic|error):|bad command startup/.test(l))
    .slice(-3)
    .map((l) => l.replace(/^.*?postfix\//, 'postfix/'))
    .join('; ');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids whose parent is `parent` (Linux /proc). */
function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after its ')'.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent)
        out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
