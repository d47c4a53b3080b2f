import { defineProject } from 'vitest/config';

// Real Postfix instances, sockets and scrypt: allow for a busy 2-core machine
// (a timeout is not an assertion; the tests' own waits say what they wait for).
export default defineProject({
  test: { name: 'postfix-config', testTimeout: 60_000, hookTimeout: 60_000 },
});
