/**
 * The SMTP node's settings, read from the environment once, here and nowhere
 * else, with a schema. A bad value stops the start with one error that lists
 * every bad variable.
 */

import { availableParallelism } from 'node:os';
import {
  type NodeEnv as LinkEnv,
  LogLevelSetting,
  nodeEnv,
  nodeSettings,
  nodeSettingsProblems,
  parseHostPort,
} from '@ims/node-link';
import { parseSettings } from '@ims/settings';
import { Type } from 'typebox';
import type { SessionLimits } from '../ims-smtp-server';
import type { AnvilLimits } from '../limits/anvil';
import type { Target } from '../outbound';

export type { LogLevel } from '@ims/node-link';

/** A whole number of something, from its text (0 where said turns the limit off). */
const Count = (defaultValue: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 1_000_000, default: defaultValue, description });

/** A number of seconds. */
const Seconds = (defaultValue: number) =>
  Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: defaultValue,
    description: 'a number of seconds (0-86400)',
  });

const NodeSettings = Type.Object({
  ...nodeSettings(),
  IMS_TRAFFIC_WINDOW_DAYS: Type.Integer({
    minimum: 1,
    maximum: 366,
    default: 7,
    description: 'a number of days (1-366)',
  }),
  // Per-client and per-session limits, as Postfix's anvil and smtpd (README, "SMTP limits").
  IMS_SMTP_CLIENT_CONNECTION_LIMIT: Count(
    50,
    'a number of sessions per client address (0 = no limit)',
  ),
  IMS_SMTP_CLIENT_CONNECTION_RATE: Count(
    600,
    'a number of sessions per client address per minute (0 = no limit)',
  ),
  IMS_SMTP_GREETING_TIMEOUT: Seconds(30),
  IMS_SMTP_SOFT_ERROR_LIMIT: Count(10, 'a number of error replies (0 = no limit)'),
  IMS_SMTP_HARD_ERROR_LIMIT: Count(20, 'a number of error replies (0 = no limit)'),
  IMS_SMTP_ERROR_SLEEP: Seconds(1),
  IMS_SMTP_MAX_RECIPIENTS: Count(100, 'a number of RCPT commands per session'),
  IMS_SMTP_AUTH_FAILURE_LIMIT: Count(10, 'a number of failed AUTH attempts (0 = no limit)'),
  IMS_SMTP_AUTH_LOCKOUT: Seconds(900),
  IMS_SMTP_AUTH_CONCURRENCY: Count(
    10,
    'a number of AUTH exchanges per client address at once (0 = no limit)',
  ),
  IMS_SMTP_WORKERS: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 256,
      description: 'a number of SMTP worker processes (1-256; default: the available cores)',
    }),
  ),
  ...LogLevelSetting,
});

export interface NodeEnv extends LinkEnv {
  smartHost: Target | undefined;
  /** Days of decision records kept for the impact preview (IMS_TRAFFIC_WINDOW_DAYS, default 7). */
  trafficWindowDays: number;
  /** Per-client limits (limits/anvil.ts). */
  clientLimits: AnvilLimits;
  /** Per-session limits (ims-smtp-server.ts), the greeting delay aside. */
  sessionLimits: Omit<SessionLimits, 'greetingDelayMs'>;
  /** RCPT commands per session. */
  maxRecipients: number;
  /**
   * SMTP worker processes sharing the listening sockets (IMS_SMTP_WORKERS,
   * default os.availableParallelism()); 1 runs the node in one process.
   */
  workers: number;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): NodeEnv {
  const s = parseSettings(NodeSettings, env, nodeSettingsProblems);
  return {
    ...nodeEnv(s, 'smtp'),
    smartHost: s.IMS_SMART_HOST ? parseHostPort(s.IMS_SMART_HOST) : undefined,
    trafficWindowDays: s.IMS_TRAFFIC_WINDOW_DAYS,
    clientLimits: {
      maxConnectionsPerClient: s.IMS_SMTP_CLIENT_CONNECTION_LIMIT,
      connectionRatePerMinute: s.IMS_SMTP_CLIENT_CONNECTION_RATE,
      authFailureLimit: s.IMS_SMTP_AUTH_FAILURE_LIMIT,
      authCoolOffMs: s.IMS_SMTP_AUTH_LOCKOUT * 1000,
      maxConcurrentAuthPerClient: s.IMS_SMTP_AUTH_CONCURRENCY,
    },
    sessionLimits: {
      greetingTimeoutMs: s.IMS_SMTP_GREETING_TIMEOUT * 1000,
      softErrorLimit: s.IMS_SMTP_SOFT_ERROR_LIMIT,
      hardErrorLimit: s.IMS_SMTP_HARD_ERROR_LIMIT,
      errorSleepMs: s.IMS_SMTP_ERROR_SLEEP * 1000,
    },
    maxRecipients: s.IMS_SMTP_MAX_RECIPIENTS,
    workers: s.IMS_SMTP_WORKERS ?? availableParallelism(),
  };
}
