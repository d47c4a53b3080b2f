/**
 * The console's settings, read from the environment once, here and nowhere
 * else, with a schema. A bad value stops the start with one error that lists
 * every bad variable.
 */

import {
  AddressList,
  Flag,
  flagOn,
  listItems,
  Port,
  parseSettings,
  TrustProxy,
  trustProxyValue,
} from '@ims/settings';
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
  /** How long the canary of a rolling restart runs the new version before the next node is signalled. */
  IMS_ROLLOUT_SETTLE_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 5000,
    description: 'milliseconds (0-3600000)',
  }),
  /** How long a node has to run a new version before a rolling restart halts. */
  IMS_ROLLOUT_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    maximum: 3_600_000,
    default: 60_000,
    description: 'milliseconds (1000-3600000)',
  }),
  /** /metrics answers only with a read (or write) token or a session (default: open, as on loopback). */
  IMS_METRICS_TOKEN_REQUIRED: Flag(false),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info', description: `one of ${LOG_LEVELS.join(', ')}` },
  ),
  IMS_ALLOWED_HOSTS: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9.:\\[\\]*, _-]*$',
      description: 'a comma list of host names (name, name:port, .domain, or * for any)',
    }),
  ),
  IMS_TRUST_PROXY: TrustProxy(),
  IMS_HTTP_TLS_CERT: Type.Optional(Type.String({ description: 'a PEM certificate file' })),
  IMS_HTTP_TLS_KEY: Type.Optional(Type.String({ description: 'a PEM key file' })),
});

/** Problems the schema cannot state: variables that go together. */
function consoleChecks(s: {
  IMS_HTTP_TLS_CERT?: string | undefined;
  IMS_HTTP_TLS_KEY?: string | undefined;
}): string[] {
  return Boolean(s.IMS_HTTP_TLS_CERT) === Boolean(s.IMS_HTTP_TLS_KEY)
    ? []
    : ['IMS_HTTP_TLS_CERT and IMS_HTTP_TLS_KEY go together: set both or neither'];
}

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
  /** IMS_ALLOWED_HOSTS: names besides the bind address, localhost, 127.0.0.1 and [::1]. */
  allowedHosts: string[];
  /** IMS_TRUST_PROXY, as Fastify's trustProxy. */
  trustProxy: boolean | number | string[];
  /** IMS_HTTP_TLS_CERT / IMS_HTTP_TLS_KEY: PEM files; both set, the console speaks HTTPS. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** IMS_ROLLOUT_SETTLE_MS: the canary's settle time in a rolling restart. */
  rolloutSettleMs: number;
  /** IMS_ROLLOUT_TIMEOUT_MS: how long a node has to run a new version in a rolling restart. */
  rolloutTimeoutMs: number;
  /** IMS_METRICS_TOKEN_REQUIRED: /metrics needs a bearer token (or a session). */
  metricsTokenRequired: boolean;
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
    allowedHosts: listItems(s.IMS_ALLOWED_HOSTS ?? ''),
    trustProxy: trustProxyValue(s.IMS_TRUST_PROXY),
    tls:
      s.IMS_HTTP_TLS_CERT && s.IMS_HTTP_TLS_KEY
        ? { certFile: s.IMS_HTTP_TLS_CERT, keyFile: s.IMS_HTTP_TLS_KEY }
        : undefined,
    rolloutSettleMs: s.IMS_ROLLOUT_SETTLE_MS,
    rolloutTimeoutMs: s.IMS_ROLLOUT_TIMEOUT_MS,
    metricsTokenRequired: flagOn(s.IMS_METRICS_TOKEN_REQUIRED),
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
  return consoleEnv(parseSettings(ConsoleSettings, env, consoleChecks));
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
  const s = parseSettings(both, env, consoleChecks);
  return { console: consoleEnv(s), localNode: localNodeEnv(s) };
}
