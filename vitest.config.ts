import { defineConfig } from 'vitest/config';

/** `@shadowgate/sdk` from its TypeScript sources (src/sdk/package.json), not its build. */
const conditions = ['shadowgate-source', 'module', 'node', 'development|production'];

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
