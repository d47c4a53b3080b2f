/** renderPostfix() as text: what it writes, without starting Postfix (postfix.test.ts does that). */

import { defaultConfig, type RoutingConfig } from '@ims/routing-core';
import { describe, expect, it } from 'vitest';
import { PostfixRenderError, type PostfixTarget, renderPostfix } from './render';
import { inboundDomainsTable, orderedRoutes, transportTable } from './tables';

const target: PostfixTarget = {
  configDirectory: '/srv/pf/etc',
  queueDirectory: '/srv/pf/queue',
  dataDirectory: '/srv/pf/data',
  mailDirectory: '/srv/pf/mail',
  listen: [
    { host: '192.0.2.1', port: 25 },
    { host: '192.0.2.2', port: 25 },
  ],
  myhostname: 'mx.example.com',
  mailOwner: { uid: 110, gid: 120 },
};

function q169683(): RoutingConfig {
  const c = defaultConfig('example.com');
  c.routes.push(
    { sentTo: 'ms.com', routeTo: 'host1.example.net' },
    { sentTo: '#ms.com', routeTo: '<inbound>' },
    { sentTo: 'x.ms.com', routeTo: '<inbound>' },
  );
  return c;
}

describe('renderPostfix', () => {
  it('writes master.cf from the target alone: the same for every version', () => {
    const a = renderPostfix(defaultConfig('example.com'), [], target);
    const c = q169683();
    c.restrictions.internalAddresses = {
      enabled: true,
      entries: [{ ip: '192.0.2.2', mask: '255.255.255.255' }],
    };
    c.rejectUnknownRecipients = false;
    const b = renderPostfix(c, [{ address: 'alice@example.com' }], target);
    expect(b.files['master.cf']).toBe(a.files['master.cf']);
    expect(a.files['main.cf']).not.toBe(b.files['main.cf']);
    expect(a.files['master.cf']).toContain(
      '192.0.2.2:25 inet n - n - - smtpd -o smtpd_relay_restrictions=$ims_relay_1',
    );
  });

  it('gives each listener its own class: only the internal address permits', () => {
    const c = defaultConfig('example.com');
    c.restrictions.internalAddresses = {
      enabled: true,
      entries: [{ ip: '192.0.2.2', mask: '255.255.255.255' }],
    };
    const main = renderPostfix(c, [], target).files['main.cf'] ?? '';
    const line = (n: number) => main.split('\n').find((l) => l.startsWith(`ims_relay_${n} =`));
    expect(line(0)).not.toContain('static:OK');
    expect(line(1)).toContain('check_client_access static:OK');
    for (const n of [0, 1]) expect(line(n)).toMatch(/, reject_unauth_destination$/);
    expect(main).toMatch(/^relay_domains =$/m);
    expect(main).toMatch(/^proxy_interfaces = 192\.0\.2\.1, 192\.0\.2\.2$/m);
  });

  it('orders the routing table as routing-core picks (Q169683)', () => {
    const rows = orderedRoutes(q169683().routes);
    expect(rows.map((r) => `${r.exact ? '#' : ''}${r.domain}`)).toEqual([
      'x.ms.com',
      '#ms.com',
      'example.com',
      'ms.com',
    ]);
    expect(transportTable(rows)).toContain('/(^|[.@])ms\\.com$/ smtp:[host1.example.net]\n');
    const inbound = inboundDomainsTable(rows);
    // The host route guards nothing after it here (no broader inbound entry): no if/endif.
    expect(inbound).not.toContain('if !');
    expect(inbound).toContain('/(^|@)ms\\.com$/ OK');
  });

  it('guards a broader inbound entry with the more specific host routes, unindented', () => {
    const c = defaultConfig('example.com');
    c.routes.push({ sentTo: 'sub.example.com', routeTo: 'relay.example.net:2525' });
    const table = renderPostfix(c, [], target).files['inbound_domains.regexp'] ?? '';
    expect(table).toBe(
      [
        "# Domains delivered here: the routing table's <inbound> entries.",
        'if !/(^|[.@])sub\\.example\\.com$/',
        '/(^|[.@])example\\.com$/ OK',
        'endif',
        '',
      ].join('\n'),
    );
  });

  it('refuses what Postfix cannot express, naming the field', () => {
    const noReroute = defaultConfig('example.com');
    noReroute.rerouteMode = 'no-reroute';
    noReroute.rejectUnknownRecipients = false;
    const internal = defaultConfig('example.com');
    internal.restrictions.internalAddresses = {
      enabled: true,
      entries: [{ ip: '192.0.2.2', mask: '255.255.255.255' }],
    };
    const wildcard = { ...target, listen: [{ host: '0.0.0.0', port: 25 }] };
    for (const [config, t, field] of [
      [noReroute, target, '/rejectUnknownRecipients'],
      [internal, wildcard, '/restrictions/internalAddresses'],
    ] as const) {
      let error: unknown;
      try {
        renderPostfix(config, [], t);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PostfixRenderError);
      expect((error as PostfixRenderError).field).toBe(field);
    }
    // Without the internal criterion a wildcard listener is fine.
    expect(renderPostfix(defaultConfig('example.com'), [], wildcard).files['master.cf']).toContain(
      '\n25 inet n - n - - smtpd',
    );
  });

  it('refuses a value that would add a line to main.cf', () => {
    expect(() =>
      renderPostfix(defaultConfig('example.com'), [], {
        ...target,
        myhostname: 'mx.example.com\nrelayhost = evil',
      }),
    ).toThrow(PostfixRenderError);
    expect(() =>
      renderPostfix(defaultConfig('example.com'), [], { ...target, smartHost: 'a b:25' }),
    ).toThrow(PostfixRenderError);
  });
});
