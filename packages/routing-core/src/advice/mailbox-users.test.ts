import { describe, expect, it } from 'vitest';
import { type AdviceCase, config, entries, expectCase } from '../testing/advice-cases';
import { mailboxUsers } from './mailbox-users';

const listOnly = config({
  restrictions: {
    authenticated: false,
    clientAddresses: { enabled: true, entries: entries('10.0.0.0/8') },
  },
});

const cases: AdviceCase[] = [
  { name: 'no mailboxes', doc: listOnly, expected: [] },
  {
    name: 'mailboxes, authenticate ticked',
    doc: config(),
    context: { mailboxCount: 3 },
    expected: [],
  },
  {
    name: 'mailboxes, only a client list ticked (Q279860)',
    doc: listOnly,
    context: { mailboxCount: 3 },
    expected: [
      {
        id: 'pop3-imap-users-lose-relay',
        severity: 'warning',
        reference: 'Q279860',
        message: expect.stringContaining('the 3 POP3/IMAP4 user(s)'),
      },
    ],
  },
  {
    name: 'mailboxes, nothing ticked (the open relay is said elsewhere)',
    doc: config({ restrictions: { authenticated: false } }),
    context: { mailboxCount: 3 },
    expected: [],
  },
  {
    name: 'mailboxes, "Do not reroute": reroute and tick authenticate in one fix',
    doc: config({ rerouteMode: 'no-reroute', restrictions: { authenticated: false } }),
    context: { mailboxCount: 1 },
    expected: [
      {
        id: 'pop3-imap-users-cannot-send',
        fix: {
          description:
            'Reroute incoming SMTP mail, and tick "Hosts and clients that successfully authenticate"',
          patch: [
            { op: 'replace', path: '/rerouteMode', value: 'reroute' },
            { op: 'replace', path: '/restrictions/authenticated', value: true },
          ],
        },
      },
    ],
  },
];

describe('mailboxUsers', () => {
  it.each(cases)('$name', (row) => expectCase(mailboxUsers, row));
});
