import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // `expect.poll` waits for what a user would wait for (a tab taking the stream over, a page
    // updating): 1 s, vitest's default, is too short on a loaded 2-core machine.
    expect: { poll: { timeout: 10_000 } },
    // The real agent CLIs (~1 GB) are installed into a cache on first use, never into the checkout.
    globalSetup: ['test/agents/setup.ts'],
    pool: 'forks',
    // Integration tests start real processes; two cores run two files at a time well.
    maxWorkers: 2,
  },
});
