import react from '@vitejs/plugin-react';
import { defineProject } from 'vitest/config';

// This workspace's project in the root Vitest config (and its own `pnpm test`):
// component tests in a simulated DOM.
export default defineProject({
  plugins: [react()],
  test: {
    name: 'web',
    // A render and its queries can take seconds on a busy 2-core machine.
    testTimeout: 30_000,
    environment: 'happy-dom',
    setupFiles: ['./src/testing/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
