/**
 * vitest globalSetup: builds the `slotflow` executable and the main entry (ES module and CommonJS) ONCE per test
 * run, into `.vitest/build/`, with the same bundler the package uses (tsup). Tests spawn plain `node` on the built
 * CLI instead of starting tsx (and compiling the CLI) in every case: on a busy 2-core machine, that startup was most
 * of each test's time. The build does not touch `dist/`, so a user's own build stays as it is.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Options } from 'tsup';

const ROOT = join(import.meta.dirname, '..', '..');
/** Where the build goes; the tests read it through `builtCli` (test/helpers/builtCli.ts). */
export const BUILD_DIR = join(ROOT, '.vitest', 'build');

export default async function setup(): Promise<void> {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const common: Options = {
    config: false,
    outDir: BUILD_DIR,
    target: 'node20',
    dts: false,
    sourcemap: false,
    clean: false,
    silent: true,
    // 'slotflow' (and its subpaths) resolve to the source through tsconfig `paths`: the build is of this checkout.
    noExternal: [/^slotflow(\/|$)/],
    external: ['tsx'],
  };
  await Promise.all([
    // The CLI as `bin` runs it: ES module, plain node, tsx found on demand for a TypeScript `--routines` module.
    build({ ...common, entry: { cli: 'src/cli/main.ts' }, format: ['esm'], banner: { js: '#!/usr/bin/env node' } }),
    // Two copies of the main entry, as an ES module project and a CommonJS project load them.
    build({ ...common, entry: { index: 'src/index.ts' }, format: ['esm', 'cjs'] }),
  ]);
}
