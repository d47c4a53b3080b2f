/**
 * The self-check: a rendering is started as a staging instance on loopback
 * ports (its own directories, XCLIENT allowed from 127.0.0.1), probed with
 * generated envelopes through `XCLIENT ADDR=… LOGIN=…`, and each RCPT reply
 * (code and enhanced code: Postfix words the text itself) compared with
 * what routing-core's decide() gives. The agent runs it before swapping a
 * version in; the agreement tests run it over random configurations.
 */

import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { decide, type RoutingConfig } from '@ims/routing-core';
import { PostfixInstance, prepareDirectories, validateRendering, writeRendering } from './instance';
import {
  isWildcard,
  type MailboxList,
  type PostfixTarget,
  postfixOwner,
  type RenderedPostfix,
  renderMaster,
  renderPostfix,
} from './render';
import { createSaslServer } from './sasl-server';
import { SmtpProbe } from './smtp-probe';

/** One probe: a session (client address, listener, authenticated) and one recipient. */
export interface ProbeCase {
  clientIp: string;
  /** Index into the target's listen list (the server address the client connected to). */
  listener: number;
  authenticated: boolean;
  mailFrom: string;
  rcptTo: string;
}

export interface Disagreement {
  probe: ProbeCase;
  /** routing-core's reply: `250 2.1.5`, `550 5.7.1`, … */
  expected: string;
  /** Postfix's reply line. */
  got: string;
}

export interface SelfCheckResult {
  checked: number;
  /** How many probes got each of routing-core's replies (`250 2.1.5`: 120, …). */
  tally: Record<string, number>;
  disagreements: Disagreement[];
}

export interface SelfCheckOptions {
  /** A scratch directory for the staging instance (created; removed afterwards). */
  workDir: string;
  /** Generated probes (default 200); `probes` adds fixed ones. */
  cases?: number;
  seed?: number;
  probes?: ProbeCase[];
  /**
   * Run validateRendering() on the staging copy first (default true). The
   * agent, having validated its own stage, may skip it: `postfix start`
   * checks the configuration again anyway.
   */
  validate?: boolean;
}

/** A port free on loopback now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A small seeded generator (mulberry32): the same seed, the same probes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickOne<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T;
}

/** Envelopes that exercise the configuration: its domains, their subdomains and look-alikes, its address lists. */
export function generateProbes(
  config: RoutingConfig,
  directory: MailboxList,
  listeners: number,
  opts: { count: number; seed: number; auth: boolean },
): ProbeCase[] {
  const rnd = seededRandom(opts.seed);
  const domains = new Set<string>([config.siteDomain, 'elsewhere.invalid']);
  for (const r of config.routes) {
    const d = r.sentTo.replace(/^#/, '');
    domains.add(d);
    domains.add(`sub.${d}`);
    domains.add(`a.b.${d}`);
    domains.add(`x${d}`);
    const dot = d.indexOf('.');
    if (dot > 0) domains.add(d.slice(dot + 1));
  }
  const locals = ['postmaster', 'nobody-here'];
  for (const m of directory) locals.push(m.address.split('@')[0] ?? 'x');
  const known = directory.map((m) => m.address);
  const r = config.restrictions;
  const ips = ['198.51.100.7', '203.0.113.9', '127.0.0.1'];
  for (const e of [...r.neverRoute, ...r.clientAddresses.entries]) {
    if (!e.ip.includes(':')) ips.push(e.ip);
  }
  const dl = [...domains];
  const out: ProbeCase[] = [];
  for (let i = 0; i < opts.count; i++) {
    const rcpt =
      rnd() < 0.15 && known.length > 0
        ? pickOne(rnd, known)
        : `${pickOne(rnd, locals)}@${pickOne(rnd, dl)}`;
    out.push({
      clientIp: pickOne(rnd, ips),
      listener: Math.floor(rnd() * listeners),
      authenticated: opts.auth && rnd() < 0.3,
      mailFrom: rnd() < 0.1 ? '<>' : '<sender@outside.invalid>',
      rcptTo: `<${rcpt}>`,
    });
  }
  return out;
}

function expectedReply(
  config: RoutingConfig,
  directory: MailboxList,
  target: PostfixTarget,
  p: ProbeCase,
): string {
  const host = target.listen[p.listener]?.host ?? '127.0.0.1';
  const { reply } = decide(
    config,
    {
      clientIp: p.clientIp,
      serverIp: isWildcard(host) ? '127.0.0.1' : host.replace(/^\[|\]$/g, ''),
      authenticated: p.authenticated,
      mailFrom: p.mailFrom,
      rcptTo: p.rcptTo,
    },
    directory.map((m) => m.address),
    { trace: false },
  );
  return `${reply.code} ${reply.enhanced}`;
}

/** The staging target: the target's listen hosts (they decide the relay classes), staging paths. */
function stagingTarget(target: PostfixTarget, workDir: string): PostfixTarget {
  return {
    ...target,
    configDirectory: join(workDir, 'etc'),
    queueDirectory: join(workDir, 'queue'),
    dataDirectory: join(workDir, 'data'),
    mailDirectory: join(workDir, 'mail'),
    logFile: join(workDir, 'postfix.log'),
    saslSocket: target.saslSocket === undefined ? undefined : join(workDir, 'auth'),
    xclientHosts: ['127.0.0.1'],
  };
}

/** A rendering as a staging instance: every listener moved to a loopback port, no error sleeps. */
function stagingRendering(
  rendered: RenderedPostfix,
  target: PostfixTarget,
  ports: number[],
): RenderedPostfix {
  const files = { ...rendered.files };
  files['master.cf'] = renderMaster({
    ...target,
    listen: ports.map((port) => ({ host: '127.0.0.1', port })),
  });
  files['main.cf'] =
    `${files['main.cf'] ?? ''}# Staging only: probes get many refusals in a row.\n` +
    'smtpd_error_sleep_time = 0\nsmtpd_soft_error_limit = 100000\nsmtpd_hard_error_limit = 100000\n';
  return { files };
}

async function runProbe(port: number, p: ProbeCase): Promise<string> {
  const { probe, greeting } = await SmtpProbe.open('127.0.0.1', port);
  try {
    if (greeting.code !== 220) return greeting.lines.join(' ');
    await probe.command('EHLO self-check.invalid');
    const addr = p.clientIp.includes(':') ? `IPV6:${p.clientIp}` : p.clientIp;
    const login = p.authenticated ? ' LOGIN=self-check' : '';
    const x = await probe.command(`XCLIENT ADDR=${addr} NAME=[UNAVAILABLE]${login}`);
    if (x.code !== 220) return `XCLIENT: ${x.lines.join(' ')}`;
    await probe.command('EHLO self-check.invalid');
    const mail = await probe.command(`MAIL FROM:${p.mailFrom}`);
    if (mail.code !== 250) return `MAIL: ${mail.lines.join(' ')}`;
    const rcpt = await probe.command(`RCPT TO:${p.rcptTo}`);
    return rcpt.lines[rcpt.lines.length - 1] ?? '';
  } finally {
    await probe.quit();
  }
}

/**
 * Starts the rendering of `config` for `target` as a staging instance and
 * compares its RCPT replies with routing-core's. Throws PostfixRenderError
 * when the version cannot be rendered, a PostfixCommandError when Postfix
 * rejects the rendering; otherwise returns what disagreed (none = pass).
 */
export async function selfCheck(
  config: RoutingConfig,
  directory: MailboxList,
  target: PostfixTarget,
  opts: SelfCheckOptions,
): Promise<SelfCheckResult> {
  const staging = stagingTarget(target, opts.workDir);
  const ports: number[] = [];
  for (const _ of target.listen) ports.push(await freePort());
  const rendered = stagingRendering(renderPostfix(config, directory, staging), staging, ports);
  await rm(opts.workDir, { recursive: true, force: true });
  await mkdir(opts.workDir, { recursive: true });
  const owner = target.mailOwner ?? postfixOwner();
  await prepareDirectories(staging, owner);
  await writeRendering(staging.configDirectory, rendered);
  if (opts.validate !== false) await validateRendering(staging.configDirectory);
  const sasl =
    staging.saslSocket === undefined
      ? undefined
      : createSaslServer({ socketPath: staging.saslSocket, verify: async () => false, owner });
  const instance = new PostfixInstance(staging.configDirectory);
  try {
    await sasl?.listen();
    await instance.start();
    const probes = [
      ...(opts.probes ?? []),
      ...generateProbes(config, directory, target.listen.length, {
        count: opts.cases ?? 200,
        seed: opts.seed ?? 1,
        auth: target.saslSocket !== undefined,
      }),
    ];
    const disagreements: Disagreement[] = [];
    const tally: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < probes.length) {
        const p = probes[next++] as ProbeCase;
        const expected = expectedReply(config, directory, target, p);
        tally[expected] = (tally[expected] ?? 0) + 1;
        const got = await runProbe(ports[p.listener] as number, p);
        if (!got.startsWith(`${expected} `)) disagreements.push({ probe: p, expected, got });
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return { checked: probes.length, tally, disagreements };
  } finally {
    await instance.stop();
    await sasl?.close();
    await rm(opts.workDir, { recursive: true, force: true });
  }
}
