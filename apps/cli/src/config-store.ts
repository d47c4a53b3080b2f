/**
 * Where `ims login` keeps the console URL and token: `$XDG_CONFIG_HOME/ims/config.json`
 * (default `~/.config/ims/config.json`), the directory 0700 and the file 0600.
 */

import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface StoredLogin {
  url: string;
  token: string;
  /** The token's id, to revoke it on logout. */
  tokenId?: number;
  username?: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(base, 'ims', 'config.json');
}

export function readLogin(env: NodeJS.ProcessEnv): StoredLogin | undefined {
  try {
    const parsed = JSON.parse(readFileSync(configPath(env), 'utf8')) as Partial<StoredLogin>;
    if (typeof parsed.url === 'string' && typeof parsed.token === 'string') {
      return parsed as StoredLogin;
    }
  } catch {
    // No login stored (or an unreadable file): as if none.
  }
  return undefined;
}

export function writeLogin(env: NodeJS.ProcessEnv, login: StoredLogin): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Written 0600 from the start (never readable by others, not even briefly), and
  // chmod in case the file existed with wider permissions.
  writeFileSync(path, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function removeLogin(env: NodeJS.ProcessEnv): boolean {
  const path = configPath(env);
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}
