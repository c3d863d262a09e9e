import { defineConfig } from 'vitest/config';

/** `@shadowgate/sdk` from its TypeScript sources (src/sdk/package.json), not its build. */
const conditions = ['shadowgate-source', 'module', 'node', 'development|production'];

/**
 * Two projects. `unit` runs pure code only: no global setup, no services, one shared module
 * graph (isolate: false), so it passes with PostgreSQL and Redis stopped, in seconds.
 * `integration` gets the real services through the global setup (one migrated template
 * database, cloned per file) and is sized for a 2-core machine that may be busy with other
 * work (the benchmark, other suites): two files at a time, and budgets generous enough that
 * only a hang fails a test, never a slow machine. Tests about a deadline assert it themselves.
 */
export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          isolate: false,
          testTimeout: 10_000,
          // Projects with different worker counts run one after the other (vitest 4 asks
          // for distinct groups): the unit tests first, so a broken pure function fails fast.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
