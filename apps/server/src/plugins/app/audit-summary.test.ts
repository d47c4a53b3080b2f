import { describe, expect, it } from 'vitest';
import { auditBy, type SummarySource, summarizeAudit } from './audit-summary';

describe('summarizeAudit', () => {
  const cases: [SummarySource, string][] = [
    [
      {
        action: 'routing.saved',
        target: 'routing:v4',
        details: {
          from: 3,
          to: 4,
          changes: [
            { summary: 'Added route partner.example → mx.partner.example' },
            { summary: 'Removed 10.9.9.9/255.255.255.255 from "never route"' },
          ],
        },
      },
      'Saved version 4: Added route partner.example → mx.partner.example; Removed 10.9.9.9/255.255.255.255 from "never route"',
    ],
    [
      { action: 'routing.saved', target: 'routing:v5', details: { from: 4, to: 5, changes: [] } },
      'Saved version 5: no changes',
    ],
    // An entry written before details had `to`: the target names the version.
    [{ action: 'routing.saved', target: 'routing:v6' }, 'Saved version 6: no changes'],
    [
      {
        action: 'routing.restored',
        target: 'routing:v7',
        details: { to: 7, restoredFrom: 2, changes: [{ summary: 'Site domain a → b' }] },
      },
      'Saved version 7 (version 2 restored): Site domain a → b',
    ],
    [
      {
        action: 'routing.rolled-back',
        target: 'routing:v9',
        details: { from: 8, to: 9, restoredFrom: 7, rolledBack: 8, changes: [] },
      },
      'Rolled back to version 7 as version 9 (rolling back version 8): no changes; every node restarted onto it',
    ],
    [
      {
        action: 'service.restart',
        target: 'routing:v8',
        details: { from: 7, to: 8, strategy: 'rolling', order: ['edge-1', 'edge-2'] },
      },
      'Restart requested: the nodes are to run version 8 one node at a time (edge-1, edge-2)',
    ],
    [
      { action: 'service.restart', target: 'routing:v8', details: { from: 7, to: 8 } },
      'Restart requested: the nodes are to run version 8',
    ],
    [
      {
        action: 'service.relay-test',
        target: 'node:local',
        details: { from: '127.0.0.3', passed: true },
      },
      'Relay test of node local from 127.0.0.3: passed',
    ],
    [
      {
        action: 'service.relay-test',
        target: 'node:local',
        details: { from: '127.0.0.2', passed: false, failed: ['plain-outside', 'percent-hack'] },
      },
      'Relay test of node local from 127.0.0.2: failed (2 case(s) not as expected)',
    ],
    [
      {
        action: 'queue.retried',
        target: 'queue:local/1795.P1.vm',
        details: {
          node: 'local',
          id: '1795.P1.vm',
          from: 'a@example.com',
          recipients: ['b@down.example'],
        },
      },
      'Retried the message from a@example.com to b@down.example on node local now',
    ],
    [
      {
        action: 'queue.deleted',
        target: 'queue:local/1795.P1.vm',
        details: {
          node: 'local',
          from: '',
          recipients: ['b@down.example'],
          ndr: false,
          ndrSent: false,
        },
      },
      'Deleted the message from <> to b@down.example on node local from the queue',
    ],
    [
      {
        action: 'queue.deleted',
        target: 'queue:local/1795.P1.vm',
        details: {
          node: 'local',
          from: 'a@example.com',
          recipients: ['b@down.example'],
          ndr: true,
          ndrSent: true,
        },
      },
      'Deleted the message from a@example.com to b@down.example on node local from the queue, with a non-delivery report to its sender',
    ],
    [
      {
        action: 'mailbox.created',
        target: 'mailbox:alice@example.com',
        details: { displayName: 'Alice' },
      },
      'Mailbox alice@example.com created (Alice)',
    ],
    [
      {
        action: 'mailbox.updated',
        target: 'mailbox:alice@example.com',
        details: { displayName: { from: 'Alice', to: 'Alice B.' }, passwordChanged: true },
      },
      'Mailbox alice@example.com updated: display name "Alice" → "Alice B."; password changed',
    ],
    [
      { action: 'mailbox.deleted', target: 'mailbox:bob@example.com' },
      'Mailbox bob@example.com deleted',
    ],
    [{ action: 'token.revoked', target: 'token:deploy' }, 'Token deploy revoked'],
    [
      { action: 'node.registered', target: 'node:local', details: { embedded: true } },
      'Node local registered (the embedded local node)',
    ],
    [{ action: 'node.removed', target: 'node:edge-2' }, 'Node edge-2 removed'],
    [
      { action: 'node.attached', target: 'node:edge-2', details: { runningVersion: 3 } },
      'Node edge-2 attached, running version 3',
    ],
    [
      { action: 'node.failed', target: 'node:edge-2', details: { error: 'bundle rejected' } },
      'Node edge-2 failed to load a version: bundle rejected',
    ],
    [
      { action: 'node.exited', target: 'node:local', details: { reason: 'exited with code 1' } },
      'Node local exited unasked (exited with code 1)',
    ],
    [
      { action: 'node.crash-loop', target: 'node:local', details: { reason: 'killed by SIGKILL' } },
      'Node local is crash-looping (last: killed by SIGKILL)',
    ],
    [{ action: 'login.failed' }, 'Sign-in refused: wrong user name or password'],
    [{ action: 'logout' }, 'Signed out'],
    // Actions this table does not know yet read as action and target.
    [{ action: 'future.thing', target: 'node:local' }, 'future.thing node:local'],
    [{ action: 'something.new' }, 'something.new'],
    // Details of an unexpected shape never throw.
    [{ action: 'routing.saved', details: 'garbage' }, 'Saved version ?: no changes'],
    [{ action: 'mailbox.updated', details: [1, 2] }, 'Mailbox (unknown) updated'],
  ];
  it.each(cases)('%j', (entry, summary) => {
    expect(summarizeAudit(entry)).toBe(summary);
  });
});

describe('auditBy', () => {
  it('names the person behind a token, and leaves users and nodes as they are', () => {
    expect(auditBy('token:deploy', 'admin')).toBe('admin via token deploy');
    expect(auditBy('token:deploy', undefined)).toBe('token deploy');
    expect(auditBy('admin', undefined)).toBe('admin');
    expect(auditBy('node:local', undefined)).toBe('node:local');
    expect(auditBy('system', undefined)).toBe('system');
  });
});
