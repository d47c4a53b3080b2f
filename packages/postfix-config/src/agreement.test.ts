/**
 * Agreement: for random configurations, a real Postfix running the
 * rendering answers each generated RCPT as routing-core's decide() does
 * (code and enhanced code), through the self-check's staging instance.
 * A few hundred probes in all, so it stays under a minute.
 */

import { join } from 'node:path';
import { defaultConfig, type IpEntry, type RoutingConfig } from '@ims/routing-core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PostfixRenderError, type PostfixTarget, renderPostfix } from './render';
import { selfCheck } from './self-check';
import { tempDir } from './testing/postfix-fixture';

const DOMAINS = ['example.com', 'a.test', 'b.a.test', 'c.b.a.test', 'test', 'other.test', 'ms.com'];
const IPS = ['198.51.100.7', '203.0.113.9', '127.0.0.1', '198.51.100.0'];

const ipEntry = fc.record({
  ip: fc.constantFrom(...IPS),
  mask: fc.constantFrom('255.255.255.255', '255.255.255.0', '255.255.0.0'),
});

const route = fc.record({
  sentTo: fc.tuple(fc.boolean(), fc.constantFrom(...DOMAINS)).map(([x, d]) => (x ? `#${d}` : d)),
  routeTo: fc.constantFrom('<inbound>', '192.0.2.10', '192.0.2.11:2525'),
});

function normalise(entries: IpEntry[]): IpEntry[] {
  // Network addresses, as validate() stores them (host bits cleared).
  return entries.map((e) => ({
    ip:
      e.mask === '255.255.255.255'
        ? e.ip
        : e.mask === '255.255.255.0'
          ? e.ip.replace(/\.\d+$/, '.0')
          : e.ip.replace(/\.\d+\.\d+$/, '.0.0'),
    mask: e.mask,
  }));
}

const configArb: fc.Arbitrary<RoutingConfig> = fc
  .record({
    reroute: fc.boolean(),
    routes: fc.array(route, { maxLength: 6 }),
    authenticated: fc.boolean(),
    clientOn: fc.boolean(),
    clients: fc.array(ipEntry, { maxLength: 2 }),
    internalOn: fc.boolean(),
    neverRoute: fc.array(ipEntry, { maxLength: 2 }),
    rejectUnknown: fc.boolean(),
  })
  .map((r) => {
    const c = defaultConfig('example.com');
    c.rerouteMode = r.reroute ? 'reroute' : 'no-reroute';
    c.routes = [...c.routes, ...r.routes];
    c.restrictions = {
      authenticated: r.authenticated,
      clientAddresses: { enabled: r.clientOn, entries: normalise(r.clients) },
      internalAddresses: {
        enabled: r.internalOn,
        entries: [{ ip: '127.0.0.2', mask: '255.255.255.255' }],
      },
      neverRoute: normalise(r.neverRoute),
    };
    // "Do not reroute" without recipient rejection is refused (tested below).
    c.rejectUnknownRecipients = r.rejectUnknown || !r.reroute;
    return c;
  });

const dirs: string[] = [];
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function target(dir: string): PostfixTarget {
  return {
    configDirectory: join(dir, 'live/etc'),
    queueDirectory: join(dir, 'live/queue'),
    dataDirectory: join(dir, 'live/data'),
    mailDirectory: join(dir, 'live/mail'),
    listen: [
      { host: '127.0.0.1', port: 25 },
      { host: '127.0.0.2', port: 25 },
    ],
    myhostname: 'agreement.test.invalid',
    saslSocket: join(dir, 'live/auth'),
  };
}

describe('the rendering agrees with routing-core', () => {
  it('over random configurations and envelopes, on a real Postfix', async () => {
    const directory = [{ address: 'alice@example.com' }, { address: 'bob@a.test' }];
    let checked = 0;
    let seed = 0;
    await fc.assert(
      fc.asyncProperty(configArb, async (config) => {
        const dir = tempDir('ims-postfix-agree-');
        dirs.push(dir);
        const result = await selfCheck(config, directory, target(dir), {
          workDir: join(dir, 'stage'),
          cases: 60,
          seed: ++seed,
          validate: false,
        });
        checked += result.checked;
        expect(result.disagreements).toEqual([]);
      }),
      { numRuns: 4, seed: 12, endOnFailure: true },
    );
    expect(checked).toBe(240);
  }, 300_000);

  it('refuses "Do not reroute" without recipient rejection (no open NDR relay)', () => {
    const c = defaultConfig('example.com');
    c.rerouteMode = 'no-reroute';
    c.rejectUnknownRecipients = false;
    expect(() => renderPostfix(c, [], target('/nonexistent'))).toThrow(PostfixRenderError);
    try {
      renderPostfix(c, [], target('/nonexistent'));
    } catch (err) {
      expect((err as PostfixRenderError).field).toBe('/rejectUnknownRecipients');
    }
  });
});
