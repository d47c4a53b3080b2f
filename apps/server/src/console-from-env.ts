/** The console as the process edges (server.ts, launcher.ts) build it from the environment. */

import { buildApp } from './app';
import type { ServerEnv } from './config/env';

export function buildConsole(env: ServerEnv, dataDir: string = env.dataDir) {
  return buildApp({
    dataDir,
    siteDomain: env.siteDomain,
    adminPassword: env.adminPassword,
    logger: { level: env.logLevel },
    onAdminCreated: (password, generated) => {
      if (generated) {
        process.stdout.write(
          `\nFirst start: the console's "admin" password is\n\n    ${password}\n\nIt is shown only this once.\n\n`,
        );
      }
    },
  });
}
