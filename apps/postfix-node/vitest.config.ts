import { defineProject } from 'vitest/config';

// This workspace's project in the root Vitest config. A real private Postfix
// instance starts and reloads in these tests: allow for a busy machine.
export default defineProject({
  test: { name: 'postfix-node', testTimeout: 90_000, hookTimeout: 90_000 },
});
