/**
 * The SMTP node's settings, read from the environment once, here and nowhere
 * else, with a schema. A bad value stops the start with one error that lists
 * every bad variable.
 */

import { availableParallelism } from 'node:os';
import { AddressList, listItems, Port, parseSettings } from '@ims/settings';
import { Type } from 'typebox';
import { Format } from 'typebox/format';
import { parseHostPort, type Target } from '../outbound';

const HOST_PORT = 'ims-host-port';
Format.Set(HOST_PORT, (text) => parseHostPort(text) !== undefined);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const NodeSettings = Type.Object({
  IMS_CONSOLE_URL: Type.String({
    pattern: '^https?://',
    description: 'the console URL, e.g. http://127.0.0.1:8080',
  }),
  IMS_NODE_TOKEN: Type.String({
    minLength: 1,
    writeOnly: true,
    description: 'the token from POST /api/v1/nodes',
  }),
  IMS_SMTP_PORT: Port(2525),
  IMS_SMTP_LISTEN: AddressList('127.0.0.1'),
  IMS_DATA_DIR: Type.Optional(Type.String({ description: 'a directory' })),
  IMS_SMART_HOST: Type.Optional(
    Type.String({ format: HOST_PORT, description: 'host:port (or [IPv6]:port)' }),
  ),
  IMS_SMTP_TLS_CERT: Type.Optional(Type.String({ description: 'a PEM certificate file' })),
  IMS_SMTP_TLS_KEY: Type.Optional(Type.String({ description: 'a PEM key file' })),
  IMS_SMTP_WORKERS: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 256,
      description: 'a number of SMTP worker processes (1-256; default: the available cores)',
    }),
  ),
  IMS_SMTP_LOG_LEVEL: Type.Optional(
    Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { description: `one of ${LOG_LEVELS.join(', ')}` },
    ),
  ),
});

export interface NodeEnv {
  consoleUrl: string;
  nodeToken: string;
  listen: string[];
  port: number;
  dataDir: string;
  smartHost: Target | undefined;
  /** STARTTLS certificate and key files (PEM), both or neither. */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /**
   * Lowest log level written (IMS_SMTP_LOG_LEVEL, default info). Not the
   * console's LOG_LEVEL: quieting the console must not drop the node's
   * per-recipient decision log.
   */
  logLevel: LogLevel;
  /**
   * SMTP worker processes sharing the listening sockets (IMS_SMTP_WORKERS,
   * default os.availableParallelism()); 1 runs the node in one process.
   */
  workers: number;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): NodeEnv {
  const s = parseSettings(NodeSettings, env, (s) =>
    Boolean(s.IMS_SMTP_TLS_CERT) === Boolean(s.IMS_SMTP_TLS_KEY)
      ? []
      : ['IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither'],
  );
  return {
    consoleUrl: s.IMS_CONSOLE_URL.replace(/\/+$/, ''),
    nodeToken: s.IMS_NODE_TOKEN,
    listen: listItems(s.IMS_SMTP_LISTEN),
    port: s.IMS_SMTP_PORT,
    dataDir: s.IMS_DATA_DIR ? `${s.IMS_DATA_DIR}/smtp` : './data/smtp',
    smartHost: s.IMS_SMART_HOST ? parseHostPort(s.IMS_SMART_HOST) : undefined,
    tlsCertFile: s.IMS_SMTP_TLS_CERT,
    tlsKeyFile: s.IMS_SMTP_TLS_KEY,
    logLevel: s.IMS_SMTP_LOG_LEVEL ?? 'info',
    workers: s.IMS_SMTP_WORKERS ?? availableParallelism(),
  };
}
