/**
 * The embedded start (`npm start`): the console, plus one local SMTP node
 * that the console registers itself, runs as a child process and supervises
 * (restarted with backoff when it crashes; a crash loop shows in
 * GET /api/v1/service). `--no-local-node` starts the console alone. SIGINT or
 * SIGTERM stops the node first, then the console.
 *
 * `server.ts` remains the console on its own (tests, a console whose nodes
 * all run elsewhere); this file is the product's start command.
 */

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { orExit } from '@ims/settings';
import closeWithGrace from 'close-with-grace';
import { readLauncherEnv } from './config/env';
import { buildConsole, schemeOf } from './console-from-env';
import { DataDirLockedError, lockDataDir } from './data-dir-lock';
import { ensureLocalNode, pidPath, reportLocalNodeExit } from './local-node/local-node';
import { localNodeEnv } from './local-node/node-env';
import { ensurePostfix } from './local-node/postfix';
import { Supervisor } from './local-node/supervisor';
import { relayPretty } from './logging';

/** The SMTP node's entry point: started by path, never imported (STYLE.md §4 rule 5). */
const SMTP_DIR = resolve(import.meta.dirname, '../../smtp');
/** True in the JavaScript `npm start` builds (scripts/build.mjs); then the node runs built too. */
declare const IMS_BUILT: boolean | undefined;
const SMTP_ARGS =
  typeof IMS_BUILT !== 'undefined' && IMS_BUILT
    ? ['build/main.js']
    : ['--import', 'tsx', 'src/main.ts'];
/** The Postfix agent's (IMS_SMTP_ENGINE=postfix), likewise. */
const POSTFIX_NODE_DIR = resolve(import.meta.dirname, '../../postfix-node');

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { 'no-local-node': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  strict: true,
});
if (values.help) {
  process.stdout.write(
    'Usage: npm start [-- --no-local-node]\n\nStarts the console and one supervised local SMTP node (IMS_SMTP_LISTEN, IMS_SMTP_PORT).\n--no-local-node starts the console alone; attach nodes running elsewhere with POST /api/v1/nodes (or ims node register).\n',
  );
  process.exit(0);
}
const { console: env, localNode: nodeEnv } = orExit(() =>
  readLauncherEnv(!values['no-local-node']),
);
const dataDir = resolve(env.dataDir);

// One launcher per data directory: a second one refuses before it opens the database.
let lock: ReturnType<typeof lockDataDir>;
try {
  lock = lockDataDir(dataDir);
} catch (err) {
  if (!(err instanceof DataDirLockedError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
process.once('exit', () => lock.release());

const app = await buildConsole(env, dataDir);

// A pid file left by a launcher that was killed outright: its node has
// stopped by itself (it watches its IPC channel), so the file is stale.
try {
  const stale = Number(readFileSync(pidPath(dataDir), 'utf8'));
  let alive = false;
  try {
    process.kill(stale, 0);
    alive = true;
  } catch {
    // no such process
  }
  if (alive) app.log.warn({ pid: stale }, 'a local SMTP node from an earlier start still runs');
  else rmSync(pidPath(dataDir), { force: true });
} catch {
  // no pid file
}

let supervisor: Supervisor | undefined;
/** Only the launcher that wrote the pid file removes it. */
let wrotePid = false;
closeWithGrace({ delay: 20_000 }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  else app.log.info({ signal }, 'shutting down');
  await supervisor?.stop();
  if (wrotePid) rmSync(pidPath(dataDir), { force: true });
  await app.close();
  lock.release();
});

await app.listen({ host: env.httpHost, port: env.httpPort });
const address = app.server.address() as { address: string; port: number; family: string };
const consoleHost =
  env.httpHost === '0.0.0.0'
    ? '127.0.0.1'
    : env.httpHost === '::'
      ? '[::1]'
      : env.httpHost.includes(':')
        ? `[${env.httpHost}]`
        : env.httpHost;
const consoleUrl = `${schemeOf(env)}://${consoleHost}:${address.port}`;
process.stdout.write(`IMS Routing Console: ${consoleUrl}/  (API docs at /docs)\n`);

if (nodeEnv?.engine === 'postfix') ensurePostfix((line) => process.stdout.write(`${line}\n`));

if (nodeEnv) {
  const node = ensureLocalNode(app, dataDir);
  // On a terminal the node's JSON lines are made readable like the console's;
  // otherwise they pass through as they are.
  const pretty = process.stdout.isTTY === true;
  supervisor = new Supervisor({
    command: process.execPath,
    args: nodeEnv.engine === 'postfix' ? ['--import', 'tsx', 'src/main.ts'] : SMTP_ARGS,
    cwd: nodeEnv.engine === 'postfix' ? POSTFIX_NODE_DIR : SMTP_DIR,
    // An allow list: IMS_ADMIN_PASSWORD and the console's other settings stay here.
    env: localNodeEnv(process.env, {
      IMS_CONSOLE_URL: consoleUrl,
      // A console on HTTPS: its node trusts the console's certificate
      // (console-transport.ts). On plain HTTP the URL is this machine's own
      // address (IMS_HTTP_HOST), which the node cannot tell from another
      // host's: the token stays on this machine, so the node is told so.
      ...(env.tls ? { IMS_CONSOLE_CA: env.tls.certFile } : { IMS_ALLOW_INSECURE_CONSOLE: '1' }),
      IMS_NODE_TOKEN: node.token,
      IMS_DATA_DIR: dataDir,
      IMS_SMTP_LISTEN: nodeEnv.smtpListen,
      IMS_SMTP_PORT: String(nodeEnv.smtpPort),
      IMS_SMART_HOST: nodeEnv.smartHost,
    }),
    stdio: pretty ? 'pipe' : 'inherit',
    onStart: (pid) => {
      const child = supervisor?.process;
      if (pretty && child?.stdout && child.stderr) {
        relayPretty(child.stdout, process.stdout);
        relayPretty(child.stderr, process.stderr);
      }
      writeFileSync(pidPath(dataDir), `${pid}\n`);
      wrotePid = true;
      app.log.info({ pid, node: node.name }, 'local SMTP node started');
    },
    onExit: (exit) => reportLocalNodeExit(app, node, exit),
  });
  supervisor.start();
  process.stdout.write(
    `Local SMTP node "${node.name}": ${nodeEnv.smtpListen
      .split(',')
      .map((a) => (a.includes(':') ? `[${a}]` : a))
      .map((a) => `${a}:${nodeEnv.smtpPort}`)
      .join(
        ', ',
      )} (${nodeEnv.engine === 'postfix' ? 'a private Postfix instance, ' : ''}supervised; its data under ${dataDir}/${nodeEnv.engine === 'postfix' ? 'postfix' : 'smtp'})\n`,
  );
} else {
  process.stdout.write(
    'No local SMTP node (--no-local-node): register nodes with POST /api/v1/nodes or `ims node register`.\n',
  );
}
