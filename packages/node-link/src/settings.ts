/**
 * The settings every node reads, whatever its engine (apps/smtp,
 * apps/postfix-node), so the launcher starts either with the same variables:
 * the console to attach to, where to listen, the data directory, the smart
 * host, the STARTTLS pair and the log level. Each engine's `config/env.ts`
 * spreads these into its own schema and parses it once (@ims/settings).
 */

import { AddressList, listItems, Port } from '@ims/settings';
import { Type } from 'typebox';
import { Format } from 'typebox/format';
import { insecureConsoleProblem } from './console-transport';

/** `host:port` or `[IPv6]:port` (port 1-65535; 25 when left out) → its parts. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const t = text.trim();
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(t) ?? /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(t);
  if (!m?.[1]) return undefined;
  const port = m[2] === undefined ? 25 : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}

const HOST_PORT = 'ims-host-port';
Format.Set(HOST_PORT, (text) => parseHostPort(text) !== undefined);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The shared variables, in the order their errors are listed. The node sends
 * its token and receives the directory's password hashes, whatever its
 * engine: IMS_ALLOW_INSECURE_CONSOLE and IMS_CONSOLE_CA say how it may reach
 * the console (console-transport.ts).
 */
export const nodeSettings = () => ({
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
});

/** IMS_SMTP_LOG_LEVEL (not the console's LOG_LEVEL). */
export const LogLevelSetting = {
  IMS_SMTP_LOG_LEVEL: Type.Optional(
    Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { description: `one of ${LOG_LEVELS.join(', ')}` },
    ),
  ),
};

/** The parsed shared variables (what `nodeSettings` and `LogLevelSetting` give). */
interface NodeSettingsValues {
  IMS_CONSOLE_URL: string;
  IMS_ALLOW_INSECURE_CONSOLE: '0' | '1';
  IMS_CONSOLE_CA?: string | undefined;
  IMS_NODE_TOKEN: string;
  IMS_SMTP_PORT: number;
  IMS_SMTP_LISTEN: string;
  IMS_DATA_DIR?: string | undefined;
  IMS_SMTP_TLS_CERT?: string | undefined;
  IMS_SMTP_TLS_KEY?: string | undefined;
  IMS_SMTP_LOG_LEVEL?: LogLevel | undefined;
}

/** What a schema cannot say of the shared variables. */
export function nodeSettingsProblems(s: Partial<NodeSettingsValues>): string[] {
  const problems: string[] = [];
  if (Boolean(s.IMS_SMTP_TLS_CERT) !== Boolean(s.IMS_SMTP_TLS_KEY))
    problems.push('IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither');
  const insecure = insecureConsoleProblem(
    s.IMS_CONSOLE_URL ?? '',
    s.IMS_ALLOW_INSECURE_CONSOLE === '1',
  );
  if (insecure) problems.push(insecure);
  return problems;
}

export interface NodeEnv {
  consoleUrl: string;
  /** IMS_CONSOLE_CA: a PEM file trusted for the console's certificate, besides the system's CAs. */
  consoleCaFile: string | undefined;
  nodeToken: string;
  listen: string[];
  port: number;
  /** The engine's own directory: IMS_DATA_DIR/<engine>, ./data/<engine> without it. */
  dataDir: string;
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

/** The shared variables as settings; `engineDir` names the engine's folder of the data directory. */
export function nodeEnv(s: NodeSettingsValues, engineDir: string): NodeEnv {
  return {
    consoleUrl: s.IMS_CONSOLE_URL.replace(/\/+$/, ''),
    consoleCaFile: s.IMS_CONSOLE_CA,
    nodeToken: s.IMS_NODE_TOKEN,
    listen: listItems(s.IMS_SMTP_LISTEN),
    port: s.IMS_SMTP_PORT,
    dataDir: s.IMS_DATA_DIR ? `${s.IMS_DATA_DIR}/${engineDir}` : `./data/${engineDir}`,
    tlsCertFile: s.IMS_SMTP_TLS_CERT,
    tlsKeyFile: s.IMS_SMTP_TLS_KEY,
    logLevel: s.IMS_SMTP_LOG_LEVEL ?? 'info',
  };
}
