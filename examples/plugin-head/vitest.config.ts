import { defineConfig } from 'vitest/config';

// A plain consumer of the published @solo-ts packages: no `source` condition, the built dist/ is what runs.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
