import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Load XState's development build, which carries extra checks.
    conditions: ['development'],
    alias: {
      'slotflow/rx': fileURLToPath(new URL('./src/rx/index.ts', import.meta.url)),
      'slotflow/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      'slotflow/distributed': fileURLToPath(new URL('./src/distributed/index.ts', import.meta.url)),
      'slotflow/otel': fileURLToPath(new URL('./src/otel/index.ts', import.meta.url)),
      'slotflow/server': fileURLToPath(new URL('./src/server/index.ts', import.meta.url)),
      'slotflow/manifest': fileURLToPath(new URL('./src/manifest/index.ts', import.meta.url)),
      'slotflow/machines': fileURLToPath(new URL('./machines/index.ts', import.meta.url)),
      slotflow: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    typecheck: {
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    // Builds the CLI and the main entry once for the tests that spawn them (test/cli): see test/helpers/buildCli.ts.
    globalSetup: ['test/helpers/buildCli.ts'],
    // Generous for a loaded 2-core machine; tests that spawn processes set their own, larger budgets.
    testTimeout: 20_000,
  },
});
