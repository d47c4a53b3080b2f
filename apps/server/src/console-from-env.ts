/** The console as the process edges (server.ts, launcher.ts) build it from the environment. */

import { readFileSync } from 'node:fs';
import { buildApp } from './app';
import type { ServerEnv } from './config/env';
import { prettyStream } from './logging';

export function buildConsole(env: ServerEnv, dataDir: string = env.dataDir) {
  return buildApp({
    dataDir,
    siteDomain: env.siteDomain,
    adminPassword: env.adminPassword,
    bindHost: env.httpHost,
    allowedHosts: env.allowedHosts,
    trustProxy: env.trustProxy,
    tls: env.tls && { cert: readFileSync(env.tls.certFile), key: readFileSync(env.tls.keyFile) },
    rolloutSettleMs: env.rolloutSettleMs,
    rolloutTimeoutMs: env.rolloutTimeoutMs,
    metricsTokenRequired: env.metricsTokenRequired,
    // Readable lines on a terminal, JSON otherwise.
    logger: { level: env.logLevel, stream: prettyStream(process.stdout.isTTY === true) },
    onAdminCreated: (password, generated) => {
      if (generated) {
        process.stdout.write(
          `\nFirst start: the console's "admin" password is\n\n    ${password}\n\nIt is shown only this once.\n\n`,
        );
      }
    },
  });
}

/** The console's own URL scheme. */
export function schemeOf(env: ServerEnv): 'http' | 'https' {
  return env.tls ? 'https' : 'http';
}
