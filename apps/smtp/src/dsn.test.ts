// The header section of a message kept in parts, as the node reads DATA:
// found without joining the body, wherever the parts happen to be cut.

import { describe, expect, it } from 'vitest';
import { headerValue, hopCount, messageHead } from './dsn';

const HEADERS = 'Received: from a by b\r\nReceived: from c by d\r\nSubject: cut\r\n';
const WHOLE = `${HEADERS}\r\nbody line 1\r\n\r\nReceived: not a header\r\n`;

/** `text` cut at the given offsets. */
function cut(text: string, ...at: number[]): Buffer[] {
  const points = [0, ...at, text.length];
  return points.slice(1).map((end, i) => Buffer.from(text.slice(points[i], end)));
}

describe('messageHead', () => {
  it('is the bytes through the first empty line, whatever the cut (every cut point tried)', () => {
    const expected = `${HEADERS}\r\n`;
    for (let a = 1; a < WHOLE.length; a++) {
      expect(messageHead(cut(WHOLE, a)).toString()).toBe(expected);
      for (const b of [a + 1, a + 2, a + 3]) {
        if (b < WHOLE.length) expect(messageHead(cut(WHOLE, a, b)).toString()).toBe(expected);
      }
    }
  });

  it('reads the same fields from the parts as from the whole message', () => {
    for (let a = 1; a < WHOLE.length; a += 3) {
      const parts = cut(WHOLE, a, Math.min(a + 7, WHOLE.length - 1));
      expect(hopCount(parts)).toBe(2);
      expect(headerValue(parts, 'Subject')).toBe('cut');
    }
    expect(hopCount(Buffer.from(WHOLE))).toBe(2);
  });

  it('bare LF line ends too, and a message without an empty line is all header', () => {
    expect(messageHead(cut('A: 1\nB: 2\n\nbody\n', 10)).toString()).toBe('A: 1\nB: 2\n\n');
    expect(messageHead(cut('A: 1\r\nB: 2', 3)).toString()).toBe('A: 1\r\nB: 2');
  });

  it('looks no further than 64 KB, as it did with the message whole', () => {
    const long = `X: ${'y'.repeat(70_000)}\r\n\r\nbody`;
    const head = messageHead(cut(long, 40_000, 60_000));
    expect(head.length).toBe(64 * 1024);
    expect(messageHead(Buffer.from(long)).length).toBe(64 * 1024);
  });
});
