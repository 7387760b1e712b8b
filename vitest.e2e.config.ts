import { defineConfig } from 'vitest/config';

// End-to-end tests drive a real Chromium (and Electron, where its binary exists) one at a time: they share
// the built renderer and are heavy on a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
