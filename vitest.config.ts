import { defineConfig } from 'vitest/config';

// Tests resolve workspace packages to their TypeScript sources through the `source` export condition,
// so `vitest` runs without a build. Plain Node (and published users) get the built `dist/`.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
