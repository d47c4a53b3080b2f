import { describe, expect, it } from 'vitest';
import { isSelf, localAddresses } from './self-target';

const resolve = async (name: string) => {
  const table: Record<string, string[]> = {
    'mx.self.example': ['127.0.0.1'],
    'mx.lan.example': ['192.0.2.7'],
    'mx.other.example': ['198.51.100.1'],
  };
  const found = table[name];
  if (!found) throw new Error(`ENOTFOUND ${name}`);
  return found;
};
const LOCALS = ['127.0.0.1', '::1', '192.0.2.7'];

describe("the node's loop check compares addresses, not spellings (#13 item 2)", () => {
  it.each([
    // [target host, port, listening, loops]
    ['127.0.0.1', 2525, ['127.0.0.1:2525'], true],
    ['localhost', 2525, ['127.0.0.1:2525'], true],
    ['LOCALHOST.', 2525, ['127.0.0.1:2525'], true],
    ['[127.0.0.1]', 2525, ['127.0.0.1:2525'], true],
    ['::ffff:127.0.0.1', 2525, ['127.0.0.1:2525'], true],
    ['mx.self.example', 2525, ['127.0.0.1:2525'], true],
    ['127.0.0.1', 25, ['127.0.0.1:2525'], false],
    ['::1', 2525, ['127.0.0.1:2525'], false],
    ['[::1]', 2525, ['[::1]:2525'], true],
    // A wildcard listener: any loopback address, any of this machine's own.
    ['127.0.0.2', 2525, ['0.0.0.0:2525'], true],
    ['0.0.0.0', 2525, ['0.0.0.0:2525'], true],
    ['192.0.2.7', 2525, ['0.0.0.0:2525'], true],
    ['mx.lan.example', 2525, ['[::]:2525'], true],
    ['mx.other.example', 2525, ['0.0.0.0:2525'], false],
    ['198.51.100.1', 2525, ['0.0.0.0:2525'], false],
    ['unknown.example', 2525, ['0.0.0.0:2525'], false],
  ] as const)('%s:%i with the node on %j: loop %s', async (host, port, listening, loops) => {
    expect(await isSelf({ host, port }, listening, resolve, LOCALS)).toBe(loops);
  });

  it("this machine's own addresses include loopback", () => {
    expect(localAddresses()).toContain('127.0.0.1');
  });
});
