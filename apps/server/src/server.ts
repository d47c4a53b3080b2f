/** The only file that listens: reads the environment, starts the console, shuts down cleanly. */

import closeWithGrace from 'close-with-grace';
import { buildApp } from './app';
import { readEnv } from './config/env';

const env = readEnv();
const app = await buildApp({
  dataDir: env.dataDir,
  siteDomain: env.siteDomain,
  adminPassword: env.adminPassword,
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  onAdminCreated: (password, generated) => {
    if (generated) {
      process.stdout.write(
        `\nFirst start: the console's "admin" password is\n\n    ${password}\n\nIt is shown only this once.\n\n`,
      );
    }
  },
});

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  await app.close();
});

await app.listen({ host: env.httpHost, port: env.httpPort });
process.stdout.write(
  `IMS Routing Console: http://${env.httpHost}:${env.httpPort}/  (API docs at /docs)\n`,
);
