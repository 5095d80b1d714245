import { defineConfig } from 'vitest/config';

// Tests start real nodes (anvil, litecoind) and spawn the real binary several times per test;
// on a busy 2-core machine one such test can take a minute: the limits catch hangs, not slowness.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Commands run in process (test/helpers/in-process.ts) write through console.log; @oclif/test captures it only when vitest does not.
    disableConsoleIntercept: true,
  },
});
