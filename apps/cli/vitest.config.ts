import { defineProject } from 'vitest/config';

// The CLI runs as a subprocess against real console processes: generous timeouts, one file at a time.
export default defineProject({
  test: { name: 'cli', testTimeout: 120_000, hookTimeout: 90_000, fileParallelism: false },
});
