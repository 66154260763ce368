/**
 * loadRoutines: imports the `--routines` module and collects the routine definitions it exports. A TypeScript
 * module is loaded through tsx (registered on demand), so `slotflow run flow.yaml --routines routines.ts` works from
 * plain node.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isRoutineDefinition, type AnyRoutine } from 'slotflow';
import { CliError, messageOf } from './CliError.js';

const TYPESCRIPT = /\.(?:[cm]?ts|tsx)$/i;

/** Imports the module and returns its routine definitions (each once, in export order). */
export async function loadRoutines(file: string, cwd = process.cwd()): Promise<AnyRoutine[]> {
  const exports = await importModule(file, cwd);
  const found = new Set<AnyRoutine>();
  const collect = (value: unknown) => {
    if (isRoutineDefinition(value)) found.add(value);
  };
  for (const [name, value] of Object.entries(exports)) {
    collect(value);
    // `export default { fetcher, collector }` or `export default [fetcher, collector]`.
    if (name === 'default' && typeof value === 'object' && value !== null && !isRoutineDefinition(value)) for (const inner of Object.values(value)) collect(inner);
  }
  if (found.size === 0)
    throw new CliError(`--routines: module '${file}' exports no routine definitions (values made with defineRoutine); it exports ${describeExports(exports)}.`);
  return [...found];
}

function describeExports(exports: Record<string, unknown>): string {
  const names = Object.keys(exports);
  return names.length ? names.map((n) => `'${n}'`).join(', ') : 'nothing';
}

async function importModule(file: string, cwd: string): Promise<Record<string, unknown>> {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new CliError(`--routines: no such file '${file}' (looked for ${path}).`);
  if (TYPESCRIPT.test(path) && !typeScriptLoaderActive()) await registerTsx(file, cwd);
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`--routines: cannot load '${file}': ${messageOf(error)}`, 1, { cause: error });
  }
}

/** Started through tsx already (`tsx src/cli/main.ts`, `node --import tsx ...`, NODE_OPTIONS): TypeScript loads as is. */
function typeScriptLoaderActive(): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.some((arg) => /(?:^|[\\/=])tsx(?:[\\/@]|$)/.test(arg));
}

type TsxApi = typeof import('tsx/esm/api');

/** Registers tsx's loader for the rest of the process: found next to slotflow, else in the user's project. */
async function registerTsx(file: string, cwd: string): Promise<void> {
  let api: Partial<TsxApi> | undefined;
  try {
    api = await import('tsx/esm/api');
  } catch {
    try {
      const path = createRequire(join(cwd, 'package.json')).resolve('tsx/esm/api');
      const loaded = (await import(pathToFileURL(path).href)) as Partial<TsxApi> & { default?: Partial<TsxApi> };
      api = loaded.register ? loaded : loaded.default;
    } catch {
      api = undefined;
    }
  }
  if (typeof api?.register !== 'function')
    throw new CliError(
      `--routines: '${file}' is TypeScript, and loading it needs tsx. Install it in your project (npm install -D tsx), ` +
        `or run through it (npx tsx node_modules/slotflow/dist/cli.js ...), or pass a JavaScript module (.js, .mjs).`,
    );
  api.register();
}
