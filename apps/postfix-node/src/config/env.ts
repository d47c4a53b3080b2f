/**
 * The Postfix node agent's settings, read from the environment once, here and
 * nowhere else, with a schema. They are the SMTP node's (apps/smtp), so the
 * launcher starts either engine with the same variables; a bad value stops the
 * start with one error that lists every bad variable.
 */

import { hostname } from 'node:os';
import { AddressList, listItems, Port, parseSettings } from '@ims/settings';
import { Type } from 'typebox';
import { Format } from 'typebox/format';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `host:port` or `[IPv6]:port` (port 1-65535; 25 when left out) → its parts. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const t = text.trim();
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(t) ?? /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(t);
  if (!m?.[1]) return undefined;
  const port = m[2] === undefined ? 25 : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}

const HOST_PORT = 'ims-postfix-host-port';
Format.Set(HOST_PORT, (text) => parseHostPort(text) !== undefined);

const AgentSettings = Type.Object({
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
  IMS_SMTP_LOG_LEVEL: Type.Optional(
    Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { description: `one of ${LOG_LEVELS.join(', ')}` },
    ),
  ),
  IMS_POSTFIX_HOSTNAME: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$',
      description: "a host name (Postfix's myhostname)",
    }),
  ),
});

export interface AgentEnv {
  consoleUrl: string;
  nodeToken: string;
  listen: string[];
  port: number;
  /** The instance's own directory (config, queue, data, mail): IMS_DATA_DIR/postfix. */
  dataDir: string;
  /** IMS_SMART_HOST as Postfix writes it: `host:port`, `[IPv6]:port`. */
  smartHost: string | undefined;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  logLevel: LogLevel;
  myhostname: string;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const s = parseSettings(AgentSettings, env, (s) =>
    Boolean(s.IMS_SMTP_TLS_CERT) === Boolean(s.IMS_SMTP_TLS_KEY)
      ? []
      : ['IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither'],
  );
  const smart = s.IMS_SMART_HOST ? parseHostPort(s.IMS_SMART_HOST) : undefined;
  return {
    consoleUrl: s.IMS_CONSOLE_URL.replace(/\/+$/, ''),
    nodeToken: s.IMS_NODE_TOKEN,
    listen: listItems(s.IMS_SMTP_LISTEN),
    port: s.IMS_SMTP_PORT,
    dataDir: s.IMS_DATA_DIR ? `${s.IMS_DATA_DIR}/postfix` : './data/postfix',
    smartHost: smart
      ? `${smart.host.includes(':') ? `[${smart.host}]` : smart.host}:${smart.port}`
      : undefined,
    tlsCertFile: s.IMS_SMTP_TLS_CERT,
    tlsKeyFile: s.IMS_SMTP_TLS_KEY,
    logLevel: s.IMS_SMTP_LOG_LEVEL ?? 'info',
    myhostname: s.IMS_POSTFIX_HOSTNAME ?? (hostname() || 'localhost'),
  };
}
