/**
 * A process's settings, read from its environment once, in its
 * `config/env.ts`, with a TypeBox schema: one property per variable, each
 * with a `description` of what it must be (the error text), its default, and
 * `writeOnly: true` when it is a secret (its value is never repeated).
 *
 * An empty variable counts as unset. An integer is written in decimal digits.
 * Bad input is ONE `SettingsError` that names every bad variable, what it
 * must be, and the value it had, so a start fails once, not once per typo.
 */

import { isIP } from 'node:net';
import { type Static, type TObject, type TProperties, Type } from 'typebox';
import { Format } from 'typebox/format';
import { Value } from 'typebox/value';

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n- ${problems.join('\n- ')}`);
    this.name = 'SettingsError';
  }
}

/** `a,b,c` → the non-empty trimmed items. */
export function listItems(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

const ADDRESS_LIST = 'ims-address-list';
Format.Set(ADDRESS_LIST, (text) => {
  const items = listItems(text);
  return items.length > 0 && items.every((item) => isIP(item) !== 0);
});

/** A TCP port, from its text. */
export const Port = (defaultPort: number) =>
  Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: defaultPort,
    description: 'a port number (0-65535)',
  });

/** A comma list of IPv4/IPv6 addresses (kept as text; split it with `listItems`). */
export const AddressList = (defaultList: string) =>
  Type.String({
    format: ADDRESS_LIST,
    default: defaultList,
    description: 'a comma list of IP addresses, e.g. 127.0.0.1,::1',
  });

/**
 * Parses the variables that `schema` names. `checks` adds the problems a
 * schema cannot state (two variables that go together); they are reported
 * with the schema's own, in the same error.
 */
export function parseSettings<T extends TProperties>(
  schema: TObject<T>,
  env: NodeJS.ProcessEnv,
  checks: (settings: Static<TObject<T>>) => string[] = () => [],
): Static<TObject<T>> {
  const given: Record<string, string> = {};
  const typed: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    given[name] = text;
    // Digits only become a number ("80.5", "0x50" and " 80" stay text, and fail).
    const numeric = (property as { type?: unknown }).type === 'integer' && /^\d+$/.test(text);
    typed[name] = numeric ? Number(text) : text;
  }
  const value = Value.Default(schema, typed) as Record<string, unknown>;
  // Each variable is checked on its own: a whole-object check stops at
  // TypeBox's error cap (8), which one bad choice among many can fill.
  const required = new Set<string>((schema as { required?: string[] }).required ?? []);
  const problems = Object.entries(schema.properties)
    .filter(([name, property]) =>
      value[name] === undefined ? required.has(name) : !Value.Check(property, value[name]),
    )
    .map(([name, property]) => {
      const { description = 'valid', writeOnly } = property as {
        description?: string;
        writeOnly?: boolean;
      };
      if (given[name] === undefined) return `${name} must be set: ${description}`;
      // A secret (`writeOnly`) is never repeated: the error may end up in a log.
      return writeOnly
        ? `${name} must be ${description}`
        : `${name} must be ${description}, not "${given[name]}"`;
    });
  const settings = value as Static<TObject<T>>;
  problems.push(...checks(settings));
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

/**
 * For a process edge: `read()`, or, on a SettingsError, its message on stderr
 * and exit code 1 (a list for the operator, not a stack trace).
 */
export function orExit<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

// ---- Behind a reverse proxy (IMS_TRUST_PROXY) ---------------------------------

const TRUST_PROXY = 'ims-trust-proxy';
/** proxy-addr's names for address ranges, as Fastify's trustProxy takes them. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(item: string): boolean {
  if (PROXY_RANGES.has(item)) return true;
  const [address = '', bits, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

Format.Set(
  TRUST_PROXY,
  (text) =>
    /^(true|false|\d+)$/.test(text) ||
    (listItems(text).length > 0 && listItems(text).every(isAddressOrCidr)),
);

/**
 * Which reverse proxies to believe (Fastify's `trustProxy`): `true` (any
 * peer), `false`, a number of hops, or a comma list of addresses and CIDRs
 * (and proxy-addr's `loopback`, `linklocal`, `uniquelocal`). Read it with
 * `trustProxyValue`.
 */
export const TrustProxy = () =>
  Type.String({
    format: TRUST_PROXY,
    default: 'false',
    description:
      'true, false, a number of proxy hops, or a comma list of proxy addresses/CIDRs (e.g. 127.0.0.1,10.0.0.0/8)',
  });

/** The text of a `TrustProxy` setting as Fastify's `trustProxy` value. */
export function trustProxyValue(text: string): boolean | number | string[] {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^\d+$/.test(text)) return Number(text);
  return listItems(text);
}

const FLAG_WORDS = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'] as const;

/** A yes/no setting, as text: true/false, 1/0, yes/no or on/off (read it with `flagOn`). */
export const Flag = (defaultValue: boolean) =>
  Type.Union(
    FLAG_WORDS.map((word) => Type.Literal(word)),
    { default: String(defaultValue), description: 'true or false (or 1/0, yes/no, on/off)' },
  );

/** Whether a `Flag` setting's text means yes. */
export const flagOn = (text: string): boolean => ['true', '1', 'yes', 'on'].includes(text);
