import { describe, it } from 'vitest';
import { type AdviceCase, config, expectCase } from '../testing/advice-cases';
import { siteDomain } from './site-domain';

const cases: AdviceCase[] = [
  { name: 'the defaults', doc: config(), expected: [] },
  {
    name: 'no entry for the site domain: add one',
    doc: config({ routes: [{ sentTo: 'other.example', routeTo: '<inbound>' }] }),
    expected: [
      {
        id: 'site-domain-not-inbound',
        severity: 'critical',
        pointer: '/routes',
        fix: {
          description: 'Add example.com → <inbound>',
          patch: [
            {
              op: 'add',
              path: '/routes/0',
              value: { sentTo: 'example.com', routeTo: '<inbound>' },
            },
          ],
        },
      },
    ],
  },
  {
    name: 'the site domain rerouted: route that entry inbound',
    doc: config({ routes: [{ sentTo: 'example.com', routeTo: 'mail2.example.net' }] }),
    expected: [{ pointer: '/routes/0/routeTo' }],
  },
  {
    name: 'an exact # entry decides: it is the one fixed',
    doc: config({
      routes: [
        { sentTo: 'example.com', routeTo: 'h1' },
        { sentTo: '#example.com', routeTo: 'h2' },
      ],
    }),
    expected: [{ pointer: '/routes/1/routeTo' }],
  },
  {
    name: 'inbound through a parent entry',
    doc: config({ routes: [{ sentTo: 'com', routeTo: '<inbound>' }] }),
    expected: [],
  },
  {
    name: '"Do not reroute" does not use the table',
    doc: config({ rerouteMode: 'no-reroute', routes: [] }),
    expected: [],
  },
];

describe('siteDomain', () => {
  it.each(cases)('$name', (row) => expectCase(siteDomain, row));
});
