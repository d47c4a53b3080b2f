import { defineProject } from 'vitest/config';

// This workspace's project in the root Vitest config (and its own `pnpm test`).
export default defineProject({ test: { name: 'node-link' } });
