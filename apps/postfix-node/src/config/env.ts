/**
 * The Postfix node agent's settings, read from the environment once, here and
 * nowhere else, with a schema. They are the SMTP node's (apps/smtp), so the
 * launcher starts either engine with the same variables; a bad value stops the
 * start with one error that lists every bad variable.
 */

import { hostname } from 'node:os';
import {
  LogLevelSetting,
  type NodeEnv,
  nodeEnv,
  nodeSettings,
  nodeSettingsProblems,
  parseHostPort,
} from '@ims/node-link';
import { parseSettings } from '@ims/settings';
import { Type } from 'typebox';

const AgentSettings = Type.Object({
  ...nodeSettings(),
  ...LogLevelSetting,
  IMS_POSTFIX_HOSTNAME: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$',
      description: "a host name (Postfix's myhostname)",
    }),
  ),
});

export interface AgentEnv extends NodeEnv {
  /** IMS_SMART_HOST as Postfix writes it: `host:port`, `[IPv6]:port`. */
  smartHost: string | undefined;
  myhostname: string;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const s = parseSettings(AgentSettings, env, nodeSettingsProblems);
  const smart = s.IMS_SMART_HOST ? parseHostPort(s.IMS_SMART_HOST) : undefined;
  return {
    // The instance's own directory (config, queue, data, mail): IMS_DATA_DIR/postfix.
    ...nodeEnv(s, 'postfix'),
    smartHost: smart
      ? `${smart.host.includes(':') ? `[${smart.host}]` : smart.host}:${smart.port}`
      : undefined,
    myhostname: s.IMS_POSTFIX_HOSTNAME ?? (hostname() || 'localhost'),
  };
}
