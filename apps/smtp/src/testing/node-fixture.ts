/**
 * Fixtures for tests of a real SMTP node on loopback: a bundle with a small
 * directory, a node on a temporary data dir, and a greeted raw session. Each
 * cleans up after the test (vitest's onTestFinished).
 */

import { scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import { expect, onTestFinished } from 'vitest';
import type { Bundle } from '../generation';
import { createLogger, type Logger } from '../log';
import { SmtpNode, type SmtpNodeOptions } from '../smtp-node';
import { RawSmtp } from './smtp-client';

/** scrypt$N$r$p$salt$hash, with N=1024 (fast for tests; the console uses 2^15). */
export function hash(password: string): string {
  const salt = Buffer.from('0123456789abcdef');
  const key = scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 });
  return `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** alice@example.com (alice-password) and postmaster@example.com (pm-password). */
export function bundle(
  version: number,
  config: RoutingConfig = defaultConfig('example.com'),
): Bundle {
  return {
    version,
    config,
    directory: [
      { address: 'alice@example.com', passwordHash: hash('alice-password') },
      { address: 'postmaster@example.com', passwordHash: hash('pm-password') },
    ],
  };
}

/**
 * A node log kept in memory, through pino with the node's redaction: the
 * lines as written, and each parsed.
 */
export function memoryLogger(): {
  logger: Logger;
  lines: string[];
  entries: Record<string, unknown>[];
} {
  const lines: string[] = [];
  const entries: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'trace',
    destination: {
      write(line: string) {
        lines.push(line);
        entries.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, entries };
}

export async function startNode(
  b: Bundle = bundle(1),
  listen = ['127.0.0.1'],
  extra: Partial<SmtpNodeOptions> = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ims-smtp-'));
  const { logger, entries: log } = memoryLogger();
  const node = new SmtpNode({
    listen,
    port: 0,
    dataDir,
    hostname: 'mx.example.com',
    drainTimeoutMs: 500,
    logger,
    ...extra,
  });
  await node.start(b);
  onTestFinished(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const port = Number(node.listening[0]?.split(':').at(-1));
  return { node, port, dataDir, log };
}

/** A raw session that has read the 220 greeting. */
export async function session(port: number, localAddress?: string, host = '127.0.0.1') {
  const c = await RawSmtp.open(port, host, localAddress);
  onTestFinished(() => c.close());
  expect(await c.reply()).toMatch(/^220 mx\.example\.com/);
  return c;
}

/** The AUTH PLAIN initial response for a user and password. */
export const plain = (user: string, pass: string) =>
  Buffer.from(`\0${user}\0${pass}`).toString('base64');
