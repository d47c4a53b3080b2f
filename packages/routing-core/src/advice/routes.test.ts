import { describe, it } from 'vitest';
import { type AdviceCase, config, expectCase } from '../testing/advice-cases';
import { routeDuplicates } from './routes';

const routes = (...pairs: [string, string][]) =>
  config({
    routes: [
      { sentTo: 'example.com', routeTo: '<inbound>' },
      ...pairs.map(([sentTo, routeTo]) => ({ sentTo, routeTo })),
    ],
  });

const cases: AdviceCase[] = [
  { name: 'the defaults', doc: config(), expected: [] },
  {
    name: 'listed again with another target: a warning, the second never applies',
    doc: routes(['ms.com', 'host1'], ['ms.com', 'host2']),
    expected: [
      {
        id: 'duplicate-route:/routes/2',
        severity: 'warning',
        reference: 'Q169683',
        fix: {
          description: 'Remove this "ms.com" entry',
          patch: [{ op: 'remove', path: '/routes/2' }],
        },
      },
    ],
  },
  {
    name: 'listed again with the same target: info',
    doc: routes(['ms.com', 'host1'], ['ms.com', 'host1']),
    expected: [{ id: 'duplicate-route:/routes/2', severity: 'info' }],
  },
  {
    name: '#d beside d is legal: info, no fix',
    doc: routes(['ms.com', 'host1'], ['#ms.com', '<inbound>']),
    expected: [{ id: 'exact-beside-plain:/routes/2', severity: 'info', pointer: '/routes/1' }],
  },
  {
    name: 'a subdomain routed like its parent changes nothing',
    doc: routes(['ms.com', 'host1'], ['sales.ms.com', 'host1'], ['x.ms.com', '<inbound>']),
    expected: [{ id: 'redundant-route:/routes/2', severity: 'info' }],
  },
  {
    name: 'a # entry routed like its parent changes nothing',
    doc: routes(['ms.com', 'host1'], ['#sales.ms.com', 'host1']),
    expected: [{ id: 'redundant-route:/routes/2' }],
  },
  {
    name: 'the nearest parent decides, not the broadest',
    doc: routes(['ms.com', 'host1'], ['x.ms.com', 'host2'], ['a.x.ms.com', 'host1']),
    expected: [],
  },
  {
    name: 'whole labels only: chelsea.com is not under sea.com',
    doc: routes(['sea.com', 'host1'], ['chelsea.com', 'host1']),
    expected: [],
  },
];

describe('routeDuplicates', () => {
  it.each(cases)('$name', (row) => expectCase(routeDuplicates, row));
});
