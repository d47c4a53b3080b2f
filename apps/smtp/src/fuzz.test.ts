/**
 * Fuzzing (a reliability battery: what no hand-written case thought of): fast-check properties of the address
 * parser, pure and at the wire, and of sessions driven with random command
 * sequences against the real node. The server must answer every line with a
 * well-formed reply, never relay for an unauthenticated client, never crash,
 * and let every session go.
 *
 * routing-core's path.test.ts already checks parsePath's own properties
 * (never throws, idempotent canonical form); these add what the node does
 * with the result.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { battery } from '@ims/reliability';
import { compile, decide, defaultConfig, evaluate, parsePath } from '@ims/routing-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpNode } from './smtp-node';
import { bundle, plain } from './testing/node-fixture';
import { RawSmtp } from './testing/smtp-client';
import { SmtpSink } from './testing/smtp-sink';

const record = battery({
  id: 'smtp-fuzz',
  title: 'Fuzzing: the address parser and random SMTP sessions (fast-check)',
  deliverable: 2,
  file: import.meta.filename,
});

/** IMS_FUZZ_SCALE=10 runs ten times as many cases (a longer local hunt; the suite uses 1). */
const SCALE = Number(process.env.IMS_FUZZ_SCALE ?? 1);

/** Runs a property, records its runs, fails the test with fast-check's report. */
async function property<Ts extends [unknown, ...unknown[]]>(
  id: string,
  prop: fc.IRawProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const out = await fc.check(prop, { numRuns: Math.round(numRuns * SCALE) });
  record.recordRuns(id, out.numRuns, out.failed ? out.numRuns - 1 : out.numRuns, 'fast-check');
  if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? 'property failed');
}

const SITE = 'example.com';
const policy = compile(defaultConfig(SITE));
const known = new Set(['alice@example.com', 'postmaster@example.com']);

/** Characters and pieces that steer parsers into their interesting branches. */
const piece = fc.constantFrom(
  ...'aZ09.@"\\<>[]:,%!-_ \t'.split(''),
  '\u0000',
  '\u007f',
  'ü',
  '\u3002',
  '\uff20',
  'IPv6:',
  '::1',
  '127.0.0.1',
  '192.0.2.1',
  'example.com',
  'EXAMPLE.COM.',
  'elsewhere.example',
  'alice',
  'Postmaster',
  'xn--',
);
const addressish = fc.oneof(
  fc.string({ unit: piece, maxLength: 30 }),
  fc
    .tuple(fc.string({ unit: piece, maxLength: 12 }), fc.string({ unit: piece, maxLength: 12 }))
    .map(([l, d]) => `${l}@${d}`),
  fc
    .tuple(
      fc.constantFrom('', '@example.com:', '@[127.0.0.1]:', '"'),
      fc.constantFrom('victim', 'alice', 'a%b', 'x!y', '"v@elsewhere.example"'),
      fc.constantFrom('@', '%', '!', '@@'),
      fc.constantFrom(
        'elsewhere.example',
        'example.com',
        '[127.0.0.1]',
        '[192.0.2.1]',
        'EXAMPLE.com.',
      ),
      fc.constantFrom('', '@example.com', '@elsewhere.example', '.', '"'),
    )
    .map((parts) => parts.join('')),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
);
/** Command-line safe: a CR or LF would only start another command. */
const noLineBreaks = (s: string) => s.replace(/[\r\n]/g, '');

let sink: SmtpSink;
let node: SmtpNode;
let port = 0;
let dataDir = '';

beforeAll(async () => {
  sink = await SmtpSink.start();
  dataDir = mkdtempSync(join(tmpdir(), 'ims-fuzz-'));
  node = new SmtpNode({
    listen: ['127.0.0.1'],
    port: 0,
    dataDir,
    hostname: 'mx.example.com',
    drainTimeoutMs: 500,
    smartHost: { host: sink.host, port: sink.port },
    queue: { retryScheduleMs: [100], connectionTimeoutMs: 2000 },
    // The properties below probe the parser hundreds of times in one
    // session: the per-session error limits and recipient cap (which
    // bad-input.test.ts and limits/limits.test.ts check) would end them.
    sessionLimits: { softErrorLimit: 0, hardErrorLimit: 0 },
    maxRecipients: 100_000,
  });
  await node.start(bundle(1));
  port = Number(node.listening[0]?.split(':').at(-1));
});

afterAll(async () => {
  await node?.stop();
  await sink?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the address parser', () => {
  it('pure: parsePath never throws, and no input lets an unauthenticated client relay', async () => {
    await property(
      'parser-pure-no-relay',
      fc.property(addressish, fc.boolean(), (raw, bracket) => {
        const path = bracket ? `<${raw}>` : raw;
        const parsed = parsePath(path, { allowPostmaster: true });
        expect(typeof parsed.ok).toBe('boolean');
        const d = evaluate(
          policy,
          {
            clientIp: '192.0.2.99',
            serverIp: '127.0.0.1',
            authenticated: false,
            mailFrom: '<tester@remote.example>',
            rcptTo: path,
            isKnownRecipient: (a) => known.has(a.toLowerCase()),
          },
          { trace: false },
        );
        expect(d.action).not.toBe('relay');
        expect(d.action).not.toBe('accept-ndr');
        // Whatever is delivered is one of the two local mailboxes.
        if (d.action === 'deliver') expect(known.has(String(d.mailbox).toLowerCase())).toBe(true);
      }),
      3000,
    );
  });

  it('at the wire: a RCPT accepted from a stranger is always a local mailbox', async () => {
    let c: RawSmtp | undefined;
    const fresh = async () => {
      c?.close();
      c = await RawSmtp.open(port, '127.0.0.1', '127.0.0.3');
      expect(await c.reply()).toMatch(/^220 /);
      expect(await c.cmd('EHLO fuzz.example')).toMatch(/^250/);
    };
    await fresh();
    try {
      await property(
        'parser-wire-local-only',
        fc.asyncProperty(addressish, fc.boolean(), async (raw, bracket) => {
          if (!c || c.isClosed) await fresh();
          const s = c as RawSmtp;
          expect(await s.cmd('RSET')).toMatch(/^250 /);
          expect(await s.cmd('MAIL FROM:<tester@remote.example>')).toMatch(/^250 /);
          const rcpt = noLineBreaks(bracket ? `<${raw}>` : raw);
          const reply = await s.cmd(`RCPT TO:${rcpt}`);
          expect(reply).toMatch(/^[245]\d\d[ -]/);
          if (reply.startsWith('250')) {
            // The engine agrees it is local delivery, never relaying.
            const d = evaluate(
              policy,
              {
                clientIp: '127.0.0.3',
                serverIp: '127.0.0.1',
                authenticated: false,
                mailFrom: '<tester@remote.example>',
                rcptTo: rcpt.trim().startsWith('<') ? rcpt.trim() : `<${rcpt.trim()}>`,
                isKnownRecipient: (a) => known.has(a.toLowerCase()),
              },
              { trace: false },
            );
            expect(d.action, `${rcpt} → ${reply}`).toBe('deliver');
          } else {
            expect(reply, rcpt).toMatch(/^5\d\d /);
          }
        }),
        500,
      );
    } finally {
      c?.close();
    }
  }, 60_000);
});

describe('the node and the what-if agree', () => {
  it("RCPT: the wire reply's class is the what-if's, for every mix of route, local part and domain", async () => {
    const c = await RawSmtp.open(port, '127.0.0.1', '127.0.0.5');
    try {
      expect(await c.reply()).toMatch(/^220 /);
      await c.cmd('EHLO agree.example');
      const route = fc.constantFrom(
        '',
        '@a.example:',
        '@a.example,@b.example:',
        '@[192.0.2.1]:',
        '@bad_hop:',
      );
      const local = fc.constantFrom(
        ...['alice', 'Alice', 'postmaster', '"alice"', 'a.b', '"a b"', '"a@b"', 'a%b', 'x!y'],
        ...['"a\\"b"', 'a+b', "o'neil", 'a..b', '.a', 'a.', 'ålice', ''],
      );
      const domain = fc.constantFrom(
        ...['example.com', 'EXAMPLE.COM', 'example.com.', 'x.example.com', '[127.0.0.1]'],
        ...['[IPv6:::1]', '[IPv6:::ffff:127.0.0.1]', 'bücher.example', 'xn--bcher-kva.example'],
        ...['elsewhere.example', 'example.com..', '-a.example', 'a_b.example', '[127.000.0.1]'],
        ...[
          '[IPv6:0:0:0:0:0:0:0:1]',
          'localhost',
          '',
          'example.com.elsewhere.example',
          '[192.0.2.1]',
        ],
      );
      await property(
        'wire-agrees-with-what-if',
        fc.asyncProperty(route, local, domain, async (r, l, d) => {
          const path = `<${r}${l}@${d}>`;
          await c.cmd('RSET');
          await c.cmd('MAIL FROM:<tester@remote.example>');
          const wire = await c.cmd(`RCPT TO:${path}`);
          const whatIf = decide(
            policy,
            {
              clientIp: '127.0.0.5',
              serverIp: '127.0.0.1',
              authenticated: false,
              mailFrom: '<tester@remote.example>',
              rcptTo: path,
            },
            known,
            { trace: false },
          ).reply;
          expect(wire.slice(0, 1), `${path}: ${wire} vs what-if ${whatIf.code}`).toBe(
            String(whatIf.code).slice(0, 1),
          );
        }),
        400,
      );
    } finally {
      c.close();
    }
  }, 60_000);
});

describe('regressions found by the fuzzer', () => {
  it('a source route is judged by routing-core: the node answers what the what-if answers', async () => {
    const c = await RawSmtp.open(port, '127.0.0.1', '127.0.0.4');
    try {
      expect(await c.reply()).toMatch(/^220 /);
      await c.cmd('EHLO regress.example');
      const rows = [
        '<@[127.0.0.1]:alice@example.com>',
        '<@a.example,@[192.0.2.1]:alice@example.com>',
        '<@bad_domain:alice@example.com>',
        '<@a.example:alice@example.com>',
        '<@a.example,@b.example:postmaster@example.com>',
        '<@[127.0.0.1]:victim@elsewhere.example>',
        '<@a.example:victim@elsewhere.example>',
      ];
      for (const rcpt of rows) {
        await record.check(
          `regression: RCPT TO:${rcpt}`,
          async () => {
            await c.cmd('RSET');
            expect(await c.cmd('MAIL FROM:<tester@remote.example>')).toMatch(/^250 /);
            const wire = await c.cmd(`RCPT TO:${rcpt}`);
            const whatIf = decide(
              policy,
              {
                clientIp: '127.0.0.4',
                serverIp: '127.0.0.1',
                authenticated: false,
                mailFrom: '<tester@remote.example>',
                rcptTo: rcpt,
              },
              known,
              { trace: false },
            ).reply;
            expect(wire.slice(0, 9), rcpt).toBe(`${whatIf.code} ${whatIf.enhanced}`);
          },
          'fast-check',
        );
      }
      expect(await c.cmd('RSET')).toMatch(/^250 /);
      expect(await c.cmd('MAIL FROM:<@[127.0.0.1]:tester@remote.example>')).toMatch(
        /^501 5\.1\.7 /,
      );
    } finally {
      c.close();
    }
  });
});

// Random sessions: a step is one command (and, after a 354, a body).
type Step = { line: string } | { data: string } | { bytes: Buffer };

const goodAuth = `AUTH PLAIN ${plain('alice@example.com', 'alice-password')}`;
const single: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom('EHLO fuzz.example', 'HELO fuzz.example', 'EHLO', 'EHLO [127.0.0.1]')
      .map((line) => ({ line })),
  },
  {
    weight: 5,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          '<tester@remote.example>',
          '<>',
          '<alice@example.com>',
          '<a b@c>',
          '<x@[127.0.0.1]>',
        ),
        addressish.map(noLineBreaks),
      )
      .chain((from) =>
        fc
          .constantFrom('', ' SIZE=100', ' BODY=8BITMIME', ' AUTH=<alice@example.com>', ' X=1')
          .map((p) => ({ line: `MAIL FROM:${from}${p}` })),
      ),
  },
  {
    weight: 6,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          '<alice@example.com>',
          '<postmaster@example.com>',
          '<Postmaster>',
          '<v@elsewhere.example>',
          '<nobody@example.com>',
          '<v%elsewhere.example@example.com>',
        ),
        addressish.map((a) => `<${noLineBreaks(a)}>`),
      )
      .map((to) => ({ line: `RCPT TO:${to}` })),
  },
  { weight: 3, arbitrary: fc.constant({ line: 'DATA' }) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        'Subject: fuzz\r\n\r\nbody',
        '',
        'Subject: bare\n\nlf\n.\nMAIL FROM:<x@y.example>\nRCPT TO:<v@elsewhere.example>',
        '..leading dot\r\n.\r\nstill body',
        'Subject: cr\r.\rRSET',
        `Received: x\r\n`.repeat(3),
      )
      .map((data) => ({ data })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('RSET', 'NOOP', 'VRFY alice', 'HELP', 'QUIT', 'STARTTLS', 'BDAT 1 LAST')
      .map((line) => ({ line })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        goodAuth,
        `AUTH PLAIN ${plain('alice@example.com', 'wrong')}`,
        'AUTH PLAIN %%%',
        'AUTH LOGIN',
        '*',
        'AUTH XOAUTH2 abc',
      )
      .map((line) => ({ line })),
  },
  {
    weight: 2,
    arbitrary: fc
      .string({ unit: 'binary-ascii', maxLength: 60 })
      .map((s) => ({ line: noLineBreaks(s) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 80 })
      .map((b) => ({ bytes: Buffer.concat([Buffer.from(b), Buffer.from('\r\n')]) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(`NOOP ${'x'.repeat(5000)}`, 'GET / HTTP/1.0')
      .map((line) => ({ line })),
  },
);

/** Whole transactions, so that random sessions reach DATA and beyond. */
const transaction: fc.Arbitrary<Step[]> = fc
  .tuple(
    fc.constantFrom('<tester@remote.example>', '<>', '<alice@example.com>'),
    fc.array(
      fc.constantFrom(
        '<alice@example.com>',
        '<Postmaster>',
        '<v@elsewhere.example>',
        '<nobody@example.com>',
        '<friend@outside.example>',
      ),
      { minLength: 1, maxLength: 4 },
    ),
    fc.constantFrom(
      'Subject: t\r\n\r\nbody',
      'Subject: smuggle\r\n\r\nx\n.\nRCPT TO:<v@elsewhere.example>\nDATA\ny',
      '',
    ),
  )
  .chain((t) => fc.boolean().map((auth) => [auth, ...t] as const))
  .map(([auth, from, rcpts, data]) => [
    ...(auth ? [{ line: goodAuth }] : []),
    { line: `MAIL FROM:${from}` },
    ...rcpts.map((to) => ({ line: `RCPT TO:${to}` })),
    { line: 'DATA' },
    { data },
  ]);
const sessionSteps: fc.Arbitrary<Step[]> = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: single.map((s) => [s]) },
        { weight: 1, arbitrary: transaction },
      ),
      {
        minLength: 1,
        maxLength: 15,
      },
    ),
  )
  .map(([ehlo, groups]) => [...(ehlo ? [{ line: 'EHLO fuzz.example' }] : []), ...groups.flat()]);

let client = 0;
/** Messages accepted (250 after DATA) in sessions that authenticated: the most that may go outside. */
let authenticatedMessages = 0;
/** What the random sessions did, for the record. */
const seen = {
  commands: 0,
  replies: { '2': 0, '3': 0, '4': 0, '5': 0 } as Record<string, number>,
  closedByServer: 0,
  transient: {} as Record<string, number>,
};
/** One random session; returns a problem, or undefined when every reply was right. */
async function runSession(steps: Step[]): Promise<string | undefined> {
  client = (client % 200) + 1;
  const c = await RawSmtp.open(port, '127.0.0.1', `127.0.2.${client}`);
  try {
    if (!(await c.reply()).startsWith('220 ')) return 'no greeting';
    let authenticated = false;
    let inData = false;
    for (const s of steps) {
      if (c.isClosed) break;
      let reply: string;
      if ('data' in s) {
        if (!inData) continue;
        c.write(`${s.data}\r\n.\r\n`);
        inData = false;
      } else if ('bytes' in s) {
        if (inData) continue;
        c.writeBytes(s.bytes);
      } else {
        if (inData) continue;
        c.write(`${s.line}\r\n`);
      }
      seen.commands++;
      // Each line ending is a line to the server, with its own reply: random
      // bytes may hold several (a stray LF), and every reply is read and judged.
      const lines = 'bytes' in s ? s.bytes.filter((byte) => byte === 0x0a).length : 1;
      for (let k = 0; k < lines; k++) {
        try {
          reply = await c.reply(8000);
        } catch (err) {
          if (c.isClosed) {
            seen.closedByServer++;
            break;
          }
          return `no reply to ${JSON.stringify(s).slice(0, 80)}: ${String(err)}`;
        }
        const code = Number(reply.slice(0, 3));
        const cls = reply.slice(0, 1);
        seen.replies[cls] = (seen.replies[cls] ?? 0) + 1;
        if (cls === '4') {
          const key = reply.slice(0, 9).trim();
          seen.transient[key] = (seen.transient[key] ?? 0) + 1;
        }
        // 451 4.3.0 is what a hook answers when something threw inside the node: never expected here.
        if (reply.startsWith('451 ')) return `an internal error surfaced: ${reply}`;
        if (!/^\d{3}([ -]|$)/.test(reply) || code < 200 || code > 599)
          return `malformed reply ${reply}`;
        if (code === 354) inData = true;
        if (code === 235) authenticated = true;
        if ('data' in s && code === 250 && authenticated) authenticatedMessages++;
        if ('line' in s && /^RCPT TO:/i.test(s.line) && code === 250 && !authenticated) {
          const to = s.line.slice(8).trim();
          const d = evaluate(
            policy,
            {
              clientIp: `127.0.2.${client}`,
              serverIp: '127.0.0.1',
              authenticated: false,
              mailFrom: '<tester@remote.example>',
              rcptTo: to.startsWith('<') ? to : `<${to}>`,
              isKnownRecipient: (a) => known.has(a.toLowerCase()),
            },
            { trace: false },
          );
          if (d.action !== 'deliver') return `a stranger's RCPT ${to} was accepted: ${reply}`;
        }
      }
      if ('line' in s && s.line === 'QUIT') break;
    }
    return undefined;
  } finally {
    c.close();
  }
}

describe('random SMTP sessions', () => {
  it('regression: a stray LF/CR, an over-long NOOP, then RCPT TO:<@> and an empty line', async () => {
    expect(
      await runSession([
        { bytes: Buffer.from([10, 13, 10]) },
        { line: `NOOP ${'x'.repeat(5000)}` },
        { line: 'RCPT TO:<@>' },
        { line: '' },
      ]),
    ).toBeUndefined();
  });

  it('every line gets a well-formed reply, no stranger relays, and the server keeps answering', async () => {
    await property(
      'random-sessions',
      fc.asyncProperty(sessionSteps, async (steps) => {
        expect(await runSession(steps)).toBeUndefined();
        // A fresh connection is still greeted and answered.
        const probe = await RawSmtp.open(port);
        try {
          expect(await probe.reply()).toMatch(/^220 /);
          expect(await probe.cmd('EHLO probe.example')).toMatch(/^250/);
        } finally {
          probe.close();
        }
      }),
      150,
    );
    record.note(
      `random sessions: ${seen.commands} commands sent; replies 2xx ${seen.replies['2']}, 3xx ${seen.replies['3']}, 4xx ${seen.replies['4']}, 5xx ${seen.replies['5']} (4xx: ${Object.entries(
        seen.transient,
      )
        .map(([k, v]) => `${k} ×${v}`)
        .join(
          ', ',
        )}); ${seen.closedByServer} sessions closed by the server; ${authenticatedMessages} messages from authenticated sessions, ${sink.messages.length} reached the smart host.`,
    );
  }, 300_000);

  it('afterwards: no session is left behind, and only authenticated mail went outside', async () => {
    await record.check(
      'random-sessions-no-leaks',
      async () => {
        const inner = (node as unknown as { state: { sessions: Map<string, unknown> } }).state;
        const deadline = Date.now() + 10_000;
        while (inner.sessions.size > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        expect(inner.sessions.size).toBe(0);
        await node.settled();
        await node.queue.idle();
        // Only a session that authenticated may have sent mail outside.
        expect(sink.messages.length).toBeLessThanOrEqual(authenticatedMessages);
      },
      'project',
    );
  }, 30_000);
});
