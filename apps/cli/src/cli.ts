/**
 * `ims`: the console's REST API from a terminal or a script, through the
 * typed API client. Commands come first (`ims routing set --file f.json`);
 * options anywhere after them. Exit codes: see exit-codes.ts.
 */

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  type ApiClient,
  ApiNetworkError,
  ApiProblem,
  createApiClient,
  type RestartBody,
  type RoutingState,
} from '@ims/api-client';
import { findRoute, parseIpEntry, type RoutingConfig, routeExistsMessage } from '@ims/routing-core';
import { SettingsError } from '@ims/settings';
import { type CliEnv, readCliEnv } from './config/env';
import { readLogin, removeLogin, writeLogin } from './config-store';
import { CliError, EXIT, exitCodeOf } from './exit-codes';
import {
  describeConfig,
  describeFindings,
  describeImpact,
  describeNodes,
  describeProblem,
  describeQueue,
  describeService,
  describeState,
  table,
} from './output';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** All of standard input (for --password-stdin and `--file -`). */
  readStdin: () => Promise<string>;
  /** Asks for a secret on the terminal without echoing it; undefined when there is no terminal. */
  promptSecret?: ((question: string) => Promise<string>) | undefined;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

interface Ctx {
  values: Values;
  positionals: string[];
  io: Io;
  /** The environment's settings (IMS_URL, IMS_TOKEN, where the login is stored). */
  env: CliEnv;
  json: boolean;
  url: string;
  /** The API client with the resolved URL and token. */
  api: () => ApiClient;
  out: (text: string) => void;
  outJson: (value: unknown) => void;
  /** Prints `value` as JSON with --json, else the text; the command then exits 0. */
  show: (value: unknown, text: () => string) => number;
}

interface Command {
  name: string;
  summary: string;
  usage: string;
  details?: string;
  examples: string[];
  options?: Options;
  /** Positional arguments after the command words: [min, max]. */
  args?: [number, number];
  run: (ctx: Ctx) => Promise<number | undefined>;
}

const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const WRITE_OPTIONS: Options = {
  ack: { type: 'string', multiple: true },
  comment: { type: 'string' },
};

// ---- helpers -------------------------------------------------------------

const str = (v: Values[string]) => (typeof v === 'string' ? v : undefined);

function intArg(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) < 1) {
    throw new CliError(`${what} must be a positive whole number, not "${text ?? ''}".`, EXIT.usage);
  }
  return Number(text);
}

function acks(values: Values): string[] | undefined {
  const raw = values.ack;
  const list = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [])
    .flatMap((a) => a.split(','))
    .map((a) => a.trim())
    .filter(Boolean);
  return list.length > 0 ? list : undefined;
}

async function readJsonFile(ctx: Ctx, file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await ctx.io.readStdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`, EXIT.validation);
  }
}

/** `<a@b>` stays; `a@b` gets its angle brackets; `""` / `<>` is the null path. */
function path(text: string): string {
  const t = text.trim();
  if (t === '' || t === '<>') return '<>';
  return t.startsWith('<') ? t : `<${t}>`;
}

function conflictMessage(p: ApiProblem): string {
  const b = p.body;
  if (p.status === 412 && b.currentVersion !== undefined) {
    return `Conflict: version ${String(b.currentVersion)} was saved by ${String(b.savedBy)} at ${String(
      b.savedAt,
    )} while you were working; nothing was saved. Run the command again to apply your change on top of version ${String(
      b.currentVersion,
    )}.`;
  }
  return describeProblem(p.body);
}

function savedLine(state: RoutingState, what: string): string {
  const critical = state.findings.filter((f) => f.severity !== 'info');
  return [
    `Saved version ${state.version}: ${what}.`,
    'It is not applied until the service restarts: ims restart --wait',
    ...(critical.length > 0 ? ['Findings:', describeFindings(critical)] : []),
  ].join('\n');
}

/** Read-modify-write of the saved configuration, with If-Match on the ETag it read. */
async function mutate(
  ctx: Ctx,
  change: (config: RoutingConfig) => string,
): Promise<number | undefined> {
  const api = ctx.api();
  const { data, etag } = await api.routing.get();
  const config = structuredClone(data.config);
  const what = change(config);
  const ack = acks(ctx.values);
  const saved = await api.routing.put(
    {
      config,
      comment: str(ctx.values.comment) ?? what.slice(0, 500),
      ...(ack ? { acknowledge: ack } : {}),
    },
    etag,
  );
  return ctx.show(saved.data, () => savedLine(saved.data, what));
}

function onOff(word: string | undefined, what: string): boolean {
  if (word === 'on' || word === 'true' || word === 'yes') return true;
  if (word === 'off' || word === 'false' || word === 'no') return false;
  throw new CliError(`${what}: say on or off, not "${word ?? ''}".`, EXIT.usage);
}

function ipEntry(ip: string | undefined, mask: string | undefined) {
  if (!ip) throw new CliError('Give an IP address (and optionally a mask).', EXIT.usage);
  let address = ip;
  let m = mask;
  const slash = ip.indexOf('/');
  if (slash > 0 && m === undefined) {
    address = ip.slice(0, slash);
    m = ip.slice(slash + 1);
  }
  const parsed = parseIpEntry(address, m);
  if ('error' in parsed) throw new CliError(parsed.error, EXIT.validation);
  return parsed.entry;
}

const sameEntry = (a: { ip: string; mask: string }, b: { ip: string; mask: string }) => {
  const x = parseIpEntry(a.ip, a.mask);
  const y = parseIpEntry(b.ip, b.mask);
  return (
    !('error' in x) && !('error' in y) && x.entry.ip === y.entry.ip && x.entry.mask === y.entry.mask
  );
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where `ims` asks for a password: --password-stdin, else the terminal. */
async function passwordOf(ctx: Ctx, question: string): Promise<string> {
  if (ctx.values['password-stdin']) return (await ctx.io.readStdin()).replace(/\r?\n$/, '');
  if (ctx.io.promptSecret) return ctx.io.promptSecret(question);
  throw new CliError('No terminal to ask for the password: use --password-stdin.', EXIT.usage);
}

/**
 * Runs `work` in a session signed in with the user's password (what a token
 * may not do: mint tokens, register nodes, change the password), then signs
 * that session out again.
 */
async function withSession<T>(
  ctx: Ctx,
  work: (api: ApiClient, username: string) => Promise<T>,
  password?: string,
): Promise<T> {
  const username = str(ctx.values.username) ?? 'admin';
  const secret = password ?? (await passwordOf(ctx, `Password for ${username} at ${ctx.url}: `));
  const timeoutMs = timeoutOf(ctx.values);
  const session = await createApiClient({ baseUrl: ctx.url, timeoutMs }).login(username, secret);
  const api = createApiClient({
    baseUrl: ctx.url,
    cookie: session.cookie,
    csrfToken: session.csrfToken,
    timeoutMs,
  });
  try {
    return await work(api, username);
  } finally {
    await api.logout().catch(() => undefined);
  }
}

const SESSION_OPTIONS: Options = {
  username: { type: 'string', short: 'u' },
  'password-stdin': { type: 'boolean' },
};

const when = (iso: string | undefined) => (iso ? iso.replace(/\.\d+Z$/, 'Z') : '-');

// ---- commands ------------------------------------------------------------

const LIST_NAMES: Record<string, 'clientAddresses' | 'internalAddresses' | 'neverRoute'> = {
  clients: 'clientAddresses',
  internal: 'internalAddresses',
  never: 'neverRoute',
};

const commands: Command[] = [
  {
    name: 'login',
    summary: 'Sign in and store an API token (0600) in your config directory',
    usage:
      'ims login [--url URL] [--username NAME] [--password-stdin] [--scope write|read]\n       ims login --url URL --token ims_…',
    details:
      'Signs in with the user name and password, creates an API token named after this machine, signs the session out again, and stores the URL and token in $XDG_CONFIG_HOME/ims/config.json (default ~/.config/ims/config.json), readable only by you. With --token, checks and stores a token you already have. IMS_URL and IMS_TOKEN override the stored login.',
    examples: [
      'ims login --url http://127.0.0.1:8080',
      'printf %s "$ADMIN_PASSWORD" | ims login --username admin --password-stdin',
      'ims login --token "$IMS_TOKEN"',
    ],
    options: {
      username: { type: 'string', short: 'u' },
      'password-stdin': { type: 'boolean' },
      scope: { type: 'string' },
    },
    async run(ctx) {
      const scope = str(ctx.values.scope) ?? 'write';
      if (scope !== 'write' && scope !== 'read') {
        throw new CliError('--scope is write or read.', EXIT.usage);
      }
      const timeoutMs = timeoutOf(ctx.values);
      const given = str(ctx.values.token);
      if (given) {
        const who = await createApiClient({ baseUrl: ctx.url, token: given, timeoutMs }).whoami();
        const file = writeLogin(ctx.env.configFile, {
          url: ctx.url,
          token: given,
          username: who.user.username,
        });
        ctx.out(`Logged in to ${ctx.url} as ${who.user.username}; token stored in ${file}.`);
        return EXIT.ok;
      }
      const username = str(ctx.values.username) ?? 'admin';
      let password: string;
      if (ctx.values['password-stdin']) {
        password = (await ctx.io.readStdin()).replace(/\r?\n$/, '');
      } else if (ctx.io.promptSecret) {
        password = await ctx.io.promptSecret(`Password for ${username} at ${ctx.url}: `);
      } else {
        throw new CliError(
          'No terminal to ask for the password: use --password-stdin, or --token.',
          EXIT.usage,
        );
      }
      const anon = createApiClient({ baseUrl: ctx.url, timeoutMs });
      const session = await anon.login(username, password);
      const signedIn = createApiClient({
        baseUrl: ctx.url,
        cookie: session.cookie,
        csrfToken: session.csrfToken,
        timeoutMs,
      });
      const name = `ims-cli-${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${Date.now()}`.slice(
        0,
        100,
      );
      const created = await signedIn.tokens.create(name, scope);
      await signedIn.logout().catch(() => undefined);
      const file = writeLogin(ctx.env.configFile, {
        url: ctx.url,
        token: created.token,
        tokenId: created.id,
        username,
      });
      if (ctx.json) ctx.outJson({ url: ctx.url, username, tokenName: name, scope, file });
      else
        ctx.out(
          `Logged in to ${ctx.url} as ${username}; ${scope} token "${name}" stored in ${file}.`,
        );
      return EXIT.ok;
    },
  },
  {
    name: 'logout',
    summary: 'Revoke the stored token (when possible) and forget it',
    usage: 'ims logout',
    examples: ['ims logout'],
    async run(ctx) {
      const stored = readLogin(ctx.env.configFile);
      if (!stored) {
        ctx.out('Not logged in.');
        return EXIT.ok;
      }
      if (stored.tokenId !== undefined) {
        await createApiClient({ baseUrl: stored.url, token: stored.token, timeoutMs: 10_000 })
          .tokens.revoke(stored.tokenId)
          .catch(() => undefined);
      }
      removeLogin(ctx.env.configFile);
      ctx.out(`Logged out of ${stored.url}.`);
      return EXIT.ok;
    },
  },
  {
    name: 'whoami',
    summary: 'Who the token belongs to',
    usage: 'ims whoami [--json]',
    examples: ['ims whoami'],
    async run(ctx) {
      const who = await ctx.api().whoami();
      return ctx.show({ url: ctx.url, user: who.user }, () => `${who.user.username} at ${ctx.url}`);
    },
  },
  {
    name: 'status',
    summary: 'Saved version, pending restart, and every SMTP node',
    usage: 'ims status [--json]',
    examples: ['ims status', 'ims status --json | jq .pendingRestart'],
    async run(ctx) {
      const s = await ctx.api().service.status();
      return ctx.show(s, () => describeService(s));
    },
  },
  {
    name: 'routing get',
    summary: 'The saved routing configuration and its findings',
    usage: 'ims routing get [--json] [--config-only]',
    details:
      '--json prints the API document { version, savedAt, savedBy, config, findings }; --config-only with --json prints only the configuration document.',
    examples: [
      'ims routing get',
      'ims routing get --json > routing.json   # edit, then: ims routing set --file routing.json',
    ],
    options: { 'config-only': { type: 'boolean' } },
    async run(ctx) {
      const { data } = await ctx.api().routing.get();
      return ctx.show(ctx.values['config-only'] ? data.config : data, () => describeState(data));
    },
  },
  {
    name: 'routing set',
    summary: 'Save a configuration document from a file (- for stdin)',
    usage: 'ims routing set --file FILE [--ack FINDING]... [--comment TEXT] [--force]',
    details:
      'FILE holds a configuration document, or the output of `ims routing get --json`, or a PUT body { config, acknowledge?, comment? }. When it carries a `version` (from `routing get --json`), that version is sent as If-Match, so a change saved by someone else in between is a conflict (exit 4) instead of being overwritten; --force bases the save on the current version instead.',
    examples: [
      'ims routing get --json > routing.json && $EDITOR routing.json && ims routing set --file routing.json',
      'ims routing set --file draft.json --ack open-relay --comment "temporarily open for the migration"',
    ],
    options: { file: { type: 'string', short: 'f' }, force: { type: 'boolean' }, ...WRITE_OPTIONS },
    async run(ctx) {
      const file = str(ctx.values.file);
      if (!file) throw new CliError('routing set needs --file FILE (or --file -).', EXIT.usage);
      const doc = (await readJsonFile(ctx, file)) as Record<string, unknown> | null;
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
        throw new CliError(`${file} must hold a JSON object.`, EXIT.validation);
      }
      const config = (doc.config ?? doc) as RoutingConfig;
      const fileAcks = Array.isArray(doc.acknowledge) ? (doc.acknowledge as string[]) : [];
      const ack = [...fileAcks, ...(acks(ctx.values) ?? [])];
      const comment =
        str(ctx.values.comment) ?? (typeof doc.comment === 'string' ? doc.comment : undefined);
      const api = ctx.api();
      let ifMatch: string;
      if (typeof doc.version === 'number' && doc.config !== undefined && !ctx.values.force) {
        ifMatch = `"v${doc.version}"`;
      } else {
        ifMatch = (await api.routing.get()).etag;
      }
      const saved = await api.routing.put(
        {
          config,
          ...(ack.length > 0 ? { acknowledge: ack } : {}),
          ...(comment === undefined ? {} : { comment }),
        },
        ifMatch,
      );
      return ctx.show(saved.data, () => savedLine(saved.data, `configuration from ${file}`));
    },
  },
  {
    name: 'routing mode',
    summary: 'Reroute incoming SMTP mail, or not',
    usage: 'ims routing mode reroute|no-reroute [--ack FINDING] [--comment TEXT]',
    details:
      '"reroute" is "Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)": the routing table and the restrictions apply. "no-reroute" is "Do not reroute incoming SMTP mail".',
    examples: ['ims routing mode reroute', 'ims routing mode no-reroute --ack ndr-relay'],
    options: WRITE_OPTIONS,
    args: [1, 1],
    async run(ctx) {
      const mode = ctx.positionals[0];
      if (mode !== 'reroute' && mode !== 'no-reroute') {
        throw new CliError('The mode is reroute or no-reroute.', EXIT.usage);
      }
      return mutate(ctx, (c) => {
        c.rerouteMode = mode;
        return `mode ${mode}`;
      });
    },
  },
  {
    name: 'routing diff',
    summary: 'What changed between two versions (default: running → saved)',
    usage: 'ims routing diff [--from N|running] [--to N] [--json]',
    examples: ['ims routing diff', 'ims routing diff --from 3 --to 5'],
    options: { from: { type: 'string' }, to: { type: 'string' } },
    async run(ctx) {
      const fromText = str(ctx.values.from) ?? 'running';
      const from = fromText === 'running' ? 'running' : intArg(fromText, '--from');
      const toText = str(ctx.values.to);
      const d = await ctx.api().routing.diff({
        from,
        ...(toText === undefined ? {} : { to: intArg(toText, '--to') }),
      });
      if (ctx.json) ctx.outJson(d);
      else
        ctx.out(
          [
            `From version ${d.from} to version ${d.to}:`,
            ...(d.changes.length === 0
              ? ['  no changes']
              : d.changes.map((c) => `  ${c.kind.padEnd(6)} ${c.summary}`)),
          ].join('\n'),
        );
      return EXIT.ok;
    },
  },
  {
    name: 'route list',
    summary: 'The routing table',
    usage: 'ims route list [--json]',
    examples: ['ims route list'],
    async run(ctx) {
      const { data } = await ctx.api().routing.get();
      if (ctx.json) ctx.outJson(data.config.routes);
      else
        ctx.out(
          table(
            ['SENT TO', 'ROUTE TO'],
            data.config.routes.map((r) => [r.sentTo, r.routeTo]),
          ),
        );
      return EXIT.ok;
    },
  },
  {
    name: 'route add',
    summary: 'Add a routing table entry ("Sent to" → "Route to")',
    usage: 'ims route add SENT-TO ROUTE-TO [--replace] [--ack FINDING] [--comment TEXT]',
    details:
      'SENT-TO is a domain (matches it and its subdomains) or #domain (that domain only). ROUTE-TO is <inbound> (deliver locally) or host[:port]. A SENT-TO the table has already is refused (exit 4), as the Add dialog refuses it, unless --replace: then that entry gets the new ROUTE-TO.',
    examples: [
      "ims route add sales.example.com '<inbound>'",
      "ims route add '#partner.example' mail.partner.example:2525",
      'ims route add partner.example mx2.partner.example --replace',
    ],
    options: { ...WRITE_OPTIONS, replace: { type: 'boolean' } },
    args: [2, 2],
    async run(ctx) {
      const [sentTo = '', routeTo = ''] = ctx.positionals;
      const replace = ctx.values.replace === true;
      return mutate(ctx, (c) => {
        const existing = findRoute(c.routes, sentTo);
        if (existing && !replace) {
          throw new CliError(
            `${routeExistsMessage(existing.route)} Add --replace to route it to ${routeTo} instead.`,
            EXIT.conflict,
          );
        }
        if (existing) c.routes[existing.index] = { sentTo, routeTo };
        else c.routes.push({ sentTo, routeTo });
        return `route ${sentTo} → ${routeTo} ${existing ? 'replaced' : 'added'}`;
      });
    },
  },
  {
    name: 'route remove',
    summary: 'Remove the routing table entry for SENT-TO',
    usage: 'ims route remove SENT-TO [--ack FINDING] [--comment TEXT]',
    examples: ['ims route remove sales.example.com'],
    options: WRITE_OPTIONS,
    args: [1, 1],
    async run(ctx) {
      const sentTo = ctx.positionals[0] ?? '';
      return mutate(ctx, (c) => {
        const key = sentTo.trim().toLowerCase().replace(/\.$/, '');
        const before = c.routes.length;
        c.routes = c.routes.filter((r) => r.sentTo.toLowerCase() !== key);
        if (c.routes.length === before) {
          throw new CliError(`There is no route for "${sentTo}".`, EXIT.notFound);
        }
        return `route ${sentTo} removed`;
      });
    },
  },
  {
    name: 'restrict',
    summary: 'Routing Restrictions: each checkbox and list',
    usage: [
      'ims restrict                                   show the restrictions',
      'ims restrict authenticated on|off              "Hosts and clients that successfully authenticate"',
      'ims restrict clients on|off                    "Hosts and clients with these IP addresses"',
      'ims restrict clients add|remove IP [MASK]      its list (IP/len works too)',
      'ims restrict internal on|off                   "Hosts and clients connecting to these internal addresses"',
      'ims restrict internal add|remove IP [MASK]     its list',
      'ims restrict never add|remove IP [MASK]        "Hosts and clients that can never route mail"',
      'ims restrict reject-unknown on|off             reject unknown recipients at RCPT time',
    ].join('\n       '),
    details:
      'MASK is a dotted mask (255.255.255.0) or a prefix length (24); without one the entry is a single host. Every change is a new saved version (read-modify-write with If-Match); critical findings need --ack.',
    examples: [
      'ims restrict clients add 192.168.1.0 255.255.255.0',
      'ims restrict clients on',
      'ims restrict never add 10.9.9.9',
      'ims restrict authenticated off --ack open-relay',
      'ims restrict reject-unknown on',
    ],
    options: WRITE_OPTIONS,
    args: [0, 4],
    async run(ctx) {
      const [list, verb, ip, mask] = ctx.positionals;
      if (list === undefined) {
        const { data } = await ctx.api().routing.get();
        return ctx.show(data.config.restrictions, () =>
          describeConfig(data.config).split('\n').slice(-6).join('\n'),
        );
      }
      if (list === 'authenticated') {
        const on = onOff(verb, 'restrict authenticated');
        return mutate(ctx, (c) => {
          c.restrictions.authenticated = on;
          return `"successfully authenticate" ${on ? 'ticked' : 'cleared'}`;
        });
      }
      if (list === 'reject-unknown') {
        const on = onOff(verb, 'restrict reject-unknown');
        return mutate(ctx, (c) => {
          c.rejectUnknownRecipients = on;
          return `reject unknown recipients ${on ? 'on' : 'off'}`;
        });
      }
      const key = LIST_NAMES[list];
      if (!key) {
        throw new CliError(
          `Unknown restriction "${list}": authenticated, clients, internal, never or reject-unknown.`,
          EXIT.usage,
        );
      }
      if (verb === 'add' || verb === 'remove') {
        const entry = ipEntry(ip, mask);
        return mutate(ctx, (c) => {
          const r = c.restrictions;
          const entries = key === 'neverRoute' ? r.neverRoute : r[key].entries;
          const i = entries.findIndex((e) => sameEntry(e, entry));
          if (verb === 'add') {
            if (i >= 0)
              throw new CliError(
                `${entry.ip}/${entry.mask} is on the list already.`,
                EXIT.conflict,
              );
            entries.push(entry);
          } else {
            if (i < 0)
              throw new CliError(`${entry.ip}/${entry.mask} is not on the list.`, EXIT.notFound);
            entries.splice(i, 1);
          }
          return `${entry.ip}/${entry.mask} ${verb === 'add' ? 'added to' : 'removed from'} ${list}`;
        });
      }
      if (key === 'neverRoute') {
        throw new CliError('The never-route list has no checkbox: use add or remove.', EXIT.usage);
      }
      const on = onOff(verb, `restrict ${list}`);
      return mutate(ctx, (c) => {
        c.restrictions[key].enabled = on;
        return `"${list}" restriction ${on ? 'ticked' : 'cleared'}`;
      });
    },
  },
  {
    name: 'advise',
    summary: 'Security advisor findings for the saved configuration or a draft file',
    usage: 'ims advise [--file DRAFT.json] [--json]',
    examples: ['ims advise', 'ims advise --file draft.json --json'],
    options: { file: { type: 'string', short: 'f' } },
    async run(ctx) {
      const file = str(ctx.values.file);
      let findings: RoutingState['findings'];
      if (file) {
        const doc = (await readJsonFile(ctx, file)) as { config?: unknown } | null;
        findings = (await ctx.api().routing.advice(doc?.config ?? doc)).findings;
      } else {
        findings = (await ctx.api().routing.get()).data.findings;
      }
      return ctx.show({ findings }, () => describeFindings(findings));
    },
  },
  {
    name: 'impact',
    summary: 'Impact preview: what a draft would change for the traffic the nodes recorded',
    usage: 'ims impact FILE [--json]',
    details:
      "FILE (- for stdin) holds a configuration document, or the output of `ims routing get --json`. Every recorded RCPT decision of the nodes' window (IMS_TRAFFIC_WINDOW_DAYS) is judged by the version the node runs and by the draft; the rows whose action would change are listed, most transactions first. Nothing is saved.",
    examples: [
      'ims impact draft.json',
      'ims routing get --json > d.json && ims impact d.json --json',
    ],
    args: [1, 1],
    async run(ctx) {
      const file = ctx.positionals[0] as string;
      const doc = (await readJsonFile(ctx, file)) as { config?: unknown } | null;
      const draft = doc?.config ?? doc;
      const result = await ctx.api().routing.impact(draft);
      return ctx.show(result, () => describeImpact(result, draft as RoutingConfig));
    },
  },
  {
    name: 'evaluate',
    summary: 'What-if: the decision and SMTP reply for one recipient',
    usage:
      'ims evaluate --rcpt ADDRESS [--mail-from ADDRESS] [--client IP] [--server IP] [--auth]\n                    [--against saved|running|draft] [--file DRAFT.json] [--json]',
    details:
      'Defaults: --mail-from <> (null sender), --client 203.0.113.1 (an outside client), --server 127.0.0.1, not authenticated, against the saved configuration. --file implies --against draft.',
    examples: [
      'ims evaluate --rcpt victim@elsewhere.example --client 203.0.113.9',
      'ims evaluate --rcpt user@example.com --against running',
      'ims evaluate --rcpt x@partner.example --auth --file draft.json',
    ],
    options: {
      rcpt: { type: 'string' },
      'mail-from': { type: 'string' },
      client: { type: 'string' },
      server: { type: 'string' },
      auth: { type: 'boolean' },
      against: { type: 'string' },
      file: { type: 'string', short: 'f' },
    },
    async run(ctx) {
      const rcpt = str(ctx.values.rcpt);
      if (!rcpt) throw new CliError('evaluate needs --rcpt ADDRESS.', EXIT.usage);
      const file = str(ctx.values.file);
      const against = str(ctx.values.against) ?? (file ? 'draft' : 'saved');
      if (against !== 'saved' && against !== 'running' && against !== 'draft') {
        throw new CliError('--against is saved, running or draft.', EXIT.usage);
      }
      let config: unknown;
      if (against === 'draft') {
        if (!file) throw new CliError('--against draft needs --file DRAFT.json.', EXIT.usage);
        const doc = (await readJsonFile(ctx, file)) as { config?: unknown } | null;
        config = doc?.config ?? doc;
      }
      const r = await ctx.api().routing.evaluate({
        against,
        ...(config === undefined ? {} : { config }),
        clientIp: str(ctx.values.client) ?? '203.0.113.1',
        serverIp: str(ctx.values.server) ?? '127.0.0.1',
        authenticated: ctx.values.auth === true,
        mailFrom: path(str(ctx.values['mail-from']) ?? '<>'),
        rcptTo: path(rcpt),
      });
      if (ctx.json) ctx.outJson(r);
      else
        ctx.out(
          [
            `${r.reply.line}`,
            `Decision: ${r.decision.action} (${r.decision.reason})${
              r.version === undefined ? '' : `, version ${r.version}`
            }`,
            ...r.decision.trace.map((t) => `  ${t}`),
          ].join('\n'),
        );
      return EXIT.ok;
    },
  },
  {
    name: 'restart',
    summary: 'Restart the Internet Mail Service: every node applies the saved version',
    usage: 'ims restart [--rolling [--canary NAME]] [--wait] [--timeout SECONDS] [--json]',
    details:
      'With --rolling, one node at a time: the canary (--canary, default the first node by name) first, then the others by name; the rollout halts at the first node that cannot apply the version, and the nodes after it keep the version they run. With --wait, shows progress until every online node runs the saved version, or exits 1 with the error of a node that could not apply it (it keeps running the old version), or when --timeout (default 60 s; 300 s with --rolling) passes.',
    examples: [
      'ims restart --wait',
      'ims restart --rolling --canary edge-2 --wait',
      'ims restart --wait --json',
    ],
    options: {
      wait: { type: 'boolean', short: 'w' },
      rolling: { type: 'boolean' },
      canary: { type: 'string' },
    },
    async run(ctx) {
      const api = ctx.api();
      const canary = str(ctx.values.canary);
      if (canary !== undefined && !ctx.values.rolling) {
        throw new CliError('--canary goes with --rolling.', EXIT.usage);
      }
      let body: RestartBody | undefined;
      if (ctx.values.rolling) {
        const names = (await api.service.status()).nodes.map((n) => n.name).sort();
        if (canary !== undefined && !names.includes(canary)) {
          throw new CliError(`There is no node named ${canary}.`, EXIT.usage);
        }
        body = {
          strategy: 'rolling',
          order: canary === undefined ? names : [canary, ...names.filter((n) => n !== canary)],
        };
      }
      const result = await api.service.restart(body);
      if (!ctx.values.wait) {
        if (ctx.json) ctx.outJson(result);
        else
          ctx.out(
            body
              ? `Rolling restart to version ${result.version} started (${body.order?.join(', ')}).`
              : `Restart to version ${result.version} requested (${result.signalled} node(s) signalled${
                  result.coalesced ? ', joined a restart already under way' : ''
                }).`,
          );
        return EXIT.ok;
      }
      return body
        ? waitForRollout(ctx, api, result.version)
        : waitForRestart(ctx, api, result.version);
    },
  },
  {
    name: 'rollback',
    summary:
      'Roll back the latest restart: save a copy of the version the fleet ran before it and restart every node onto it',
    usage: 'ims rollback [--wait] [--timeout SECONDS] [--json]',
    details:
      'The new version is audited like every save ("Rolled back to version N"). With --wait, follows the restart as `ims restart --wait` does.',
    examples: ['ims rollback --wait'],
    options: { wait: { type: 'boolean', short: 'w' } },
    async run(ctx) {
      const api = ctx.api();
      const result = await api.service.rollback();
      const saved = `Saved version ${result.version} (a copy of version ${result.restoredFrom})`;
      if (!ctx.values.wait) {
        return ctx.show(result, () => `${saved}; ${result.signalled} node(s) signalled.`);
      }
      if (!ctx.json) ctx.io.stderr(`${saved}.\n`);
      return waitForRestart(ctx, api, result.version);
    },
  },
  {
    name: 'history',
    summary: 'Saved versions, newest first',
    usage: 'ims history [--limit N] [--json]',
    examples: ['ims history', 'ims history --limit 5 --json'],
    options: { limit: { type: 'string' } },
    async run(ctx) {
      const limitText = str(ctx.values.limit);
      const list = await ctx.api().routing.versions({
        ...(limitText === undefined ? {} : { limit: intArg(limitText, '--limit') }),
      });
      if (ctx.json) ctx.outJson(list);
      else
        ctx.out(
          table(
            ['VERSION', 'SAVED AT', 'SAVED BY', 'COMMENT'],
            list.versions.map((v) => [`v${v.version}`, v.savedAt, v.savedBy, v.comment ?? '']),
          ),
        );
      return EXIT.ok;
    },
  },
  {
    name: 'restore',
    summary: 'Save a new version equal to version N',
    usage: 'ims restore N [--ack FINDING]... [--comment TEXT] [--json]',
    details: 'The new version\'s comment is --comment, or "Restored version N".',
    examples: [
      'ims restore 3',
      'ims restore 3 --comment "back to the pre-migration rules" && ims restart --wait',
    ],
    options: WRITE_OPTIONS,
    args: [1, 1],
    async run(ctx) {
      const n = intArg(ctx.positionals[0], 'The version');
      const api = ctx.api();
      const { etag } = await api.routing.get();
      const ack = acks(ctx.values);
      const comment = str(ctx.values.comment);
      const saved = await api.routing.restore(n, etag, {
        ...(ack ? { acknowledge: ack } : {}),
        ...(comment === undefined ? {} : { comment }),
      });
      return ctx.show(saved.data, () => savedLine(saved.data, `restored version ${n}`));
    },
  },
  {
    name: 'export postfix',
    summary: "A saved version rendered as Postfix's files (main.cf, master.cf, lookup tables)",
    usage:
      'ims export postfix [--version N] [--out DIR] [--listen ADDR,ADDR] [--port N] [--smart-host HOST:PORT] [--myhostname NAME] [--sasl-socket PATH] [--json]',
    details:
      "For sites that deploy Postfix with configuration management (docs/postfix.md). The files expect a -c instance in /etc/postfix-ims. Without --version, the saved version; without --out, the files are printed. A version Postfix cannot express is refused with the reason (exit 1 with the console's problem).",
    examples: [
      'ims export postfix --out ./postfix-ims',
      'ims export postfix --version 7 --listen 192.0.2.10,192.0.2.11 --port 25 --sasl-socket /run/ims-postfix/auth --out /srv/ansible/files/postfix-ims',
      'ims export postfix --json | jq -r \'.files["main.cf"]\'',
    ],
    options: {
      version: { type: 'string' },
      out: { type: 'string' },
      listen: { type: 'string' },
      port: { type: 'string' },
      'smart-host': { type: 'string' },
      myhostname: { type: 'string' },
      'sasl-socket': { type: 'string' },
    },
    async run(ctx) {
      const api = ctx.api();
      const versionText = str(ctx.values.version);
      const n =
        versionText === undefined
          ? (await api.routing.get()).data.version
          : intArg(versionText, '--version');
      const portText = str(ctx.values.port);
      // Each option given becomes its query parameter; the others are left out.
      const given = (option: string, param: string) => {
        const value = str(ctx.values[option]);
        return value === undefined ? {} : { [param]: value };
      };
      const query = {
        ...given('listen', 'listen'),
        ...(portText === undefined ? {} : { port: intArg(portText, '--port') }),
        ...given('smart-host', 'smartHost'),
        ...given('myhostname', 'myhostname'),
        ...given('sasl-socket', 'saslSocket'),
      };
      const exported = await api.routing.exportPostfix(n, query);
      const names = Object.keys(exported.files).sort();
      const out = str(ctx.values.out);
      if (out !== undefined) {
        mkdirSync(out, { recursive: true });
        for (const name of names) {
          // The console names the files; never a path outside DIR.
          if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) {
            throw new CliError(`The console sent an unsafe file name "${name}".`, EXIT.failed);
          }
          writeFileSync(join(out, name), exported.files[name] ?? '');
        }
        return ctx.show(
          { version: exported.version, out, files: names },
          () =>
            `Wrote version ${exported.version} as ${names.length} files to ${out}: ${names.join(', ')}.`,
        );
      }
      return ctx.show(exported, () =>
        names.map((name) => `# ==> ${name} <==\n${exported.files[name] ?? ''}`).join('\n'),
      );
    },
  },
  {
    name: 'audit',
    summary: 'The audit log, newest first: who did what, in a sentence',
    usage:
      'ims audit [--limit N] [--action ACTION|FAMILY.] [--actor ACTOR] [--no-sign-ins] [--before ID] [--json]',
    details:
      'Each entry prints the summary the console writes for it ("Saved version 7: Added route partner.example → mx.partner.example"), who did it ("admin via token deploy" for a token) and from where. --action takes an action (routing.saved) or a family ending with a dot (routing.); --no-sign-ins leaves out sign-ins and sign-outs. --json prints the entries with their full details.',
    examples: [
      'ims audit --limit 20',
      'ims audit --action routing. --no-sign-ins',
      'ims audit --action routing.saved --json',
    ],
    options: {
      limit: { type: 'string' },
      action: { type: 'string' },
      actor: { type: 'string' },
      before: { type: 'string' },
      'no-sign-ins': { type: 'boolean' },
    },
    async run(ctx) {
      const limit = str(ctx.values.limit);
      const before = str(ctx.values.before);
      const action = str(ctx.values.action);
      const actor = str(ctx.values.actor);
      const page = await ctx.api().audit({
        ...(limit === undefined ? {} : { limit: intArg(limit, '--limit') }),
        ...(before === undefined ? {} : { before: intArg(before, '--before') }),
        ...(action === undefined ? {} : { action }),
        ...(actor === undefined ? {} : { actor }),
        ...(ctx.values['no-sign-ins'] === true ? { signIns: false } : {}),
      });
      if (ctx.json) ctx.outJson(page);
      else
        ctx.out(
          table(
            ['ID', 'AT', 'BY', 'FROM', 'ACTION', 'SUMMARY'],
            page.entries.map((e) => [String(e.id), e.at, e.by, e.source, e.action, e.summary]),
          ),
        );
      return EXIT.ok;
    },
  },
  {
    name: 'relay-test',
    summary: 'Open-relay self-test against the running SMTP service',
    usage: 'ims relay-test [--from 127.0.0.x] [--node ID] [--json]',
    details:
      'The console runs a battery of relay attempts (every address-trick family, the Q255695 NDR relay, and controls that must be accepted) against an online node, unauthenticated, from the loopback source address --from (default 127.0.0.1). Exits 0 when every case passed, 1 when any failed: a fail is what an external relay tester would flag.',
    examples: [
      'ims relay-test',
      'ims relay-test --from 127.0.0.2   # a source outside any allow list',
      "ims relay-test --json | jq '.cases[] | select(.passed | not)'",
    ],
    options: { from: { type: 'string' }, node: { type: 'string' } },
    async run(ctx) {
      const from = str(ctx.values.from);
      const node = str(ctx.values.node);
      const r = await ctx.api().service.relayTest({
        ...(from === undefined ? {} : { from }),
        ...(node === undefined ? {} : { node: intArg(node, '--node') }),
      });
      const failed = r.cases.filter((c) => !c.passed);
      if (ctx.json) ctx.outJson(r);
      else
        ctx.out(
          [
            ...(r.sourceMayRelay ? [`Note: ${r.sourceMayRelay}`] : []),
            `Relay test from ${r.from} against ${r.target.host}:${r.target.port}: ${r.summary}`,
            table(
              ['RESULT', 'CASE', 'MAIL FROM', 'RCPT TO', 'EXPECTED', 'REPLY'],
              r.cases.map((c) => [
                c.passed ? (r.sourceMayRelay && c.relayed ? 'allowed' : 'pass') : 'FAIL',
                c.id,
                c.mailFrom,
                c.rcptTo,
                c.expected,
                c.reply,
              ]),
            ),
            r.passed
              ? `All ${r.cases.length} cases passed.`
              : `${failed.length} of ${r.cases.length} cases FAILED: ${failed.map((c) => c.id).join(', ')}.`,
          ].join('\n'),
        );
      return r.passed ? EXIT.ok : EXIT.failed;
    },
  },
  {
    name: 'queue',
    summary: "The SMTP nodes' outbound queues: messages waiting for delivery",
    usage: 'ims queue [list] [--json]',
    details:
      'One row per queued message of every online node: its id, sender, the recipients still to be delivered, size, when it was queued, the attempts so far, the next attempt and the last error. Offline nodes are left out (their queues cannot be read). --json prints the API document { nodes: [{ name, messages }] }.',
    examples: ['ims queue', 'ims queue list --json | jq ".nodes[].messages[].lastError"'],
    args: [0, 1],
    async run(ctx) {
      const sub = ctx.positionals[0];
      if (sub !== undefined && sub !== 'list') {
        throw new CliError(
          `Unknown queue command "${sub}": ims queue [list], ims queue retry NODE ID, ims queue delete NODE ID [--ndr].`,
          EXIT.usage,
        );
      }
      const q = await ctx.api().queue.list();
      return ctx.show(q, () => describeQueue(q));
    },
  },
  {
    name: 'queue retry',
    summary: 'Try delivering one queued message now',
    usage: 'ims queue retry NODE ID [--json]',
    details:
      'NODE and ID are as `ims queue` lists them. The attempt runs on the node; `ims queue` shows how it went.',
    examples: ['ims queue retry local 1764403200000.P123Q1R4.mx'],
    args: [2, 2],
    async run(ctx) {
      const [node = '', id = ''] = ctx.positionals;
      await ctx.api().queue.retry(node, id);
      return ctx.show({ node, id, retried: true }, () => `Retrying ${id} on ${node} now.`);
    },
  },
  {
    name: 'queue delete',
    summary:
      'Delete one queued message (--ndr: return it to its sender with a non-delivery report)',
    usage: 'ims queue delete NODE ID [--ndr] [--json]',
    details:
      'Without --ndr the message is gone and nobody is told. With --ndr its sender gets a non-delivery report (RFC 3464) for the recipients still pending, as when delivery fails for good; a message from the null sender gets none.',
    examples: ['ims queue delete local 1764403200000.P123Q1R4.mx --ndr'],
    options: { ndr: { type: 'boolean' } },
    args: [2, 2],
    async run(ctx) {
      const [node = '', id = ''] = ctx.positionals;
      const ndr = ctx.values.ndr === true;
      await ctx.api().queue.remove(node, id, ndr);
      if (ctx.json) ctx.outJson({ node, id, deleted: true, ndr });
      else
        ctx.out(
          `Deleted ${id} from the queue of ${node}${ndr ? '; its sender gets a non-delivery report' : ''}.`,
        );
      return EXIT.ok;
    },
  },
  {
    name: 'node list',
    summary: 'Registered SMTP nodes',
    usage: 'ims node list [--json]',
    examples: ['ims node list'],
    async run(ctx) {
      const list = await ctx.api().nodes.list();
      return ctx.show(list, () => describeNodes(list.nodes));
    },
  },
  {
    name: 'node register',
    summary: 'Register an SMTP node running elsewhere; prints its token once',
    usage: 'ims node register NAME [--username NAME] [--password-stdin] [--json]',
    details:
      'A node token is a credential: only a signed-in user may mint one, so this asks for your password (or reads it from standard input with --password-stdin), signs in, registers, and signs out. Start the node with IMS_CONSOLE_URL=<this console> IMS_NODE_TOKEN=<the token> (see the README, "Attaching a node running elsewhere").',
    examples: [
      'ims node register edge-1',
      'printf %s "$ADMIN_PASSWORD" | ims node register edge-1 --password-stdin',
    ],
    options: SESSION_OPTIONS,
    args: [1, 1],
    async run(ctx) {
      const created = await withSession(ctx, (api) => api.nodes.register(ctx.positionals[0] ?? ''));
      if (ctx.json) ctx.outJson(created);
      else
        ctx.out(
          [
            `Registered node ${created.name} (id ${created.id}). Its token, shown only now:`,
            '',
            `    ${created.token}`,
            '',
            'Start it with:',
            `    IMS_CONSOLE_URL=${ctx.url} IMS_NODE_TOKEN=${created.token} pnpm --filter @ims/smtp start`,
          ].join('\n'),
        );
      return EXIT.ok;
    },
  },
  {
    name: 'node remove',
    summary: 'Deregister an SMTP node (its token stops working)',
    usage: 'ims node remove ID',
    examples: ['ims node remove 2'],
    args: [1, 1],
    async run(ctx) {
      const id = intArg(ctx.positionals[0], 'The node id');
      await ctx.api().nodes.remove(id);
      return ctx.show({ removed: id }, () => `Node ${id} removed.`);
    },
  },
  {
    name: 'token list',
    summary: 'API tokens: scope, who created them, last use, expiry (never their secrets)',
    usage: 'ims token list [--json]',
    examples: ['ims token list', 'ims token list --json | jq ".tokens[] | select(.expiresAt)"'],
    async run(ctx) {
      const list = await ctx.api().tokens.list();
      return ctx.show(list, () =>
        list.tokens.length === 0
          ? 'No tokens.'
          : table(
              ['ID', 'NAME', 'SCOPE', 'CREATED BY', 'CREATED', 'LAST USED', 'EXPIRES'],
              list.tokens.map((t) => [
                String(t.id),
                t.name,
                t.scope,
                t.createdBy,
                when(t.createdAt),
                when(t.lastUsedAt),
                t.expiresAt
                  ? `${when(t.expiresAt)}${Date.parse(t.expiresAt) <= Date.now() ? ' (expired)' : ''}`
                  : 'never',
              ]),
            ),
      );
    },
  },
  {
    name: 'token create',
    summary: 'Create an API token (signs in with your password); prints it once',
    usage:
      'ims token create NAME [--scope read|write] [--expires-in SECONDS] [--username NAME] [--password-stdin] [--json]',
    details:
      'Only a signed-in user may mint a token, so this asks for your password. The token is tied to the sign-in that made it only in that revoking that session (ims sessions revoke) revokes it; this command signs its session out normally, so the token stays until it is revoked or expires.',
    examples: [
      'ims token create deploy --scope write --expires-in 86400',
      'printf %s "$ADMIN_PASSWORD" | ims token create prometheus --scope read --password-stdin',
    ],
    options: { ...SESSION_OPTIONS, scope: { type: 'string' }, 'expires-in': { type: 'string' } },
    args: [1, 1],
    async run(ctx) {
      const scope = str(ctx.values.scope) ?? 'write';
      if (scope !== 'write' && scope !== 'read') {
        throw new CliError('--scope is write or read.', EXIT.usage);
      }
      const expiresText = str(ctx.values['expires-in']);
      const expiresIn =
        expiresText === undefined ? undefined : intArg(expiresText, '--expires-in (seconds)');
      const created = await withSession(ctx, (api) =>
        api.tokens.create(
          ctx.positionals[0] ?? '',
          scope,
          expiresIn === undefined ? {} : { expiresIn },
        ),
      );
      if (ctx.json) ctx.outJson(created);
      else
        ctx.out(
          [
            `Token ${created.name} (id ${created.id}, ${created.scope}${
              created.expiresAt ? `, expires ${when(created.expiresAt)}` : ''
            }). Shown only now:`,
            '',
            `    ${created.token}`,
          ].join('\n'),
        );
      return EXIT.ok;
    },
  },
  {
    name: 'token revoke',
    summary: 'Revoke an API token',
    usage: 'ims token revoke ID',
    examples: ['ims token revoke 3'],
    args: [1, 1],
    async run(ctx) {
      const id = intArg(ctx.positionals[0], 'The token id');
      await ctx.api().tokens.revoke(id);
      return ctx.show({ revoked: id }, () => `Token ${id} revoked.`);
    },
  },
  {
    name: 'sessions',
    summary: 'Signed-in sessions: created, last seen, client address, user agent',
    usage: 'ims sessions [--json]\n       ims sessions revoke ID',
    examples: ['ims sessions', 'ims sessions revoke 3f2a…'],
    async run(ctx) {
      const list = await ctx.api().sessions.list();
      return ctx.show(list, () =>
        list.sessions.length === 0
          ? 'No one is signed in.'
          : table(
              ['ID', 'USER', 'CREATED', 'LAST SEEN', 'ADDRESS', 'USER AGENT'],
              list.sessions.map((x) => [
                `${x.id}${x.current ? ' *' : ''}`,
                x.username,
                when(x.createdAt),
                when(x.lastSeenAt),
                x.clientAddress || '-',
                x.userAgent || '-',
              ]),
            ),
      );
    },
  },
  {
    name: 'sessions revoke',
    summary: 'Revoke a session, and the tokens created in it',
    usage: 'ims sessions revoke ID',
    examples: ['ims sessions revoke 3f2a9c0d1e2b3a4f5c6d7e8f'],
    args: [1, 1],
    async run(ctx) {
      const id = ctx.positionals[0] ?? '';
      const r = await ctx.api().sessions.revoke(id);
      return ctx.show(
        { revoked: id, ...r },
        () =>
          `Session ${id} revoked${r.revokedTokens > 0 ? `, with ${r.revokedTokens} token(s) created in it` : ''}.`,
      );
    },
  },
  {
    name: 'passwd',
    summary: 'Change your console password; your other sessions are signed out',
    usage: 'ims passwd [--username NAME] [--stdin]',
    details:
      'Asks for the current password and the new one twice. With --stdin, reads two lines from standard input: the current password, then the new one. Every other session of the user is signed out, and tokens made in those sessions are revoked; stored tokens from `ims login` keep working.',
    examples: ['ims passwd', 'printf "%s\\n%s\\n" "$OLD" "$NEW" | ims passwd --stdin'],
    options: { username: { type: 'string', short: 'u' }, stdin: { type: 'boolean' } },
    async run(ctx) {
      const username = str(ctx.values.username) ?? 'admin';
      let current: string;
      let next: string;
      if (ctx.values.stdin) {
        const [a, b] = (await ctx.io.readStdin()).split(/\r?\n/);
        if (!a || !b) {
          throw new CliError(
            '--stdin reads two lines: the current password, then the new one.',
            EXIT.usage,
          );
        }
        current = a;
        next = b;
      } else if (ctx.io.promptSecret) {
        current = await ctx.io.promptSecret(`Current password for ${username} at ${ctx.url}: `);
        next = await ctx.io.promptSecret('New password: ');
        if ((await ctx.io.promptSecret('New password again: ')) !== next) {
          throw new CliError('The two new passwords differ; nothing was changed.', EXIT.usage);
        }
      } else {
        throw new CliError('No terminal to ask for the passwords: use --stdin.', EXIT.usage);
      }
      const r = await withSession(ctx, (api) => api.changePassword(current, next), current);
      return ctx.show(
        { username, ...r },
        () =>
          `Password of ${username} changed; ${r.revokedSessions} other session(s) signed out${
            r.revokedTokens > 0 ? ` and ${r.revokedTokens} token(s) made in them revoked` : ''
          }.`,
      );
    },
  },
  {
    name: 'backup',
    summary: 'Save a consistent copy of the console database to FILE (restore: see the README)',
    usage: 'ims backup FILE',
    details:
      "Taken while the console runs, with SQLite's online backup API. The file holds password and token hashes: it is written readable only by you (0600). To restore: stop the console, copy the file to IMS_DATA_DIR/ims.db (removing any ims.db-wal and ims.db-shm), start it.",
    examples: ['ims backup /var/backups/ims-$(date +%F).db'],
    args: [1, 1],
    async run(ctx) {
      const file = ctx.positionals[0] ?? '';
      const bytes = await ctx.api().backup({ timeoutMs: timeoutOf(ctx.values, 300_000) });
      const partial = `${file}.partial-${process.pid}`;
      try {
        writeFileSync(partial, bytes, { mode: 0o600, flag: 'wx' });
        renameSync(partial, file);
      } catch (err) {
        rmSync(partial, { force: true });
        throw new CliError(`Cannot write ${file}: ${(err as Error).message}`, EXIT.failed);
      }
      return ctx.show(
        { file, bytes: bytes.length },
        () => `Backup written to ${file} (${bytes.length} bytes).`,
      );
    },
  },
];

// ---- restart --wait --------------------------------------------------------

function timeoutOf(values: Values, fallbackMs = 30_000): number {
  const t = str(values.timeout);
  if (t === undefined) return fallbackMs;
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) <= 0) {
    throw new CliError(`--timeout is a number of seconds, not "${t}".`, EXIT.usage);
  }
  return Number(t) * 1000;
}

/**
 * Follows a restart until the console says where it ended. The console owns
 * that answer (`service.restart`); this only shows it as it changes.
 */
async function waitForRestart(ctx: Ctx, api: ApiClient, version: number): Promise<number> {
  const deadline = Date.now() + timeoutOf(ctx.values, 60_000);
  const shown = new Map<number, string>();
  const progress = (text: string) => {
    if (!ctx.json) ctx.io.stderr(`${text}\n`);
  };
  progress(`Restarting to version ${version}…`);
  for (;;) {
    const s = await api.service.status();
    for (const n of s.nodes) {
      const line = `  ${n.name}: ${n.online ? n.state : 'offline'}, runs ${
        n.runningVersion === null ? 'nothing yet' : `v${n.runningVersion}`
      }`;
      if (shown.get(n.id) !== line) {
        shown.set(n.id, line);
        progress(line);
      }
    }
    const r = s.restart;
    const reached = r.targetVersion >= version;
    const failed = reached ? r.failed[0] : undefined;
    if (failed) {
      if (ctx.json) ctx.outJson({ version, done: false, service: s });
      const keeps = failed.runningVersion === null ? 'nothing' : `v${failed.runningVersion}`;
      throw new CliError(
        `Node ${failed.name} could not apply version ${r.targetVersion} and keeps running ${keeps}: ${failed.error}`,
        EXIT.failed,
      );
    }
    if (reached && r.noNodeOnline) {
      if (ctx.json) ctx.outJson({ version, done: false, service: s });
      throw new CliError(
        `No SMTP node is online: version ${version} applies when a node attaches.`,
        EXIT.failed,
      );
    }
    if (reached && r.state !== 'restarting' && r.behind.length === 0) {
      if (ctx.json) ctx.outJson({ version, done: true, service: s });
      else
        ctx.out(
          `Every online node runs version ${r.targetVersion}.${
            r.waitingFor.length > 0
              ? ` Offline (they apply it when they attach): ${r.waitingFor.join(', ')}.`
              : ''
          }`,
        );
      return EXIT.ok;
    }
    if (Date.now() > deadline) {
      if (ctx.json) ctx.outJson({ version, done: false, service: s });
      throw new CliError(`Timed out: ${r.summary}`, EXIT.failed);
    }
    await sleep(300);
  }
}

/**
 * Follows a rolling restart until the console says it is done or halted
 * (`service.rollout`; its sentence is `service.restart.summary`).
 */
async function waitForRollout(ctx: Ctx, api: ApiClient, version: number): Promise<number> {
  const deadline = Date.now() + timeoutOf(ctx.values, 300_000);
  let shown = '';
  for (;;) {
    const s = await api.service.status();
    const r = s.rollout;
    if (!r || r.version !== version) {
      throw new CliError(
        `Another restart replaced the rolling restart to version ${version}.`,
        EXIT.failed,
      );
    }
    if (!ctx.json && s.restart.summary !== shown) {
      shown = s.restart.summary;
      ctx.io.stderr(`${shown}\n`);
    }
    if (r.state === 'done') {
      if (ctx.json) ctx.outJson({ version, done: true, service: s });
      else ctx.out(`Version ${version} runs on ${r.done.join(', ')}.`);
      return EXIT.ok;
    }
    if (r.state === 'halted') {
      if (ctx.json) ctx.outJson({ version, done: false, service: s });
      const left = r.order.filter((n) => !r.done.includes(n) && n !== r.haltedAt);
      throw new CliError(
        `Halted: ${r.haltedAt ?? 'a node'} could not apply version ${version}: ${r.error ?? 'no reason given'}.${
          left.length > 0 ? ` Not restarted (they keep their version): ${left.join(', ')}.` : ''
        } To roll back: ims rollback --wait`,
        EXIT.failed,
      );
    }
    if (Date.now() > deadline) {
      if (ctx.json) ctx.outJson({ version, done: false, service: s });
      throw new CliError(`Timed out: ${s.restart.summary}`, EXIT.failed);
    }
    await sleep(300);
  }
}

// ---- dispatch and help -----------------------------------------------------

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let n = Math.min(words.length, 2); n >= 1; n--) {
    const name = words.slice(0, n).join(' ');
    const command = commands.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(n) };
  }
  return undefined;
}

function commandHelp(c: Command): string {
  return [
    `${c.summary}.`,
    '',
    `Usage: ${c.usage}`,
    ...(c.details ? ['', c.details] : []),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
    '',
    'Options for every command: --url URL, --token TOKEN, --json, --timeout SECONDS, --help',
  ].join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'ims: the IMS Routing Console from a terminal or a script.',
    '',
    'Usage: ims <command> [arguments] [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options: --url URL (or IMS_URL, default the stored login, else http://127.0.0.1:8080)',
    '         --token TOKEN (or IMS_TOKEN, default the token stored by ims login)',
    '         --json (stable machine-readable output), --timeout SECONDS, --help',
    '',
    'Examples:',
    '  ims login --url http://127.0.0.1:8080',
    '  ims status',
    '  ims restrict clients add 192.168.1.0/24 && ims restrict clients on',
    '  ims route add partner.example mail.partner.example',
    '  ims restart --wait',
    '  ims relay-test --from 127.0.0.2',
    '  ims history && ims restore 3',
    '',
    'Exit codes: 0 ok, 1 failed (relay found, node error, server error), 2 usage,',
    '            3 validation (400/422), 4 conflict (409/412/428), 5 auth (401/403),',
    '            6 network (unreachable or timeout), 7 not found (404).',
    '',
    'ims <command> --help shows the command with examples.',
  ].join('\n');
}

function reportError(err: unknown, io: Io, json: boolean): number {
  const code = exitCodeOf(err);
  if (json) {
    const error =
      err instanceof ApiProblem
        ? err.body
        : {
            title: (err as Error).message,
            ...(err instanceof ApiNetworkError ? { network: true } : {}),
          };
    io.stderr(`${JSON.stringify({ error, exitCode: code })}\n`);
    return code;
  }
  let text: string;
  if (err instanceof ApiProblem) {
    text = code === EXIT.conflict ? conflictMessage(err) : describeProblem(err.body);
    if (err.type === '/problems/unacknowledged-findings') {
      const ids = ((err.body.findings as { id: string }[] | undefined) ?? []).map((f) => f.id);
      text += `\nTo save anyway, acknowledge them: --ack ${ids.join(',')}`;
    }
    if (code === EXIT.auth && err.status === 401) {
      text += '\nSign in with: ims login (or set IMS_TOKEN).';
    }
  } else if (err instanceof ApiNetworkError || err instanceof CliError) {
    text = `error: ${err.message}`;
  } else {
    text = `error: ${(err as Error)?.stack ?? String(err)}`;
  }
  io.stderr(`${text}\n`);
  return code;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const wantsJson = argv.includes('--json');
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    const topic = argv[0] === 'help' ? findCommand(argv.slice(1)) : undefined;
    io.stdout(`${topic ? commandHelp(topic.command) : mainHelp()}\n`);
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  if (argv[0] === '--version') {
    io.stdout('ims 0.1.0\n');
    return EXIT.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr(
      `error: unknown command "${argv
        .filter((a) => !a.startsWith('-'))
        .slice(0, 2)
        .join(' ')}". See ims --help.\n`,
    );
    return EXIT.usage;
  }
  const { command, rest } = found;
  let values: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    values = parsed.values as Values;
    positionals = parsed.positionals;
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\nUsage: ${command.usage}\n`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout(`${commandHelp(command)}\n`);
    return EXIT.ok;
  }
  const [min, max] = command.args ?? [0, 0];
  if (positionals.length < min || positionals.length > max) {
    io.stderr(
      `error: ${command.name} takes ${min === max ? min : `${min} to ${max}`} argument(s).\nUsage: ${command.usage}\n`,
    );
    return EXIT.usage;
  }

  let env: CliEnv;
  try {
    env = readCliEnv(io.env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return EXIT.usage;
  }
  const stored = readLogin(env.configFile);
  const url = (str(values.url) ?? env.url ?? stored?.url ?? DEFAULT_URL).replace(/\/+$/, '');
  // The stored token goes only to the console it was issued by.
  const token =
    str(values.token) ??
    env.token ??
    (stored && stored.url.replace(/\/+$/, '') === url ? stored.token : undefined);
  const json = values.json === true;
  const ctx: Ctx = {
    values,
    positionals,
    io,
    env,
    json,
    url,
    api: () => {
      if (!token) {
        throw new CliError(
          `Not logged in to ${url}: run ims login, or set IMS_TOKEN (config: ${env.configFile}).`,
          EXIT.auth,
        );
      }
      return createApiClient({ baseUrl: url, token, timeoutMs: timeoutOf(values) });
    },
    out: (text) => io.stdout(`${text}\n`),
    outJson: (value) => io.stdout(`${JSON.stringify(value, null, 2)}\n`),
    show: (value, text) => {
      io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
      return EXIT.ok;
    },
  };
  try {
    return (await command.run(ctx)) ?? EXIT.ok;
  } catch (err) {
    return reportError(err, io, json || wantsJson);
  }
}
