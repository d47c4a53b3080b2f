import { defineConfig } from 'vitest/config';

// One root config; every workspace is a project (Vitest "test projects").
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'e2e'],
  },
});
