/**
 * Writing a rendering to a directory, validating it, and running a private
 * Postfix instance from its own config directory (never /etc/postfix, never
 * the system instance). Used by validateRendering(), the self-check's
 * staging instance and the tests; the node agent swaps files itself.
 */

import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PostfixTarget, RenderedPostfix } from './render';

export const POSTFIX = '/usr/sbin/postfix';
export const POSTCONF = '/usr/sbin/postconf';

/** Postfix's answer to a command, when it failed: its own message. */
export class PostfixCommandError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'PostfixCommandError';
  }
}

/** The environment for Postfix's commands: none of the product's IMS_* variables, no MAIL_CONFIG. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('IMS_') && k !== 'MAIL_CONFIG') env[k] = v;
  }
  return env;
}

/** Runs a Postfix command; resolves with stdout and stderr together. */
export function runPostfixCommand(
  file: string,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: cleanEnv(), timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output });
      },
    );
  });
}

/** Writes every file of a rendering into `dir` (created). */
export async function writeRendering(dir: string, rendered: RenderedPostfix): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(rendered.files)) {
    if (name.includes('/') || name.startsWith('.')) throw new Error(`Unsafe file name "${name}".`);
    await writeFile(join(dir, name), content, { mode: 0o644 });
  }
}

/**
 * Creates the directories a target names, owned as Postfix wants them:
 * data and mail directories by `postfix`, the queue by root (postfix
 * set-permissions fixes its subdirectories at start).
 */
export async function prepareDirectories(
  target: PostfixTarget,
  owner: { uid: number; gid: number },
): Promise<void> {
  for (const d of [target.configDirectory, target.queueDirectory]) {
    await mkdir(d, { recursive: true });
  }
  for (const d of [target.dataDirectory, target.mailDirectory]) {
    await mkdir(d, { recursive: true });
    await chown(d, owner.uid, owner.gid);
    await chmod(d, 0o700);
  }
}

/** The warnings and fatal lines of Postfix's output. */
function problems(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /^[\w/.-]+(\[\d+\])?: (warning|fatal|error|panic): /.test(l.trim()))
    .map((l) => l.trim());
}

/**
 * Validates a staged rendering: `postconf -c STAGE -n` with every warning
 * a failure (an unknown or misspelt parameter, a bad table), then
 * `postfix -c STAGE check`. Throws a PostfixCommandError with Postfix's
 * message.
 */
export async function validateRendering(stageDir: string): Promise<void> {
  const conf = await runPostfixCommand(POSTCONF, ['-c', stageDir, '-n']);
  const confProblems = problems(conf.output);
  if (conf.code !== 0 || confProblems.length > 0) {
    throw new PostfixCommandError(
      `postconf rejected the rendering: ${confProblems.join('; ') || conf.output}`,
      conf.output,
    );
  }
  const master = await runPostfixCommand(POSTCONF, ['-c', stageDir, '-M']);
  const masterProblems = problems(master.output);
  if (master.code !== 0 || masterProblems.length > 0) {
    throw new PostfixCommandError(
      `postconf rejected master.cf: ${masterProblems.join('; ') || master.output}`,
      master.output,
    );
  }
  const before = await logSize(stageDir);
  const check = await runPostfixCommand(POSTFIX, ['-c', stageDir, 'check']);
  // postfix check logs to maillog_file when there is one, not to stderr.
  const checkProblems = problems(`${check.output}\n${await logSince(stageDir, before)}`);
  if (check.code !== 0 || checkProblems.length > 0) {
    throw new PostfixCommandError(
      `postfix check failed: ${checkProblems.join('; ') || check.output}`,
      check.output,
    );
  }
  await checkTables(stageDir);
}

/** The maillog_file a staged main.cf names, if any. */
async function logFileOf(stageDir: string): Promise<string | undefined> {
  const r = await runPostfixCommand(POSTCONF, ['-c', stageDir, '-h', 'maillog_file']);
  const path = r.output.trim();
  return r.code === 0 && path.startsWith('/') ? path : undefined;
}

async function logSize(stageDir: string): Promise<number> {
  const path = await logFileOf(stageDir);
  return path
    ? await stat(path).then(
        (s) => s.size,
        () => 0,
      )
    : 0;
}

/** What Postfix logged since `offset`, without the syslog prefix ("Nov 29 … host "). */
async function logSince(stageDir: string, offset: number): Promise<string> {
  const path = await logFileOf(stageDir);
  if (!path) return '';
  const text = await readFile(path).then(
    (b) => b.subarray(offset).toString('utf8'),
    () => '',
  );
  return text
    .split('\n')
    .map((l) => l.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ /, ''))
    .join('\n');
}

/** Each table a rendering names is read by Postfix's own parser (postmap -q of a probe key). */
async function checkTables(stageDir: string): Promise<void> {
  const main = await readFile(join(stageDir, 'main.cf'), 'utf8');
  const tables = new Set<string>();
  for (const m of main.matchAll(/\b(regexp|cidr|texthash):(\/[^\s,]+)/g))
    tables.add(`${m[1]}:${m[2]}`);
  for (const table of tables) {
    const probe = table.startsWith('cidr:') ? '192.0.2.1' : 'probe@ims-check.invalid';
    const q = await runPostfixCommand('/usr/sbin/postmap', ['-c', stageDir, '-q', probe, table]);
    const tableProblems = problems(q.output);
    if (tableProblems.length > 0) {
      throw new PostfixCommandError(`${table}: ${tableProblems.join('; ')}`, q.output);
    }
  }
}

/** A private Postfix instance run from its own config directory. */
export class PostfixInstance {
  constructor(readonly configDirectory: string) {}

  async start(): Promise<void> {
    const r = await runPostfixCommand(POSTFIX, ['-c', this.configDirectory, 'start']);
    if (r.code !== 0) throw new PostfixCommandError(`postfix start failed: ${r.output}`, r.output);
  }

  async reload(): Promise<void> {
    const r = await runPostfixCommand(POSTFIX, ['-c', this.configDirectory, 'reload']);
    if (r.code !== 0) throw new PostfixCommandError(`postfix reload failed: ${r.output}`, r.output);
  }

  /** Stops the instance (quietly when it is not running). */
  async stop(): Promise<void> {
    await runPostfixCommand(POSTFIX, ['-c', this.configDirectory, 'stop']);
  }

  /** Whether its master runs. */
  async running(): Promise<boolean> {
    const r = await runPostfixCommand(POSTFIX, ['-c', this.configDirectory, 'status']);
    return r.code === 0;
  }
}
