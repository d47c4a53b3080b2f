import { describe, expect, it } from 'vitest';
import { answerRequest, parsePostqueue } from './requests';

const NOW = new Date('2026-11-30T00:00:00.000Z');

describe('parsePostqueue: `postqueue -j` → the Queues tab', () => {
  it('one message a line; a deferred one carries its reason; junk lines and unsafe ids are skipped', () => {
    const text = [
      JSON.stringify({
        queue_name: 'deferred',
        queue_id: '4XyZ1abc',
        arrival_time: 1_764_460_800,
        message_size: 1234,
        sender: 'alice@example.com',
        recipients: [{ address: 'bob@outside.example', delay_reason: 'connect to x: refused' }],
      }),
      'not json',
      JSON.stringify({ queue_name: 'active', queue_id: '../etc', recipients: [] }),
      JSON.stringify({ queue_name: 'active', queue_id: 'B2', sender: '', recipients: [] }),
      '',
    ].join('\n');
    expect(parsePostqueue(text, NOW)).toEqual([
      {
        id: '4XyZ1abc',
        from: 'alice@example.com',
        recipients: ['bob@outside.example'],
        size: 1234,
        queuedAt: '2025-11-30T00:00:00.000Z',
        attempts: 1,
        nextAttemptAt: NOW.toISOString(),
        lastError: 'connect to x: refused',
      },
      {
        id: 'B2',
        from: '',
        recipients: [],
        size: 0,
        queuedAt: NOW.toISOString(),
        attempts: 0,
        nextAttemptAt: NOW.toISOString(),
        lastError: null,
      },
    ]);
  });
});

describe('answerRequest', () => {
  it('an unknown method and a missing id are bad requests, without running Postfix', async () => {
    expect(await answerRequest('/nonexistent', 'queue.flush', {})).toEqual({
      ok: false,
      error: { code: 'bad-request', message: 'This node does not know the method queue.flush.' },
    });
    expect(await answerRequest('/nonexistent', 'queue.retry', {})).toEqual({
      ok: false,
      error: { code: 'bad-request', message: 'params.id is required.' },
    });
  });
});
