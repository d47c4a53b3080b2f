/**
 * The SMTP node's settings, read from the environment once, here and nowhere
 * else, with a schema. A bad value stops the start with one error that lists
 * every bad variable.
 */

import { AddressList, listItems, Port, parseSettings } from '@ims/settings';
import { Type } from 'typebox';
import { Format } from 'typebox/format';
import { insecureConsoleProblem } from '../console-transport';
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
  IMS_ALLOW_INSECURE_CONSOLE: Type.Union([Type.Literal('0'), Type.Literal('1')], {
    default: '0',
    description: '1 (plain HTTP to a console on another host is accepted) or 0',
  }),
  IMS_CONSOLE_CA: Type.Optional(
    Type.String({
      description: 'a PEM file of the CA (or the self-signed certificate) of the console',
    }),
  ),
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
  IMS_SMTP_LOG_LEVEL: Type.Optional(
    Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { description: `one of ${LOG_LEVELS.join(', ')}` },
    ),
  ),
});

export interface NodeEnv {
  consoleUrl: string;
  /** IMS_CONSOLE_CA: a PEM file trusted for the console's certificate, besides the system's CAs. */
  consoleCaFile: string | undefined;
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
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): NodeEnv {
  const s = parseSettings(NodeSettings, env, (s) => [
    ...(Boolean(s.IMS_SMTP_TLS_CERT) === Boolean(s.IMS_SMTP_TLS_KEY)
      ? []
      : ['IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither']),
    ...[
      insecureConsoleProblem(s.IMS_CONSOLE_URL ?? '', s.IMS_ALLOW_INSECURE_CONSOLE === '1'),
    ].filter((p): p is string => p !== undefined),
  ]);
  return {
    consoleUrl: s.IMS_CONSOLE_URL.replace(/\/+$/, ''),
    consoleCaFile: s.IMS_CONSOLE_CA,
    nodeToken: s.IMS_NODE_TOKEN,
    listen: listItems(s.IMS_SMTP_LISTEN),
    port: s.IMS_SMTP_PORT,
    dataDir: s.IMS_DATA_DIR ? `${s.IMS_DATA_DIR}/smtp` : './data/smtp',
    smartHost: s.IMS_SMART_HOST ? parseHostPort(s.IMS_SMART_HOST) : undefined,
    tlsCertFile: s.IMS_SMTP_TLS_CERT,
    tlsKeyFile: s.IMS_SMTP_TLS_KEY,
    logLevel: s.IMS_SMTP_LOG_LEVEL ?? 'info',
  };
}
