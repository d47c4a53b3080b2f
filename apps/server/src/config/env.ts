/**
 * The console's settings, read from the environment once, here and nowhere
 * else. A bad value stops the start with every bad key listed.
 */

export interface ServerEnv {
  httpHost: string;
  httpPort: number;
  dataDir: string;
  siteDomain: string;
  /** Bootstraps the `admin` account on first start; a random one is printed when unset. */
  adminPassword: string | undefined;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): ServerEnv {
  const problems: string[] = [];
  const port = env.IMS_HTTP_PORT ?? '8080';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    problems.push(`IMS_HTTP_PORT must be a port number (0-65535), not "${port}"`);
  }
  const adminPassword = env.IMS_ADMIN_PASSWORD || undefined;
  if (adminPassword !== undefined && adminPassword.length < 8) {
    problems.push('IMS_ADMIN_PASSWORD must be at least 8 characters long');
  }
  if (problems.length > 0) throw new Error(`Invalid environment:\n- ${problems.join('\n- ')}`);
  return {
    httpHost: env.IMS_HTTP_HOST || '127.0.0.1',
    httpPort: Number(port),
    dataDir: env.IMS_DATA_DIR || './data',
    siteDomain: env.IMS_SITE_DOMAIN || 'example.com',
    adminPassword,
  };
}

/** What the embedded start hands to its local SMTP node (DESIGN.md §4). */
export interface LocalNodeEnv {
  /** IMS_SMTP_LISTEN: a comma list of addresses (default 127.0.0.1). */
  smtpListen: string;
  smtpPort: number;
  smartHost: string | undefined;
}

export function readLocalNodeEnv(env: NodeJS.ProcessEnv = process.env): LocalNodeEnv {
  const port = env.IMS_SMTP_PORT ?? '2525';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    throw new Error(`Invalid environment:\n- IMS_SMTP_PORT must be a port number, not "${port}"`);
  }
  const listen = (env.IMS_SMTP_LISTEN || '127.0.0.1')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return {
    smtpListen: listen.join(','),
    smtpPort: Number(port),
    smartHost: env.IMS_SMART_HOST || undefined,
  };
}
