import { parseSettings } from '@ims/settings';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import {
  LogLevelSetting,
  nodeEnv,
  nodeSettings,
  nodeSettingsProblems,
  parseHostPort,
} from './settings';

const Schema = Type.Object({
  ...nodeSettings(),
  ...LogLevelSetting,
});
const read = (env: NodeJS.ProcessEnv) => parseSettings(Schema, env, nodeSettingsProblems);

describe('the settings every node reads', () => {
  it("defaults, under the engine's own folder of the data directory", () => {
    const NEEDED = { IMS_CONSOLE_URL: 'http://127.0.0.1:8080/', IMS_NODE_TOKEN: 'imsn_secret' };
    expect(nodeEnv(read(NEEDED), 'postfix')).toEqual({
      consoleUrl: 'http://127.0.0.1:8080',
      consoleCaFile: undefined,
      nodeToken: 'imsn_secret',
      listen: ['127.0.0.1'],
      port: 2525,
      dataDir: './data/postfix',
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      logLevel: 'info',
    });
    expect(nodeEnv(read({ ...NEEDED, IMS_DATA_DIR: '/var/ims' }), 'smtp').dataDir).toBe(
      '/var/ims/smtp',
    );
  });

  it('how to reach the console is listed beside the console URL', () => {
    expect(() =>
      read({ IMS_CONSOLE_URL: 'console', IMS_SMTP_TLS_CERT: '/c.pem', IMS_SMTP_LOG_LEVEL: 'loud' }),
    ).toThrow(
      [
        'Invalid environment:',
        '- IMS_CONSOLE_URL must be the console URL, e.g. http://127.0.0.1:8080, not "console"',
        '- IMS_NODE_TOKEN must be set: the token from POST /api/v1/nodes',
        '- IMS_SMTP_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud"',
        '- IMS_SMTP_TLS_CERT and IMS_SMTP_TLS_KEY go together: set both or neither',
      ].join('\n'),
    );
    expect(Object.keys(Schema.properties).slice(0, 4)).toEqual([
      'IMS_CONSOLE_URL',
      'IMS_ALLOW_INSECURE_CONSOLE',
      'IMS_CONSOLE_CA',
      'IMS_NODE_TOKEN',
    ]);
  });

  it('parseHostPort', () => {
    expect(parseHostPort('[::1]:2526')).toEqual({ host: '::1', port: 2526 });
    expect(parseHostPort('relay.example')).toEqual({ host: 'relay.example', port: 25 });
    expect(parseHostPort('a.example:65536')).toBeUndefined();
    expect(parseHostPort('a:b:c')).toBeUndefined();
  });
});
