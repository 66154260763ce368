import { defineConfig, type Options } from 'tsup';

const library: Options = {
  entry: {
    index: 'src/index.ts',
    machines: 'machines/index.ts',
    rx: 'src/rx/index.ts',
    testing: 'src/testing/index.ts',
    manifest: 'src/manifest/index.ts',
    otel: 'src/otel/index.ts',
    server: 'src/server/index.ts',
    // The worker thread entry (not a subpath export): the runtime finds it next to itself in dist/.
    threadWorker: 'src/threads/threadWorker.ts',
    distributed: 'src/distributed/index.ts',
  },
  // The subpath entries import the main entry by the package's own name, so every entry shares one copy of the
  // runtime and its error classes (in CommonJS too, where tsup does not split chunks).
  external: ['slotflow', '@opentelemetry/api', 'bullmq', 'ioredis'],
  format: ['esm', 'cjs'],
  dts: true,
  // No source maps in the package: the output is not minified (stack traces already name real functions and lines
  // close to the source's), and maps pointing into src/, which is not shipped, would only help by embedding every
  // source file again: ~1.4 MB of a 2.1 MB package.
  sourcemap: false,
  // The two configs build at once, so neither cleans dist/ (one could delete the other's output): `npm run build`
  // empties it first.
  clean: false,
  target: 'node20',
  splitting: true,
  treeshake: true,
  // The monitor page's files (plain ES modules and CSS, no build step) ship next to the bundle: slotflow/server
  // serves them from `dist/monitor/`.
  onSuccess: async () => {
    const { cpSync } = await import('node:fs');
    cpSync('src/server/monitor', 'dist/monitor', { recursive: true });
  },
};

// The `slotflow` executable (package.json `bin`): ESM only, plain node. It imports the package by name like the
// subpath entries; tsx (loaded on demand for a TypeScript `--routines` module) stays a runtime lookup.
const cli: Options = {
  entry: { cli: 'src/cli/main.ts' },
  external: ['slotflow', 'tsx'],
  format: ['esm'],
  dts: false,
  sourcemap: false,
  clean: false,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
};

export default defineConfig([library, cli]);
