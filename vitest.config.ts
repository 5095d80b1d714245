import { defineConfig } from 'vitest/config';

// Tests start real nodes (anvil) per file; allow for their start-up on slow machines.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
