import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, tempDir } from '@ims/test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogger, eventLog, flatLineLogger } from './log';

function capture(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (l: string) => lines.push(l) } });
  return {
    logger,
    lines,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('the node log', () => {
  it('writes one JSON object a line, with a level, a time and the event fields in order', () => {
    const { logger, lines, entries } = capture();
    logger.info({ event: 'restarted', version: 3, previous: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\n$/);
    expect(lines[0]).toContain('"event":"restarted","version":3');
    expect(entries()[0]).toMatchObject({ level: 30, event: 'restarted', version: 3, previous: 2 });
    expect(typeof entries()[0]?.time).toBe('number');
  });

  it('keeps levels: debug is dropped at info, errors are level 50', () => {
    const { logger, entries } = capture('info');
    logger.debug({ event: 'noise' });
    logger.error({ event: 'store-failed' });
    expect(entries().map((e) => [e.event, e.level])).toEqual([['store-failed', 50]]);
  });

  it('redacts passwords, tokens, hashes and AUTH payloads, at the top and one level down', () => {
    const { logger, lines } = capture();
    logger.info({
      event: 'x',
      password: 'secret-1',
      token: 'secret-2',
      auth: { username: 'alice', password: 'secret-3' },
      credentials: { password: 'secret-4', token: 'secret-5', passwordHash: 'scrypt$secret-6' },
      directory: [{ address: 'alice@example.com', passwordHash: 'scrypt$secret-7' }],
    });
    const line = lines.join('');
    for (let i = 1; i <= 7; i++) expect(line).not.toContain(`secret-${i}`);
    expect(line).toContain('[redacted]');
    expect(line).toContain('alice@example.com');
  });

  it('a flat line (the RCPT decision) redacts the same names at its top, and keeps every other field', () => {
    const { logger, lines, entries } = capture();
    const flat = flatLineLogger(logger);
    flat.info({
      event: 'rcpt',
      user: 'alice',
      password: 'secret-1',
      token: 'secret-2',
      auth: 'secret-3',
      passwordHash: 'secret-4',
      authorization: 'secret-5',
    });
    const line = lines.join('');
    for (let i = 1; i <= 5; i++) expect(line).not.toContain(`secret-${i}`);
    expect(entries()[0]).toMatchObject({
      level: 30,
      event: 'rcpt',
      user: 'alice',
      password: '[redacted]',
    });
    // The parent's redaction is unchanged by the child.
    logger.info({ event: 'x', credentials: { password: 'secret-6' } });
    expect(lines.join('')).not.toContain('secret-6');
  });

  it('eventLog sends each event at its level (info unless it is a failure)', () => {
    const { logger, entries } = capture();
    const log = eventLog(logger);
    log({ event: 'reloaded', version: 2 });
    log({ event: 'restart-failed', error: 'bad bundle' });
    log({ event: 'console-unreachable' });
    expect(entries().map((e) => [e.event, e.level])).toEqual([
      ['reloaded', 30],
      ['restart-failed', 50],
      ['console-unreachable', 40],
    ]);
  });

  it('writes each line before the logging call returns: the last line before a kill -9 is in the log', async () => {
    const dir = tempDir('ims-log-');
    onTestFinished(dir.remove);
    const script = join(dir.path, 'crash.ts');
    // The thread pool's one thread is kept busy, so a line handed to it (pino's
    // default, an asynchronous write) would still be waiting when the process dies.
    writeFileSync(
      script,
      [
        "import { pbkdf2 } from 'node:crypto';",
        `import { createLogger } from ${JSON.stringify(new URL('./log.ts', import.meta.url).href)};`,
        "pbkdf2('x', 'y', 5_000_000, 64, 'sha512', () => {});",
        "createLogger().info({ event: 'rcpt', rcptTo: 'last@example.com' });",
        "process.kill(process.pid, 'SIGKILL');",
      ].join('\n'),
    );
    // From this package's folder, where tsx resolves; IMS_* variables cleared (childEnv).
    const child = start(import.meta.dirname, script, { UV_THREADPOOL_SIZE: '1' });
    onTestFinished(child.stop);
    const signal = await new Promise((resolve) =>
      child.proc.once('close', (_, sig) => resolve(sig)),
    );
    const text = child.output();
    expect(signal, `the child was to die of SIGKILL: ${text}`).toBe('SIGKILL');
    expect(text, 'the log').toContain('last@example.com');
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([expect.objectContaining({ event: 'rcpt', rcptTo: 'last@example.com' })]);
  });
});
