/**
 * loadRoutines: imports the `--routines` module and collects the routine definitions it exports. A TypeScript
 * module is loaded through tsx (found on demand), so `slotflow run flow.yaml --routines routines.ts` works from
 * plain node, in ES module and CommonJS projects alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
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
  const url = pathToFileURL(path).href;
  let load = () => import(url) as Promise<Record<string, unknown>>;
  if (TYPESCRIPT.test(path)) {
    const commonJs = isCommonJs(path);
    const tsx = commonJs || !typeScriptLoaderActive() ? await findTsx(cwd) : undefined;
    // tsx's ES module hooks (all `register()` installs, and all `--import tsx/esm` does) cannot load a TypeScript
    // file node treats as CommonJS: node fails with "Cannot require() ES Module ... in a cycle". `tsImport` brings
    // tsx's CommonJS hooks too. An ES module still goes through registered hooks, so it shares the CLI's copy of
    // 'slotflow' (a `tsImport`ed module gets its own copies of the packages it imports).
    const { tsImport } = tsx ?? {};
    if (commonJs && tsImport) load = () => tsImport(url, import.meta.url) as Promise<Record<string, unknown>>;
    else if (!typeScriptLoaderActive()) {
      if (typeof tsx?.register !== 'function') throw needsTsx(file);
      tsx.register();
    }
  }
  try {
    return await load();
  } catch (error) {
    throw new CliError(`--routines: cannot load '${file}': ${messageOf(error)}`, 1, { cause: error });
  }
}

/** Whether node loads the TypeScript file `path` as CommonJS: `.cts`, or a `.ts` whose package is not `"type": "module"`. */
function isCommonJs(path: string): boolean {
  if (/\.cts$/i.test(path)) return true;
  if (/\.mts$/i.test(path)) return false;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type !== 'module';
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/** Started through tsx already (`tsx src/cli/main.ts`, `node --import tsx ...`, NODE_OPTIONS): TypeScript loads as is. */
function typeScriptLoaderActive(): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.some((arg) => /(?:^|[\\/=])tsx(?:[\\/@]|$)/.test(arg));
}

type TsxApi = typeof import('tsx/esm/api');

/** tsx's loader API: found next to slotflow, else in the user's project. */
async function findTsx(cwd: string): Promise<Partial<TsxApi> | undefined> {
  try {
    return await import('tsx/esm/api');
  } catch {
    try {
      return (await import(pathToFileURL(esmEntryIn(cwd, 'tsx', './esm/api')).href)) as Partial<TsxApi>;
    } catch {
      return undefined;
    }
  }
}

/**
 * The file an `import` of `<name><subpath>` from `cwd` gets. `require.resolve` would give the CommonJS entry, and
 * tsx's (4.23) cannot `register()` when imported.
 */
function esmEntryIn(cwd: string, name: string, subpath: string): string {
  const manifest = createRequire(join(cwd, 'package.json')).resolve(`${name}/package.json`);
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> };
  let target = exports?.[subpath];
  while (typeof target === 'object' && target !== null) target = (target as Record<string, unknown>).import ?? (target as Record<string, unknown>).default;
  if (typeof target !== 'string') throw new Error(`package ${name} exports no '${subpath}' for import`);
  return join(dirname(manifest), target);
}

function needsTsx(file: string): CliError {
  return new CliError(
    `--routines: '${file}' is TypeScript, and loading it needs tsx. Install it in your project (npm install -D tsx), ` +
      `or run through it (npx tsx node_modules/slotflow/dist/cli.js ...), or pass a JavaScript module (.js, .mjs).`,
  );
}
