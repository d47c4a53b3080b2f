// Session ids, now made without the library's random draw per connection.

import { describe, expect, it } from 'vitest';
import { nextSessionId } from './ims-smtp-server';

describe('session ids', () => {
  it('are 16 base-32 characters, as the library makes them, and never repeat within the process', () => {
    const ids = Array.from({ length: 10_000 }, () => nextSessionId());
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^[0-9a-v]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // One random prefix per process: workers and restarts differ by it.
    expect(new Set(ids.map((id) => id.slice(0, 8))).size).toBe(1);
  });
});
