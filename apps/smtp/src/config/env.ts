/** The SMTP node's settings, read from the environment once, here and nowhere else. */

export interface NodeEnv {
  consoleUrl: string;
  nodeToken: string;
  listen: string[];
  port: number;
  dataDir: string;
  smartHost: string | undefined;
}

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
  if (problems.length > 0) throw new Error(`Invalid environment:\n- ${problems.join('\n- ')}`);
  return {
    consoleUrl: consoleUrl.replace(/\/+$/, ''),
    nodeToken,
    listen,
    port: Number(port),
    dataDir: env.IMS_DATA_DIR ? `${env.IMS_DATA_DIR}/smtp` : './data/smtp',
    smartHost: env.IMS_SMART_HOST || undefined,
  };
}
