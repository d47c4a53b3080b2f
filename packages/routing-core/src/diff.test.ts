import { describe, expect, it } from 'vitest';
import { defaultConfig } from './config';
import { diffConfigs } from './diff';

describe('diffConfigs', () => {
  const base = defaultConfig('example.com');

  it('no change, none reported; reordering is not a change', () => {
    expect(diffConfigs(base, base)).toEqual([]);
    const two = { ...base, routes: [...base.routes, { sentTo: 'a.example', routeTo: 'h' }] };
    const reordered = { ...two, routes: [...two.routes].reverse() };
    expect(diffConfigs(two, reordered)).toEqual([]);
  });

  it("reports each kind of change in the dialog's words", () => {
    const to = {
      ...base,
      rerouteMode: 'no-reroute' as const,
      routes: [
        { sentTo: 'example.com', routeTo: 'mail2.example.net' },
        { sentTo: 'b.example', routeTo: '<inbound>' },
      ],
      restrictions: {
        ...base.restrictions,
        authenticated: false,
        clientAddresses: { enabled: true, entries: [{ ip: '10.0.0.0', mask: '255.0.0.0' }] },
      },
    };
    expect(diffConfigs(base, to).map((c) => [c.kind, c.pointer, c.summary])).toEqual([
      ['change', '/rerouteMode', '"Do not reroute incoming SMTP mail" chosen'],
      ['change', '/routes/0/routeTo', 'Route example.com: <inbound> → mail2.example.net'],
      ['add', '/routes/1', 'Added route b.example → <inbound>'],
      [
        'change',
        '/restrictions/authenticated',
        '"Hosts and clients that successfully authenticate" unticked',
      ],
      [
        'change',
        '/restrictions/clientAddresses/enabled',
        '"Hosts and clients with these IP addresses" ticked',
      ],
      [
        'add',
        '/restrictions/clientAddresses/entries/0',
        'Added 10.0.0.0/255.0.0.0 to "Hosts and clients with these IP addresses"',
      ],
    ]);
    expect(diffConfigs(to, base).map((c) => c.kind)).toContain('remove');
  });
});
