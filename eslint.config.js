// ESLint flat config: typescript-eslint's strictest type-checked presets over everything we ship or run.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Lint what the project owns: its folders and root config files. Anything else (a scratch file a user drops
    // into the checkout, another tool's output) is not ours to judge and is outside every tsconfig.
    ignores: [
      '*',
      ...['src/', 'machines/', 'test/', 'examples/', 'bench/', 'scripts/', 'eslint.config.js', 'tsup.config.ts', 'vitest.config.ts'].map((owned) => `!${owned}`),
      'bench/node_modules/',
      'bench/results/',
      'bench/scratch/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The project service finds each file's tsconfig; the files tsconfig.json does not include
        // (this config, the example runner) get a default project so they are type-checked too.
        projectService: {
          allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A promise nobody awaits is a job nobody waits for: the bug this runtime exists to prevent.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `_`-prefixed parameters document an intentionally unused position (e.g. a policy's ctx).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // Numbers in template literals are fine (`${count} jobs`); anything else must be stringified on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Contradicts no-non-null-assertion (strict): we narrow with an explicit `as T` where an invariant proves it.
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
    },
  },
  {
    // Small parts: no file over 400 lines, no function over 60 (comments and blank lines count: a reader reads them).
    files: ['src/**/*.ts', 'src/**/*.js', 'machines/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 60 }],
    },
  },
  {
    // Plain JavaScript: this file and scripts/ are type-checked (JSDoc types) in the default project; any other
    // JavaScript file is outside every tsconfig, so it gets the untyped rules only instead of a parser error.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ignores: ['eslint.config.js', 'scripts/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      // Node's globals (the `globals` package is not a dependency of ours).
      globals: Object.fromEntries(
        [
          'AbortController', 'AbortSignal', 'Buffer', 'URL', 'clearInterval', 'clearTimeout', 'console',
          'performance', 'process', 'queueMicrotask', 'setImmediate', 'setInterval', 'setTimeout', 'structuredClone',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // The monitor page's modules (slotflow/server) run in the browser.
    files: ['src/server/monitor/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'document', 'window', 'location', 'history', 'sessionStorage', 'fetch', 'URLSearchParams', 'EventSource',
          'matchMedia', 'console', 'setTimeout', 'clearTimeout', 'setInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // Tests assert on values they just built: `!` after a lookup there is a claim, not a risk.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Test doubles often implement an async interface with synchronous bodies, or do nothing at all
      // (`run() {}`: a routine whose only job is to be activated).
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      // vitest's `expect(obj.method).toHaveBeenCalled()` passes methods unbound by design.
      '@typescript-eslint/unbound-method': 'off',
      // `expect(() => job.post(...)).toThrow()` is how a throw is asserted.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // vitest's asymmetric matchers (`expect.objectContaining(...)`, `expect.any(Error)`) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // `expect(error).toBeInstanceOf(X)` does not narrow, so the next line casts: `(error as X).problems`.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
);
