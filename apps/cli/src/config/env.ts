/**
 * What `ims` reads from its environment, here and nowhere else, with a
 * schema: the console URL and token that override the stored login, and
 * where the login is stored. Bad values are one error naming each.
 */

import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '@ims/settings';
import { Type } from 'typebox';

const CliSettings = Type.Object({
  IMS_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: 'the console URL, e.g. http://127.0.0.1:8080',
    }),
  ),
  IMS_TOKEN: Type.Optional(Type.String({ writeOnly: true, description: 'an API token' })),
  XDG_CONFIG_HOME: Type.Optional(Type.String({ description: 'a directory' })),
  HOME: Type.Optional(Type.String({ description: 'a directory' })),
});

export interface CliEnv {
  /** IMS_URL: overrides the stored login's URL. */
  url: string | undefined;
  /** IMS_TOKEN: overrides the stored token. */
  token: string | undefined;
  /** Where `ims login` keeps the URL and token: `$XDG_CONFIG_HOME/ims/config.json` (default ~/.config). */
  configFile: string;
}

export function readCliEnv(env: NodeJS.ProcessEnv): CliEnv {
  const s = parseSettings(CliSettings, env);
  const base = s.XDG_CONFIG_HOME?.trim() || join(s.HOME?.trim() || homedir(), '.config');
  return { url: s.IMS_URL, token: s.IMS_TOKEN, configFile: join(base, 'ims', 'config.json') };
}
