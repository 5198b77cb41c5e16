import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at once even on 2 cores: many tests wait on real processes and real time
    // (the fleet's daemons, the outage server), so one worker (the default there) leaves a core idle.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
