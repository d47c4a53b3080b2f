/**
 * The README's commands, as typed: a reader who copies them gets what the README says. Every fenced `sh` block of
 * README.md runs, in order, in one bash session (as a reader would type them
 * into one terminal) against a real console and SMTP node (e2e/stack.ts):
 *
 * - the product's `IMS_*` variables are cleared, for bash and for the stack;
 * - HOME and XDG_CONFIG_HOME are a temp dir, and so is the working directory;
 * - `ims` is on the PATH: a symlink to apps/cli/bin/ims.mjs in a temp bin dir,
 *   first on the PATH (the test does not depend on a global link);
 * - `PW` is the admin password, which the README tells the reader to set;
 * - `set -o pipefail`, so a failing command inside a pipe is not hidden;
 * - the documented default addresses are rewritten, textually and nothing
 *   else: `http://127.0.0.1:8080` → the console, `127.0.0.1:2525` → the node.
 *
 * Each command must exit 0, unless its trailing comment says what it does
 * (the test checks it):
 *
 *     cmd   # → TEXT            exits 0 and prints TEXT (stdout or stderr)
 *     cmd   # → exit N: TEXT    exits N and prints TEXT
 *
 * Other comments are prose. A block that cannot run inside a test is marked in
 * the README source with `<!-- doc-test: skip — why; the test that runs the same commands -->`
 * just before it; the named test file must exist.
 */

import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { root, Stack } from './stack';

interface DocCommand {
  /** The README line the command starts on. */
  line: number;
  /** The command as typed (continuation lines included), without its trailing comment. */
  text: string;
  exit: number;
  /** Text the output must contain (from `# → …`). */
  output?: string;
}

interface DocBlock {
  line: number;
  /** Why the block is not run (from `<!-- doc-test: skip — … -->`). */
  skip?: string;
  commands: DocCommand[];
}

const SKIP = /^<!--\s*doc-test:\s*skip\s*[—-]\s*(.+?)\s*-->$/s;

/**
 * Reads a command as bash does: where an unquoted `#` starts a comment (at the
 * start of a word), or -1; and whether a quote is still open at the end (the
 * command goes on on the next line).
 */
function scan(text: string): { comment: number; quoted: boolean } {
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === '\\') {
      i++;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      return { comment: i, quoted: false };
    }
  }
  return { comment: -1, quoted: quote !== undefined };
}

function command(line: number, typed: string): DocCommand {
  const at = scan(typed).comment;
  const text = (at < 0 ? typed : typed.slice(0, at)).trimEnd();
  const comment = at < 0 ? '' : typed.slice(at + 1).trim();
  const arrow = /^→\s*(.*)$/s.exec(comment);
  if (!arrow) return { line, text, exit: 0 };
  const said = (arrow[1] ?? '').trim();
  const exit = /^exit (\d+)(?::\s*(.*))?$/s.exec(said);
  const output = exit ? (exit[2] ?? '').trim() : said;
  if (!exit && output === '') throw new Error(`README.md:${line}: "# →" says nothing`);
  return { line, text, exit: exit ? Number(exit[1]) : 0, ...(output ? { output } : {}) };
}

/** The fenced `sh` blocks of a Markdown text, each split into commands. */
function shBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if ((lines[i] ?? '').trim() !== '```sh') continue;
    let before = i - 1;
    while (before >= 0 && (lines[before] ?? '').trim() === '') before--;
    const skip = SKIP.exec((lines[before] ?? '').trim())?.[1];
    const start = i + 1;
    const commands: DocCommand[] = [];
    for (i++; i < lines.length && (lines[i] ?? '').trim() !== '```'; i++) {
      const first = i + 1;
      let typed = lines[i] ?? '';
      if (typed.trim() === '' || typed.trim().startsWith('#')) continue;
      while ((typed.endsWith('\\') || scan(typed).quoted) && i + 1 < lines.length) {
        i++;
        typed += `\n${lines[i] ?? ''}`;
      }
      commands.push(command(first, typed));
    }
    if (i >= lines.length) throw new Error(`README.md:${start}: the sh block is not closed`);
    blocks.push({ line: start, ...(skip ? { skip } : {}), commands });
  }
  return blocks;
}

/** `text` occurs in `output`, not as part of a longer word or number. */
function says(output: string, text: string): boolean {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const before = /^[A-Za-z0-9]/.test(text) ? '(?<![A-Za-z0-9])' : '';
  const after = /[A-Za-z0-9]$/.test(text) ? '(?![A-Za-z0-9])' : '';
  return new RegExp(`${before}${escaped}${after}`).test(output);
}

describe('reading the README', () => {
  const sample = [
    'Text.',
    '',
    '```sh',
    '# a comment line',
    "ims route add '#partner.example' mail.partner.example:2525   # the # in quotes stays",
    `jq -n '{a: 1,`,
    `  b: "#2"}'   # → "b"`,
    'curl -s -X PUT \\',
    '     -d @x.json $URL   # → exit 22: 412',
    'swaks --to v@e.example   # → 550 5.7.1 Relaying is prohibited',
    'ims restart --wait # 412 → exit 4 (prose)',
    '```',
    '<!-- doc-test: skip — runs forever; e2e/launcher.test.ts -->',
    '',
    '```sh',
    'npm start',
    '```',
    '```ts',
    'not(shell)',
    '```',
  ].join('\n');

  it('splits sh blocks into commands with their expectations and skip marks', () => {
    expect(shBlocks(sample)).toEqual([
      {
        line: 3,
        commands: [
          { line: 5, text: "ims route add '#partner.example' mail.partner.example:2525", exit: 0 },
          { line: 6, text: `jq -n '{a: 1,\n  b: "#2"}'`, exit: 0, output: '"b"' },
          { line: 8, text: 'curl -s -X PUT \\\n     -d @x.json $URL', exit: 22, output: '412' },
          {
            line: 10,
            text: 'swaks --to v@e.example',
            exit: 0,
            output: '550 5.7.1 Relaying is prohibited',
          },
          { line: 11, text: 'ims restart --wait', exit: 0 },
        ],
      },
      {
        line: 15,
        skip: 'runs forever; e2e/launcher.test.ts',
        commands: [{ line: 16, text: 'npm start', exit: 0 }],
      },
    ]);
    expect(() => shBlocks('```sh\nls\n')).toThrow(/not closed/);
    expect(() => shBlocks('```sh\nls # →\n```')).toThrow(/says nothing/);
  });

  it('matches expected output as a whole word or number', () => {
    expect(says('{"status":412,"title":"Precondition Failed"}', '412')).toBe(true);
    expect(says('{"savedAt":"2026-11-29T21:40:00.4123Z"}', '412')).toBe(false);
    expect(says('<** 550 5.7.1 Relaying is prohibited', '550 5.7.1 Relaying is prohibited')).toBe(
      true,
    );
  });
});

const README = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = shBlocks(README);

describe('README.md', () => {
  let stack: Stack | undefined;
  let work = '';
  /** Kills the bash running the README and whatever its commands started (its process group). */
  let killGroup = () => {};

  beforeAll(async () => {
    // Neither bash nor the console and node the stack starts see the caller's settings.
    for (const key of Object.keys(process.env)) {
      if (key.startsWith('IMS_')) vi.stubEnv(key, undefined);
    }
    work = mkdtempSync(join(tmpdir(), 'ims-readme-'));
    stack = await Stack.start();
  });

  afterAll(async () => {
    killGroup();
    await stack?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    vi.unstubAllEnvs();
  });

  it('has sh blocks, and each skipped one names the test that runs its commands', () => {
    expect(blocks.filter((b) => !b.skip).length).toBeGreaterThan(5);
    for (const b of blocks) {
      expect(b.commands.length, `README.md:${b.line}: an empty sh block`).toBeGreaterThan(0);
      if (!b.skip) continue;
      const named = b.skip.match(/\b(e2e|apps|packages)\/[\w./-]+\.test\.ts\b/g) ?? [];
      expect(named.length, `README.md:${b.line}: the skip names no test`).toBeGreaterThan(0);
      for (const file of named) expect(existsSync(join(root, file)), `${file} exists`).toBe(true);
    }
  });

  it('runs every command of every sh block as typed', { timeout: 480_000 }, async () => {
    if (!stack) throw new Error('no stack');
    const bin = join(work, 'bin');
    const home = join(work, 'home');
    const cwd = join(work, 'cwd');
    const results = join(work, 'results');
    for (const d of [bin, home, cwd, results]) mkdirSync(d);
    symlinkSync(join(root, 'apps/cli/bin/ims.mjs'), join(bin, 'ims'));

    const commands = blocks.filter((b) => !b.skip).flatMap((b) => b.commands);
    const local = (text: string) =>
      text
        .replaceAll('http://127.0.0.1:8080', stack?.url ?? '')
        .replaceAll('127.0.0.1:2525', `127.0.0.1:${stack?.smtpPort}`);
    const script = [
      'set -o pipefail',
      ...commands.map((c, k) =>
        [
          `# README.md:${c.line}`,
          '{',
          local(c.text),
          `} >'${results}/${k}.out' 2>&1 </dev/null`,
          `__doc_rc=$?; echo "$__doc_rc" >'${results}/${k}.rc'`,
          `[ "$__doc_rc" = ${c.exit} ] || exit 1`,
        ].join('\n'),
      ),
      '',
    ].join('\n');
    writeFileSync(join(work, 'readme.sh'), script);

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !k.startsWith('IMS_')) env[k] = v;
    }
    Object.assign(env, {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      PW: stack.adminPassword,
    });

    // Its own process group, so that whatever a command left behind goes with it.
    const bash = spawn('bash', [join(work, 'readme.sh')], {
      cwd,
      env,
      detached: true,
      stdio: 'ignore',
    });
    killGroup = () => {
      try {
        if (bash.pid) process.kill(-bash.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    // About 45 s on a quiet two-core machine, minutes on a busy one (most of
    // it is the start of each `ims` process); this is only the limit for a
    // command that hangs.
    const limit = 420_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, limit);
    try {
      await new Promise<void>((done) => bash.once('exit', () => done()));
    } finally {
      clearTimeout(timer);
      killGroup();
    }

    const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
    for (const [k, c] of commands.entries()) {
      const rc = read(join(results, `${k}.rc`));
      const out = read(join(results, `${k}.out`)) ?? '';
      const where = `README.md:${c.line}: ${c.text}\n--- output:\n${out}\n--- the node's log (end):\n${stack.nodeOutput().slice(-3000)}`;
      if (rc === undefined) {
        throw new Error(
          `${where}\n--- ${timedOut ? `still running after ${limit / 1000} s` : 'did not finish'}`,
        );
      }
      expect(Number(rc), `exit status of ${where}`).toBe(c.exit);
      if (c.output)
        expect(says(out, c.output), `"${c.output}" in the output of ${where}`).toBe(true);
    }
  });
});
