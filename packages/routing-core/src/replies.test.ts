import { describe, expect, it } from 'vitest';
import type { Action, Reason } from './evaluate';
import { formatReply, REPLIES, replyFor, START_MAIL_INPUT } from './replies';

describe('replyFor', () => {
  it.each([
    ['deliver', 'local-delivery', '250 2.1.5 Accepted'],
    ['deliver', 'postmaster', '250 2.1.5 Accepted'],
    ['relay', 'relay-authenticated', '250 2.1.5 Accepted'],
    ['accept-ndr', 'no-reroute', '250 2.1.5 Accepted'],
    ['accept-ndr', 'unknown-recipient', '250 2.1.5 Accepted'],
    ['reject', 'relay-denied', '550 5.7.1 Relaying is prohibited'],
    ['reject', 'never-route', '550 5.7.1 Relaying is prohibited'],
    ['reject', 'no-reroute', '550 5.7.1 Relaying is prohibited'],
    ['reject', 'unknown-recipient', '550 5.1.1 Recipient address rejected: no such user here'],
    ['reject', 'bad-address', '501 5.1.3 Bad recipient address syntax'],
    ['reject', 'bad-sender', '501 5.1.7 Bad sender address syntax'],
  ] as [Action, Reason, string][])('%s/%s → %s', (action, reason, line) => {
    expect(formatReply(replyFor({ action, reason }))).toBe(line);
  });

  it('every enhanced code has the class digit of its basic code (RFC 3463)', () => {
    for (const reply of Object.values(REPLIES)) {
      expect(reply.enhanced[0]).toBe(String(reply.code)[0]);
    }
  });

  it('the accepted MAIL FROM, RCPT TO and DATA lines are the ones the node sends', () => {
    expect(formatReply(REPLIES.senderOk)).toBe('250 2.1.0 Accepted');
    expect(formatReply(REPLIES.recipientOk)).toBe('250 2.1.5 Accepted');
    expect(formatReply(REPLIES.messageAccepted)).toBe('250 2.6.0 Message accepted');
    expect(`${START_MAIL_INPUT.code} ${START_MAIL_INPUT.text}`).toBe(
      '354 End data with <CR><LF>.<CR><LF>',
    );
  });
});
