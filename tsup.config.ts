import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    machines: 'machines/index.ts',
    rx: 'src/rx/index.ts',
    testing: 'src/testing/index.ts',
    manifest: 'src/manifest/index.ts',
  },
  // The subpath entries import the main entry by the package's own name, so every entry shares one copy of the
  // runtime and its error classes (in CommonJS too, where tsup does not split chunks).
  external: ['slotflow'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
});
