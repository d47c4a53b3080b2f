import { defineConfig } from 'vitest/config';

// One root config; every workspace is a project (Vitest "test projects").
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'e2e'],
    // Vitest's default on 2 cores is one file at a time (cores - 1). Most files
    // here wait on sockets, child processes and timers, so two at a time keep
    // both cores busy (e2e and cli still run their own files one by one).
    maxWorkers: 2,
  },
});
