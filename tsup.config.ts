import { defineConfig, type Options } from 'tsup';

const library: Options = {
  entry: {
    index: 'src/index.ts',
    machines: 'machines/index.ts',
    rx: 'src/rx/index.ts',
    testing: 'src/testing/index.ts',
    manifest: 'src/manifest/index.ts',
    otel: 'src/otel/index.ts',
    distributed: 'src/distributed/index.ts',
  },
  // The subpath entries import the main entry by the package's own name, so every entry shares one copy of the
  // runtime and its error classes (in CommonJS too, where tsup does not split chunks).
  external: ['slotflow', '@opentelemetry/api', 'bullmq', 'ioredis'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  // The two configs build at once, so neither cleans dist/ (one could delete the other's output): `npm run build`
  // empties it first.
  clean: false,
  target: 'node20',
  splitting: true,
  treeshake: true,
};

// The `slotflow` executable (package.json `bin`): ESM only, plain node. It imports the package by name like the
// subpath entries; tsx (loaded on demand for a TypeScript `--routines` module) stays a runtime lookup.
const cli: Options = {
  entry: { cli: 'src/cli/main.ts' },
  external: ['slotflow', 'tsx'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
};

export default defineConfig([library, cli]);
