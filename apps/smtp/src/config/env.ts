/** The SMTP node's settings, read from the environment once, here and nowhere else. */

import { parseHostPort, type Target } from '../outbound';

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
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function readEnv(env: NodeJS.ProcessEnv = process.env): NodeEnv {
  const problems: string[] = [];
  const consoleUrl = env.IMS_CONSOLE_URL ?? '';
  const nodeToken = env.IMS_NODE_TOKEN ?? '';
  if (!/^https?:\/\//.test(consoleUrl))
    problems.push('IMS_CONSOLE_URL must be the console URL, e.g. http://127.0.0.1:8080');
  if (!nodeToken) problems.push('IMS_NODE_TOKEN must be the token from POST /api/v1/nodes');
  const port = env.IMS_SMTP_PORT ?? '2525';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
    problems.push(`IMS_SMTP_PORT must be a port number, not "${port}"`);
  const listen = (env.IMS_SMTP_LISTEN || '127.0.0.1')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const smartHost = env.IMS_SMART_HOST ? parseHostPort(env.IMS_SMART_HOST) : undefined;
  if (env.IMS_SMART_HOST && !smartHost)
    problems.push(`IMS_SMART_HOST must be host:port (or [IPv6]:port), not "${env.IMS_SMART_HOST}"`);
  const tlsCertFile = env.IMS_SMTP_TLS_CERT || undefined;
  const tlsKeyFile = env.IMS_SMTP_TLS_KEY || undefined;
  if (Boolean(tlsCertFile) !== Boolean(tlsKeyFile))
    problems.push('IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither');
  const logLevel = env.IMS_SMTP_LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    problems.push(`IMS_SMTP_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${logLevel}"`);
  if (problems.length > 0) throw new Error(`Invalid environment:\n- ${problems.join('\n- ')}`);
  return {
    consoleUrl: consoleUrl.replace(/\/+$/, ''),
    nodeToken,
    listen,
    port: Number(port),
    dataDir: env.IMS_DATA_DIR ? `${env.IMS_DATA_DIR}/smtp` : './data/smtp',
    smartHost,
    tlsCertFile,
    tlsKeyFile,
    logLevel: logLevel as LogLevel,
  };
}
