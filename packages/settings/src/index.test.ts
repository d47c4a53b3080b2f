import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { AddressList, Flag, flagOn, listItems, Port, parseSettings, SettingsError } from './index';

const Schema = Type.Object({
  IMS_HTTP_PORT: Port(8080),
  IMS_SMTP_LISTEN: AddressList('127.0.0.1'),
  IMS_NODE_TOKEN: Type.String({ minLength: 1, description: 'the token from ims node register' }),
  IMS_HOST: Type.String({ default: '127.0.0.1', description: 'a host name' }),
  IMS_PASSWORD: Type.Optional(
    Type.String({ minLength: 8, writeOnly: true, description: 'at least 8 characters' }),
  ),
});

function problemsOf(env: NodeJS.ProcessEnv, checks?: () => string[]): string[] {
  try {
    parseSettings(Schema, env, checks);
  } catch (err) {
    if (err instanceof SettingsError) return err.problems;
    throw err;
  }
  throw new Error('no SettingsError');
}

describe('parseSettings', () => {
  it('applies defaults, converts numbers, treats an empty variable as unset', () => {
    expect(parseSettings(Schema, { IMS_NODE_TOKEN: 'imsn_x', IMS_HOST: '', OTHER: 'x' })).toEqual({
      IMS_HTTP_PORT: 8080,
      IMS_SMTP_LISTEN: '127.0.0.1',
      IMS_NODE_TOKEN: 'imsn_x',
      IMS_HOST: '127.0.0.1',
    });
    expect(
      parseSettings(Schema, {
        IMS_NODE_TOKEN: 't',
        IMS_HTTP_PORT: '0',
        IMS_SMTP_LISTEN: ' 127.0.0.1, ::1 ,',
        IMS_PASSWORD: 'long enough',
      }),
    ).toMatchObject({
      IMS_HTTP_PORT: 0,
      IMS_SMTP_LISTEN: ' 127.0.0.1, ::1 ,',
      IMS_PASSWORD: 'long enough',
    });
    expect(listItems(' 127.0.0.1, ::1 ,')).toEqual(['127.0.0.1', '::1']);
  });

  it.each([
    ['abc', 'IMS_HTTP_PORT must be a port number (0-65535), not "abc"'],
    ['65536', 'IMS_HTTP_PORT must be a port number (0-65535), not "65536"'],
    ['-1', 'IMS_HTTP_PORT must be a port number (0-65535), not "-1"'],
    ['80.5', 'IMS_HTTP_PORT must be a port number (0-65535), not "80.5"'],
  ])('a bad port %j', (port, problem) => {
    expect(problemsOf({ IMS_NODE_TOKEN: 't', IMS_HTTP_PORT: port })).toEqual([problem]);
  });

  it.each([['127.0.0.1,mail.example'], ['127.0.0.256'], [','], ['127.0.0.1;::1']])(
    'a bad listen list %j',
    (listen) => {
      expect(problemsOf({ IMS_NODE_TOKEN: 't', IMS_SMTP_LISTEN: listen })).toEqual([
        `IMS_SMTP_LISTEN must be a comma list of IP addresses, e.g. 127.0.0.1,::1, not "${listen}"`,
      ]);
    },
  );

  it('several bad at once: one error that names every one (a missing one too), never repeating a secret', () => {
    let error: unknown;
    try {
      parseSettings(
        Schema,
        { IMS_HTTP_PORT: 'http', IMS_SMTP_LISTEN: 'localhost', IMS_PASSWORD: 'short' },
        () => ['IMS_A and IMS_B go together'],
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toBe(
      [
        'Invalid environment:',
        '- IMS_HTTP_PORT must be a port number (0-65535), not "http"',
        '- IMS_SMTP_LISTEN must be a comma list of IP addresses, e.g. 127.0.0.1,::1, not "localhost"',
        '- IMS_NODE_TOKEN must be set: the token from ims node register',
        '- IMS_PASSWORD must be at least 8 characters',
        '- IMS_A and IMS_B go together',
      ].join('\n'),
    );
  });

  it('names every bad variable however many errors each one makes (no cap across variables)', () => {
    const choices = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const Many = Type.Object({
      IMS_CHOICE: Type.Union(
        choices.map((c) => Type.Literal(c)),
        { default: 'a', description: 'a letter from a to j' },
      ),
      ...Object.fromEntries(
        Array.from({ length: 9 }, (_, i) => [`IMS_PORT_${i}`, Port(1000 + i)] as const),
      ),
    });
    const env = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`IMS_PORT_${i}`, 'x'] as const),
    );
    let problems: string[] = [];
    try {
      parseSettings(Many, { ...env, IMS_CHOICE: 'z' });
    } catch (err) {
      problems = (err as SettingsError).problems;
    }
    expect(problems).toHaveLength(10);
    expect(problems[0]).toBe('IMS_CHOICE must be a letter from a to j, not "z"');
    expect(problems[9]).toBe('IMS_PORT_8 must be a port number (0-65535), not "x"');
  });
});

describe('Flag', () => {
  const schema = Type.Object({ IMS_FLAG: Flag(false) });
  it('reads true/false, 1/0, yes/no, on/off, with its default when unset', () => {
    expect(flagOn(parseSettings(schema, {}).IMS_FLAG)).toBe(false);
    for (const yes of ['true', '1', 'yes', 'on'])
      expect(flagOn(parseSettings(schema, { IMS_FLAG: yes }).IMS_FLAG)).toBe(true);
    for (const no of ['false', '0', 'no', 'off'])
      expect(flagOn(parseSettings(schema, { IMS_FLAG: no }).IMS_FLAG)).toBe(false);
  });
  it('refuses anything else, naming the variable', () => {
    expect(() => parseSettings(schema, { IMS_FLAG: 'maybe' })).toThrow(
      'IMS_FLAG must be true or false (or 1/0, yes/no, on/off), not "maybe"',
    );
  });
});
