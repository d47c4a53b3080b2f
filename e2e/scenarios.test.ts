/**
 * What the console sets is what SMTP clients get, and only after a restart:
 * the console and an SMTP node as real processes, a real SMTP client, and a
 * loopback sink for the outside world. One stack, the scenarios in order;
 * each starts from the defaults of a new install.
 *
 * The node listens on 127.0.0.1 and 127.0.0.4 (for the internal-address
 * restriction); clients connect from other loopback addresses.
 *
 * Every scenario runs against both engines (issue 12): the product's SMTP
 * node, and a private Postfix driven by apps/postfix-node (where Postfix is
 * installed). Postfix words its replies itself, so for it the code and the
 * enhanced code are asserted, not the text.
 */

import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import { until } from '@ims/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMail } from './smtp-wire';
import { ALICE, ENGINES, type Engine, Stack } from './stack';

describe.each(ENGINES)('%s engine', (engine: Engine) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ listen: ['127.0.0.1', '127.0.0.4'], engine });
  }, 300_000);
  afterAll(() => stack?.stop());

  const denied =
    engine === 'ims'
      ? '550 5.7.1 Relaying is prohibited'
      : expect.stringMatching(/^550 5\.7\.1 .*Relaying is prohibited$/);
  /** The reply to the end of DATA: the product's wording, or Postfix's queue id. */
  const dataAccepted =
    engine === 'ims'
      ? '250 2.6.0 Message accepted'
      : expect.stringMatching(/^250 2\.0\.0 Ok: queued as /);
  const accepted = /^250 2\.1\.5 /;
  const alice = { user: ALICE.address, pass: ALICE.password };

  /** Saves the defaults changed by `change`, and restarts the service onto it. */
  async function configure(change: (c: RoutingConfig) => void): Promise<number> {
    const version = await stack.save((config) => {
      Object.assign(config, defaultConfig('example.com'));
      change(config);
    });
    await stack.restart();
    return version;
  }

  const stranger = (to: string, localAddress = '127.0.0.3', host = '127.0.0.1') =>
    sendMail({
      port: stack.smtpPort,
      host,
      localAddress,
      from: 'someone@remote.example',
      to: [to],
    });

  describe('end to end over real SMTP', () => {
    it('(a) default install: a stranger gets 550 5.7.1; Alice authenticates, relays, and the sink gets it', async () => {
      expect((await stranger('victim@elsewhere.example')).rcpt).toEqual([denied]);
      const sent = await sendMail({
        port: stack.smtpPort,
        auth: alice,
        from: ALICE.address,
        to: ['bob@outside.example'],
        body: 'Subject: from Alice\r\n\r\nHello Bob.',
      });
      expect(sent.rcpt[0]).toMatch(accepted);
      expect(sent.data).toEqual(dataAccepted);
      const [m] = await stack.sink.waitFor(1);
      expect(m?.mailFrom).toBe(ALICE.address);
      expect(m?.rcptTo).toEqual(['bob@outside.example']);
      expect(m?.data.toString()).toContain('Hello Bob.');
    });

    it('(b, over the API) an IP-list change does nothing until the restart; then 127.0.0.2 relays and 127.0.0.3 does not', async () => {
      const version = await stack.save((c) => {
        Object.assign(c, defaultConfig('example.com'));
        c.restrictions.authenticated = false;
        c.restrictions.clientAddresses = {
          enabled: true,
          entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }],
        };
      });
      expect((await stack.service()).pendingRestart).toBe(true);
      expect((await stranger('v@elsewhere.example', '127.0.0.2')).rcpt).toEqual([denied]);
      await stack.restart();
      expect((await stack.service()).nodes[0]?.runningVersion).toBe(version);
      const before = stack.sink.messages.length;
      expect((await stranger('v@elsewhere.example', '127.0.0.2')).rcpt[0]).toMatch(accepted);
      expect((await stranger('v@elsewhere.example', '127.0.0.3')).rcpt).toEqual([denied]);
      // The relayed message reaches the next hop (and is not left to arrive during the next test).
      const [relayed] = (await stack.sink.waitFor(before + 1)).slice(before);
      expect(relayed?.rcptTo).toEqual(['v@elsewhere.example']);
    });

    it.runIf(engine === 'postfix')(
      '(c, Postfix) "Do not reroute" without rejection cannot be expressed: the restart fails, the previous version keeps running, /service shows the node\'s error',
      async () => {
        const running = (await stack.service()).nodes[0]?.runningVersion;
        const version = await stack.save((c) => {
          Object.assign(c, defaultConfig('example.com'));
          c.rerouteMode = 'no-reroute';
          c.rejectUnknownRecipients = false;
        });
        await stack.client.service.restart();
        const failed = await until(
          async () => {
            const s = await stack.service();
            return s.restart.state === 'failed' ? s : undefined;
          },
          180_000,
          'the restart to fail',
        );
        expect(failed.restart.failed).toEqual([
          {
            name: 'e2e',
            runningVersion: running,
            error: expect.stringMatching(
              new RegExp(`^Postfix cannot express version ${version}: `),
            ),
          },
        ]);
        expect(failed.nodes[0]).toMatchObject({ engine: 'postfix', state: 'error' });
        // Still the previous rules: a stranger may not relay.
        expect((await stranger('anyone@nowhere.example', '127.0.0.9')).rcpt).toEqual([denied]);
        await configure((c) => {
          c.rerouteMode = 'no-reroute';
          c.rejectUnknownRecipients = true;
        });
        expect((await stranger('anyone@nowhere.example', '127.0.0.9')).rcpt).toEqual([denied]);
        expect((await stack.service()).restart.state).toBe('idle');
      },
    );

    it.runIf(engine === 'ims')(
      '(c) "Do not reroute" without rejection reproduces the NDR relay of Q255695; with rejection the RCPT is refused',
      async () => {
        await configure((c) => {
          c.rerouteMode = 'no-reroute';
          c.rejectUnknownRecipients = false;
        });
        const before = stack.sink.messages.length;
        const sent = await sendMail({
          port: stack.smtpPort,
          localAddress: '127.0.0.9',
          from: 'victim@target.example',
          to: ['anyone@nowhere.example'],
          body: 'Subject: Cheap pills\r\n\r\nThe spam payload.',
        });
        expect(sent.rcpt[0]).toMatch(accepted);
        expect(sent.data).toEqual(dataAccepted);
        // The report, from the null sender (whatever else reaches the sink meanwhile).
        const ndr = await until(
          async () => stack.sink.messages.slice(before).find((m) => m.mailFrom === ''),
          30_000,
          'the NDR at the smart host',
        );
        expect(ndr?.mailFrom).toBe('');
        expect(ndr?.rcptTo).toEqual(['victim@target.example']);
        expect(ndr?.data.toString()).toMatch(/multipart\/report; report-type=delivery-status/);
        expect(ndr?.data.toString()).toContain('The spam payload.');

        await configure((c) => {
          c.rerouteMode = 'no-reroute';
          c.rejectUnknownRecipients = true;
        });
        expect((await stranger('anyone@nowhere.example', '127.0.0.9')).rcpt).toEqual([denied]);
      },
    );

    it('(d) internal addresses: only clients that connect to 127.0.0.4 may relay', async () => {
      await configure((c) => {
        c.restrictions.authenticated = false;
        c.restrictions.internalAddresses = {
          enabled: true,
          entries: [{ ip: '127.0.0.4', mask: '255.255.255.255' }],
        };
      });
      expect((await stranger('v@elsewhere.example', '127.0.0.3', '127.0.0.4')).rcpt[0]).toMatch(
        accepted,
      );
      expect((await stranger('v@elsewhere.example', '127.0.0.3', '127.0.0.1')).rcpt).toEqual([
        denied,
      ]);
    });

    it('(e) never-route beats authentication', async () => {
      await configure((c) => {
        c.restrictions.neverRoute = [{ ip: '127.0.0.5', mask: '255.255.255.255' }];
      });
      const attempt = (localAddress: string) =>
        sendMail({
          port: stack.smtpPort,
          localAddress,
          auth: alice,
          from: ALICE.address,
          to: ['bob@outside.example'],
        });
      expect((await attempt('127.0.0.5')).rcpt).toEqual([denied]);
      expect((await attempt('127.0.0.6')).rcpt[0]).toMatch(accepted);
    });

    it('(f) a route sends a subdomain to a second host; "#" stops the subdomain match', async () => {
      const partner = `127.0.0.1:${stack.partner.port}`;
      await configure((c) => {
        c.routes.push(
          { sentTo: 'partner.example', routeTo: partner },
          { sentTo: '#exact.example', routeTo: partner },
        );
      });
      const send = (to: string) =>
        sendMail({ port: stack.smtpPort, auth: alice, from: ALICE.address, to: [to] });
      const smartBefore = stack.sink.messages.length;
      expect((await send('x@sub.partner.example')).data).toMatch(/^250 /);
      expect((await send('y@exact.example')).data).toMatch(/^250 /);
      expect((await send('z@sub.exact.example')).data).toMatch(/^250 /);
      const got = await stack.partner.waitFor(2);
      expect(got.flatMap((m) => m.rcptTo).sort()).toEqual([
        'x@sub.partner.example',
        'y@exact.example',
      ]);
      // sub.exact.example matches no entry: it goes the default way, to the smart host.
      const smart = await stack.sink.waitFor(smartBefore + 1);
      expect(smart.at(-1)?.rcptTo).toEqual(['z@sub.exact.example']);
    });

    it('(g) Restore of an older version, then a restart, brings back the old behaviour', async () => {
      // An open relay (version n) over the defaults…
      const open = await configure((c) => {
        c.restrictions.authenticated = false;
      });
      expect((await stranger('v@elsewhere.example')).rcpt[0]).toMatch(accepted);
      // …then Restore version 1 (the defaults of the install).
      const etag = (await stack.api('GET', '/api/v1/routing')).headers.get('etag') ?? '';
      const restored = await stack.api<{ version: number }>(
        'POST',
        '/api/v1/routing/versions/1/restore',
        undefined,
        { 'if-match': etag },
      );
      expect(restored.status).toBe(200);
      expect(restored.body.version).toBe(open + 1);
      // Saved, not applied: still open until the restart.
      expect((await stranger('v@elsewhere.example')).rcpt[0]).toMatch(accepted);
      await stack.restart();
      expect((await stranger('v@elsewhere.example')).rcpt).toEqual([denied]);
    });
  });

  describe('the open-relay self-test', () => {
    type Result = { passed: boolean; cases: { id: string; passed: boolean; reply: string }[] };
    const relayTest = () =>
      stack.api<Result>('POST', '/api/v1/service/relay-test', { from: '127.0.0.7' });

    it('(h) passes on the default install, and detects the relay when no restriction is ticked', async () => {
      await configure(() => undefined);
      const clean = await relayTest();
      expect(clean.status).toBe(200);
      expect(clean.body.cases.filter((c) => !c.passed)).toEqual([]);
      expect(clean.body.passed).toBe(true);

      await configure((c) => {
        c.restrictions.authenticated = false;
      });
      const open = await relayTest();
      expect(open.body.passed).toBe(false);
      const failed = open.body.cases.filter((c) => !c.passed);
      expect(failed.length).toBeGreaterThan(0);
      // Each failing case is a relay the service accepted (on the wire, or in the
      // running configuration for an outside client).
      expect(failed.every((c) => /^(\(running configuration\) )?250 /.test(c.reply))).toBe(true);
    });
  });
});
