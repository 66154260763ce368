import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Load XState's development build, which carries extra checks.
    conditions: ['development'],
    alias: {
      'slotflow/machines': fileURLToPath(new URL('./machines/index.ts', import.meta.url)),
      slotflow: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: {
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    testTimeout: 10_000,
  },
});
