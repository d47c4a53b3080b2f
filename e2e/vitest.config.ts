import { defineProject } from 'vitest/config';

// Real processes: generous timeouts, and one file at a time.
export default defineProject({
  test: { name: 'e2e', testTimeout: 120_000, hookTimeout: 60_000, fileParallelism: false },
});
