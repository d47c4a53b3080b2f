import { describe, expect, it } from 'vitest';
import { type AdviceContext, advise, applyFix, type Finding } from './advise';
import { defaultConfig, type RoutingConfig } from './config';
import { validate } from './validate';

type ConfigPatch = Partial<Omit<RoutingConfig, 'restrictions'>> & {
  restrictions?: Partial<RoutingConfig['restrictions']>;
};

function config(patch: ConfigPatch = {}): RoutingConfig {
  const base = defaultConfig('example.com');
  return { ...base, ...patch, restrictions: { ...base.restrictions, ...patch.restrictions } };
}

function codes(findings: Finding[]): string[] {
  return findings.map((f) => f.code);
}

function only(findings: Finding[], code: string): Finding {
  const found = findings.filter((f) => f.code === code);
  expect(found, `one ${code} finding in ${JSON.stringify(codes(findings))}`).toHaveLength(1);
  return found[0] as Finding;
}

/** Applying a finding's fix makes that finding go away and leaves a valid document. */
function expectFixClears(doc: RoutingConfig, code: string, context?: AdviceContext) {
  const finding = only(advise(doc, context), code);
  expect(finding.fix).toBeDefined();
  const fixed = applyFix(doc, finding.fix!);
  expect(validate(fixed).ok).toBe(true);
  expect(codes(advise(fixed, context))).not.toContain(code);
}

describe('advise', () => {
  it('the defaults have no critical or warning finding', () => {
    expect(advise(defaultConfig('example.com'))).toEqual([]);
  });

  it('open relay: reroute on, no restriction ticked (Q260562)', () => {
    const doc = config({ restrictions: { authenticated: false } });
    const f = only(advise(doc), 'open-relay');
    expect(f).toMatchObject({ id: 'open-relay', severity: 'critical', reference: 'Q260562' });
    expectFixClears(doc, 'open-relay');
  });

  it('no open-relay finding when a criterion is ticked, even with an empty list', () => {
    const doc = config({
      restrictions: { authenticated: false, clientAddresses: { enabled: true, entries: [] } },
    });
    expect(codes(advise(doc))).not.toContain('open-relay');
    const empty = only(advise(doc), 'criterion-empty-list');
    // Unticking the only criterion would open the relay, so no one-click fix is offered.
    expect(empty.fix).toBeUndefined();
  });

  it('NDR relay: "Do not reroute" without recipient rejection (Q255695)', () => {
    const doc = config({ rerouteMode: 'no-reroute', rejectUnknownRecipients: false });
    expect(only(advise(doc), 'ndr-relay')).toMatchObject({
      severity: 'critical',
      reference: 'Q255695',
    });
    expectFixClears(doc, 'ndr-relay');
  });

  it('recipient rejection off in reroute mode is a warning', () => {
    const doc = config({ rejectUnknownRecipients: false });
    expect(only(advise(doc), 'unknown-recipients-accepted').severity).toBe('warning');
    expectFixClears(doc, 'unknown-recipients-accepted');
  });

  it('an allow entry covering everything', () => {
    const entries = [{ ip: '0.0.0.0', mask: '0.0.0.0' }];
    const on = config({ restrictions: { clientAddresses: { enabled: true, entries } } });
    expect(only(advise(on), 'allow-everything')).toMatchObject({
      severity: 'critical',
      pointer: '/restrictions/clientAddresses/entries/0',
    });
    expectFixClears(on, 'allow-everything');
    const off = config({ restrictions: { clientAddresses: { enabled: false, entries } } });
    expect(only(advise(off), 'allow-everything').severity).toBe('warning');
    const v6 = config({
      restrictions: { internalAddresses: { enabled: true, entries: [{ ip: '::', mask: '0' }] } },
    });
    expect(only(advise(v6), 'allow-everything').severity).toBe('critical');
  });

  it('site domain not <inbound>', () => {
    const missing = config({ routes: [{ sentTo: 'other.example', routeTo: '<inbound>' }] });
    expect(only(advise(missing), 'site-domain-not-inbound').severity).toBe('critical');
    expectFixClears(missing, 'site-domain-not-inbound');
    const rerouted = config({ routes: [{ sentTo: 'example.com', routeTo: 'mail2.example.net' }] });
    expectFixClears(rerouted, 'site-domain-not-inbound');
    const viaParent = config({ routes: [{ sentTo: 'com', routeTo: '<inbound>' }] });
    expect(codes(advise(viaParent))).not.toContain('site-domain-not-inbound');
  });

  it('duplicate, redundant and #d-beside-d routes', () => {
    const doc = config({
      routes: [
        { sentTo: 'example.com', routeTo: '<inbound>' },
        { sentTo: 'ms.com', routeTo: 'host1' },
        { sentTo: 'ms.com', routeTo: 'host2' },
        { sentTo: '#ms.com', routeTo: '<inbound>' },
        { sentTo: 'sales.ms.com', routeTo: 'host1' },
        { sentTo: 'x.ms.com', routeTo: '<inbound>' },
      ],
    });
    const f = advise(doc);
    expect(only(f, 'duplicate-route')).toMatchObject({ severity: 'warning', pointer: '/routes/2' });
    expect(only(f, 'exact-beside-plain')).toMatchObject({ severity: 'info' });
    expect(only(f, 'redundant-route')).toMatchObject({ severity: 'info', pointer: '/routes/4' });
    expectFixClears(doc, 'duplicate-route');
  });

  it('host bits set are reported as info (normalised)', () => {
    const doc = config({ restrictions: { neverRoute: [{ ip: '10.1.2.3', mask: '255.255.0.0' }] } });
    expect(only(advise(doc), 'host-bits-set')).toMatchObject({
      severity: 'info',
      pointer: '/restrictions/neverRoute/0',
    });
  });

  it('duplicate and contained address entries', () => {
    const doc = config({
      restrictions: {
        clientAddresses: {
          enabled: true,
          entries: [
            { ip: '10.0.0.0', mask: '255.0.0.0' },
            { ip: '10.1.0.0', mask: '255.255.0.0' },
            { ip: '10.0.0.0', mask: '8' },
          ],
        },
      },
    });
    const f = advise(doc);
    expect(only(f, 'duplicate-address').pointer).toBe('/restrictions/clientAddresses/entries/2');
    expect(only(f, 'redundant-address').pointer).toBe('/restrictions/clientAddresses/entries/1');
  });

  it('never-route entries that overlap allow entries', () => {
    const doc = config({
      restrictions: {
        clientAddresses: { enabled: true, entries: [{ ip: '192.168.0.0', mask: '16' }] },
        neverRoute: [
          { ip: '192.168.5.5', mask: '32' },
          { ip: '10.0.0.1', mask: '32' },
        ],
      },
    });
    expect(only(advise(doc), 'never-route-overlaps-allow').pointer).toBe(
      '/restrictions/neverRoute/0',
    );
  });

  it('internal addresses the service does not listen on', () => {
    const doc = config({
      restrictions: {
        internalAddresses: {
          enabled: true,
          entries: [
            { ip: '127.0.0.2', mask: '32' },
            { ip: '10.0.0.0', mask: '8' },
          ],
        },
      },
    });
    const f = advise(doc, { listenAddresses: ['127.0.0.1', '127.0.0.2'] });
    expect(only(f, 'internal-address-not-listening').pointer).toBe(
      '/restrictions/internalAddresses/entries/1',
    );
    expect(codes(advise(doc))).not.toContain('internal-address-not-listening');
    expect(codes(advise(doc, { listenAddresses: ['0.0.0.0'] }))).not.toContain(
      'internal-address-not-listening',
    );
  });

  it('POP3/IMAP4 users who would lose relay (Q279860)', () => {
    const doc = config({
      restrictions: {
        authenticated: false,
        clientAddresses: { enabled: true, entries: [{ ip: '10.0.0.0', mask: '8' }] },
      },
    });
    expect(codes(advise(doc))).not.toContain('pop3-imap-users-lose-relay');
    expect(only(advise(doc, { mailboxCount: 3 }), 'pop3-imap-users-lose-relay').reference).toBe(
      'Q279860',
    );
    expectFixClears(doc, 'pop3-imap-users-lose-relay', { mailboxCount: 3 });
    const noReroute = config({ rerouteMode: 'no-reroute' });
    expect(
      only(advise(noReroute, { mailboxCount: 3 }), 'pop3-imap-users-cannot-send').severity,
    ).toBe('warning');
  });

  it('an invalid draft gets critical findings with pointers, not an exception', () => {
    const doc = config({ routes: [{ sentTo: 'bad..domain', routeTo: '<inbound>' }] });
    expect(advise(doc)).toEqual([
      expect.objectContaining({
        code: 'invalid',
        severity: 'critical',
        pointer: '/routes/0/sentTo',
      }),
    ]);
  });

  it('most severe first; ids are unique', () => {
    const doc = config({
      rejectUnknownRecipients: false,
      restrictions: { authenticated: false, neverRoute: [{ ip: '10.1.2.3', mask: '16' }] },
    });
    const f = advise(doc);
    expect(f[0]?.severity).toBe('critical');
    expect(f.at(-1)?.severity).toBe('info');
    expect(new Set(f.map((x) => x.id)).size).toBe(f.length);
  });
});

describe('applyFix', () => {
  it('does not change its input', () => {
    const doc = config({ restrictions: { authenticated: false } });
    const before = JSON.stringify(doc);
    applyFix(doc, {
      description: 'x',
      patch: [{ op: 'replace', path: '/restrictions/authenticated', value: true }],
    });
    expect(JSON.stringify(doc)).toBe(before);
  });
  it('refuses a path that does not exist', () => {
    expect(() =>
      applyFix(config(), { description: 'x', patch: [{ op: 'remove', path: '/routes/7' }] }),
    ).toThrow();
  });
});

describe('regressions from the security review', () => {
  it('no offered fix, nor all of them together, opens a relay', () => {
    const cases: RoutingConfig[] = [
      config({ rerouteMode: 'no-reroute', restrictions: { authenticated: false } }),
      config({
        restrictions: {
          authenticated: false,
          clientAddresses: { enabled: true, entries: [] },
          internalAddresses: { enabled: true, entries: [] },
        },
      }),
    ];
    for (const doc of cases) {
      const findings = advise(doc, { mailboxCount: 5 });
      let all = doc;
      for (const f of findings) {
        if (!f.fix) continue;
        const one = applyFix(doc, f.fix);
        expect(codes(advise(one, { mailboxCount: 5 }))).not.toContain('open-relay');
        all = applyFix(all, f.fix);
      }
      expect(codes(advise(all, { mailboxCount: 5 }))).not.toContain('open-relay');
    }
  });

  it('the site-domain fix targets the entry that decides it (an exact # entry)', () => {
    const doc = config({
      routes: [
        { sentTo: 'example.com', routeTo: 'h1' },
        { sentTo: '#example.com', routeTo: 'h2' },
      ],
    });
    expectFixClears(doc, 'site-domain-not-inbound');
  });

  it('large overlapping lists: linear work, findings capped per kind', () => {
    const entries = (n: number, base: number) =>
      Array.from({ length: n }, (_, i) => ({ ip: `10.${base}.${i >> 8}.${i & 255}`, mask: '32' }));
    const doc = config({
      restrictions: {
        clientAddresses: {
          enabled: true,
          entries: [{ ip: '10.0.0.0', mask: '8' }, ...entries(3000, 1)],
        },
        neverRoute: entries(3000, 1),
      },
    });
    const f = advise(doc);
    expect(f.filter((x) => x.code === 'never-route-overlaps-allow')).toHaveLength(50);
    expect(only(f, 'never-route-overlaps-allow-more').message).toMatch(/2950 more/);
  });

  it('an internal list covering every listen address is an open relay', () => {
    const doc = config({
      restrictions: {
        internalAddresses: { enabled: true, entries: [{ ip: '127.0.0.0', mask: '8' }] },
      },
    });
    expect(
      only(advise(doc, { listenAddresses: ['127.0.0.1'] }), 'internal-covers-every-listen-address')
        .severity,
    ).toBe('critical');
    expect(codes(advise(doc, { listenAddresses: ['127.0.0.1', '192.0.2.25'] }))).not.toContain(
      'internal-covers-every-listen-address',
    );
  });

  it('an IPv6 never-route /0 says it covers IPv6 clients only', () => {
    const doc = config({ restrictions: { neverRoute: [{ ip: '::', mask: '0' }] } });
    expect(only(advise(doc), 'never-route-everything').message).toMatch(/every IPv6 client/);
  });
});
