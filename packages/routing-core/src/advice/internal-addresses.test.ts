import { describe, it } from 'vitest';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { internalAddresses } from './internal-addresses';

const internal = (...c: string[]) =>
  config({ restrictions: { internalAddresses: { enabled: true, entries: entries(...c) } } });

const cases: AdviceCase[] = [
  { name: 'listen addresses unknown', doc: internal('10.0.0.0/8'), expected: [] },
  {
    name: 'an entry the service does not listen in',
    doc: internal('127.0.0.2', '10.0.0.0/8'),
    context: { listenAddresses: ['127.0.0.1', '127.0.0.2'] },
    expected: [
      {
        id: 'internal-address-not-listening:/restrictions/internalAddresses/entries/1',
        severity: 'warning',
      },
    ],
  },
  {
    name: 'listen addresses from host:port pairs as nodes report them',
    doc: internal('127.0.0.2', '10.0.0.0/8'),
    context: { listen: ['127.0.0.1:2525', '127.0.0.2:2525'] },
    expected: [{ id: 'internal-address-not-listening:/restrictions/internalAddresses/entries/1' }],
  },
  {
    name: 'a wildcard listener: every address may be one of ours',
    doc: internal('10.0.0.0/8'),
    context: { listen: ['[::]:2525'] },
    expected: [],
  },
  {
    name: 'every listen address covered: every client that connects may relay',
    doc: internal('127.0.0.0/8'),
    context: { listenAddresses: ['127.0.0.1'] },
    expected: [{ id: 'internal-covers-every-listen-address', severity: 'critical' }],
  },
  {
    name: 'IPv4-mapped listen addresses are read as IPv4',
    doc: internal('127.0.0.0/8'),
    context: { listen: ['[::ffff:127.0.0.1]:2525'] },
    expected: [{ id: 'internal-covers-every-listen-address' }],
  },
  {
    name: 'one listen address outside the list',
    doc: internal('127.0.0.0/8'),
    context: { listenAddresses: ['127.0.0.1', '192.0.2.25'] },
    expected: [],
  },
  {
    name: 'unticked: nothing applies',
    doc: config({
      restrictions: { internalAddresses: { enabled: false, entries: entries('10.0.0.0/8') } },
    }),
    context: { listenAddresses: ['127.0.0.1'] },
    expected: [],
  },
];

describe('internalAddresses', () => {
  it.each(cases)('$name', (row) => expectCase(internalAddresses, row));
});
