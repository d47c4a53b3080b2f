import { describe, expect, it } from 'vitest';
import type { AdviceContext } from '../advise';
import { advise } from '../advise';
import { type AdviceCase, config, expectCase } from '../testing/advice-cases';
import { routeLoops } from './loops';

const to = (routeTo: string) =>
  config({
    routes: [
      { sentTo: 'example.com', routeTo: '<inbound>' },
      { sentTo: 'partner.example', routeTo },
    ],
  });
const node: AdviceContext = { listen: ['127.0.0.1:2525'], httpPort: 8080 };
const loop = {
  id: 'route-loop:/routes/1/routeTo',
  code: 'route-loop',
  severity: 'critical' as const,
};
const internal = { code: 'route-internal-target', severity: 'warning' as const };

function row(
  routeTo: string,
  context: AdviceContext,
  expected: AdviceCase['expected'],
): AdviceCase {
  return {
    name: `${routeTo} with ${JSON.stringify(context)}`,
    doc: to(routeTo),
    context,
    expected,
  };
}

const cases: AdviceCase[] = [
  // 1. This SMTP service, in any spelling.
  row('localhost:2525', node, [
    {
      ...loop,
      pointer: '/routes/1/routeTo',
      reference: 'RFC 5321 §6.3',
      message: expect.stringContaining('this SMTP service itself'),
    },
  ]),
  row('LOCALHOST.:2525', node, [loop]),
  row('mx.localhost:2525', node, [loop]),
  row('127.0.0.1:2525', node, [loop]),
  row('[127.0.0.1]:2525', node, [loop]),
  row('127.0.0.2:2525', node, [loop]),
  row('[::1]:2525', node, [loop]),
  row('[::ffff:127.0.0.1]:2525', node, [loop]),
  row('[IPv6:0:0:0:0:0:0:0:1]:2525', node, [loop]),
  row('0.0.0.0:2525', node, [loop]),
  row('localhost', { listen: ['0.0.0.0:25'] }, [loop]),
  row('192.0.2.5:2525', { listen: ['192.0.2.5:2525'] }, [loop]),
  row('192.0.2.5:2525', { listenAddresses: ['192.0.2.5'], smtpPorts: [2525] }, [loop]),
  row('127.0.0.1:2525', { smtpPorts: [2525] }, [loop]),
  // Loopback on the SMTP port, but the service listens only on another address.
  row('127.0.0.1:2525', { listen: ['192.0.2.5:2525'] }, []),
  // 2. The console's HTTP port.
  row('localhost:8080', node, [
    { code: 'route-to-console', severity: 'critical', reference: 'docs/design.md §4' },
  ]),
  row('192.0.2.5:8080', { listen: ['192.0.2.5:2525'], httpPort: 8080 }, [
    { code: 'route-to-console' },
  ]),
  row('mail.example.net:8080', node, []),
  // 3. Loopback, link-local and unspecified next hops: a warning unless written explicitly.
  row('127.0.0.1:10025', node, []),
  row('127.0.0.1', node, [{ ...internal, message: expect.stringContaining('on port 25') }]),
  row('localhost:10025', node, [internal]),
  row('169.254.169.254', node, [{ ...internal, reference: 'RFC 6890' }]),
  row('169.254.1.1:25', node, []),
  row('[fe80::1]', node, [internal]),
  row('0.0.0.0:10025', node, [internal]),
  row('localhost', {}, [internal]),
  // Ordinary hosts.
  row('mail.example.net:2525', node, []),
  row('192.0.2.7:2525', node, []),
  row('[2001:db8::25]:2525', node, []),
];

describe('routeLoops', () => {
  it.each(cases)('$name', (r) => expectCase(routeLoops, r));

  it('"Do not reroute" does not use the table: nothing to say', () => {
    const doc = { ...to('localhost:2525'), rerouteMode: 'no-reroute' as const };
    expectCase(routeLoops, { name: 'no-reroute', doc, context: node, expected: [] });
  });

  it('a loop to self needs an acknowledgement', () => {
    const f = advise(to('localhost:2525'), node);
    expect(f[0]).toMatchObject({ id: 'route-loop:/routes/1/routeTo', severity: 'critical' });
  });
});
