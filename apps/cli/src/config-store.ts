/**
 * Where `ims login` keeps the console URL and token: `$XDG_CONFIG_HOME/ims/config.json`
 * (default `~/.config/ims/config.json`), the directory 0700 and the file 0600.
 */

import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StoredLogin {
  url: string;
  token: string;
  /** The token's id, to revoke it on logout. */
  tokenId?: number;
  username?: string;
}

/** `path` is the CliEnv's `configFile`. */
export function readLogin(path: string): StoredLogin | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredLogin>;
    if (typeof parsed.url === 'string' && typeof parsed.token === 'string') {
      return parsed as StoredLogin;
    }
  } catch {
    // No login stored (or an unreadable file): as if none.
  }
  return undefined;
}

export function writeLogin(path: string, login: StoredLogin): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Written 0600 from the start (never readable by others, not even briefly), and
  // chmod in case the file existed with wider permissions.
  writeFileSync(path, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function removeLogin(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}
