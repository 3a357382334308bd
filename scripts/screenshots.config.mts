import { defineConfig } from 'vitest/config';

// Runs scripts/screenshots.ts (not a test) with the tests' global set-up: see that file.
export default defineConfig({
  test: {
    include: ['scripts/screenshots.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/quiet-temporal.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
