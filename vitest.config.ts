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
    // A worker keeps its modules from one test file to the next (ethers, the sources, zod schemas are
    // imported once per worker, not once per file): collect time 52 s → 10 s, vitest 408 s → 375 s on
    // this machine, all 944 tests passing. Test files share no state through modules (each starts its
    // own chains, homes and processes; in-process commands are queued, test/helpers/in-process.ts).
    isolate: false,
    minWorkers: 1,
  },
});
