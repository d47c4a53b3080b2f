/**
 * The console's settings, read from the environment once, here and nowhere
 * else, with a schema. A bad value stops the start with one error that lists
 * every bad variable.
 */

import { AddressList, listItems, Port, parseSettings } from '@ims/settings';
import { type Static, Type } from 'typebox';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const ConsoleSettings = Type.Object({
  IMS_HTTP_HOST: Type.String({ default: '127.0.0.1', description: 'the address to listen on' }),
  IMS_HTTP_PORT: Port(8080),
  IMS_DATA_DIR: Type.String({ default: './data', description: 'a directory' }),
  IMS_SITE_DOMAIN: Type.String({ default: 'example.com', description: 'a domain name' }),
  /** Bootstraps the `admin` account on first start; a random one is printed when unset. */
  IMS_ADMIN_PASSWORD: Type.Optional(
    Type.String({ minLength: 8, writeOnly: true, description: 'at least 8 characters long' }),
  ),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info', description: `one of ${LOG_LEVELS.join(', ')}` },
  ),
});

/** What the embedded start hands to its local SMTP node (docs/design.md §4). */
const LocalNodeSettings = Type.Object({
  IMS_SMTP_PORT: Port(2525),
  IMS_SMTP_LISTEN: AddressList('127.0.0.1'),
  IMS_SMART_HOST: Type.Optional(Type.String({ description: 'host:port' })),
  /** Which engine the local node runs (issue 12): the product's own SMTP node, or a private Postfix. */
  IMS_SMTP_ENGINE: Type.Union([Type.Literal('ims'), Type.Literal('postfix')], {
    default: 'ims',
    description: 'ims or postfix',
  }),
});

export interface ServerEnv {
  httpHost: string;
  httpPort: number;
  dataDir: string;
  siteDomain: string;
  /** Bootstraps the `admin` account on first start; a random one is printed when unset. */
  adminPassword: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
}

export interface LocalNodeEnv {
  /** IMS_SMTP_LISTEN: a comma list of addresses (default 127.0.0.1). */
  smtpListen: string;
  smtpPort: number;
  smartHost: string | undefined;
  /** IMS_SMTP_ENGINE: apps/smtp (ims, the default) or apps/postfix-node driving a private Postfix. */
  engine: 'ims' | 'postfix';
}

function consoleEnv(s: Static<typeof ConsoleSettings>): ServerEnv {
  return {
    httpHost: s.IMS_HTTP_HOST,
    httpPort: s.IMS_HTTP_PORT,
    dataDir: s.IMS_DATA_DIR,
    siteDomain: s.IMS_SITE_DOMAIN,
    adminPassword: s.IMS_ADMIN_PASSWORD,
    logLevel: s.LOG_LEVEL,
  };
}

function localNodeEnv(s: Static<typeof LocalNodeSettings>): LocalNodeEnv {
  return {
    smtpListen: listItems(s.IMS_SMTP_LISTEN).join(','),
    smtpPort: s.IMS_SMTP_PORT,
    smartHost: s.IMS_SMART_HOST,
    engine: s.IMS_SMTP_ENGINE,
  };
}

/** The console alone (server.ts). */
export function readEnv(env: NodeJS.ProcessEnv = process.env): ServerEnv {
  return consoleEnv(parseSettings(ConsoleSettings, env));
}

/**
 * The embedded start (launcher.ts): the console's settings and, unless it
 * runs without one, its local node's, checked together (one error for both).
 */
export function readLauncherEnv(
  withLocalNode: boolean,
  env: NodeJS.ProcessEnv = process.env,
): { console: ServerEnv; localNode: LocalNodeEnv | undefined } {
  if (!withLocalNode) return { console: readEnv(env), localNode: undefined };
  const both = Type.Object({ ...ConsoleSettings.properties, ...LocalNodeSettings.properties });
  const s = parseSettings(both, env);
  return { console: consoleEnv(s), localNode: localNodeEnv(s) };
}
