/** The only file that listens: reads the environment, starts the console, shuts down cleanly. */

import { orExit } from '@ims/settings';
import closeWithGrace from 'close-with-grace';
import { readEnv } from './config/env';
import { buildConsole, schemeOf } from './console-from-env';

const env = orExit(readEnv);
const app = await buildConsole(env);

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  await app.close();
});

await app.listen({ host: env.httpHost, port: env.httpPort });
process.stdout.write(
  `IMS Routing Console: ${schemeOf(env)}://${env.httpHost}:${env.httpPort}/  (API docs at /docs)\n`,
);
