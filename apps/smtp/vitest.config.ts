import { defineProject } from 'vitest/config';

// This workspace's project in the root Vitest config (and its own `pnpm test`).
// Real sockets, scrypt and child processes: allow for a busy 2-core machine (a
// timeout is not an assertion; the tests' own waits say what they wait for).
export default defineProject({ test: { name: 'smtp', testTimeout: 30_000, hookTimeout: 30_000 } });
