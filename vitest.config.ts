import { defineConfig } from 'vitest/config';

// Tests start real nodes (anvil, litecoind) and spawn the real binary several times per test;
// on a busy 2-core machine one such test can take a minute: the limits catch hangs, not slowness.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // One temporary directory per run for the wallet templates that makeWallet copies (test/helpers/cli.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Commands run in process (test/helpers/in-process.ts) write through console.log; @oclif/test captures it only when vitest does not.
    disableConsoleIntercept: true,
    // Two test files at a time (vitest's default on 2 cores is one): most of a file's time is
    // waiting on child processes and nodes. Measured on this 2-core machine: two whole runs at
    // once, each with two workers, both green in 17 min 23 s (with one worker each: 17 min 40 s).
    maxWorkers: 2,
    minWorkers: 1,
  },
});
