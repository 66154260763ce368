/**
 * Isolation: where a routine's activations run (the main thread or a worker thread), the module a worker imports to
 * find the routine, and the thread's resource limits. Checked here once for `defineRoutine` and `flow.add`.
 */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeValue } from '../errors/index.js';

/** Where each activation of a routine runs: `'inline'` on the main thread, `'thread'` on a worker thread of the runtime's pool. */
export type Isolation = 'inline' | 'thread';

/** Limits of a routine's worker thread (Node.js `worker_threads` `ResourceLimits`, in MB). */
export interface ThreadResourceLimits {
  /** The main heap. Past it the activation fails with `ResourceLimitError`. */
  readonly maxOldGenerationSizeMb?: number;
  /** The heap space for recently created objects. */
  readonly maxYoungGenerationSizeMb?: number;
  /** The memory range reserved for generated code. */
  readonly codeRangeSizeMb?: number;
  /** The thread's stack. @default 4 */
  readonly stackSizeMb?: number;
}

export const ISOLATIONS: readonly Isolation[] = ['inline', 'thread'];
const LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/** What `defineRoutine` and `flow.add` may say about isolation. */
export interface IsolationInput {
  readonly isolation?: unknown;
  readonly module?: unknown;
  readonly resourceLimits?: unknown;
}

/** Every problem with the isolation fields of `input` (types only: whether a threaded routine has a module is the flow's check). */
export function isolationProblems(input: IsolationInput): string[] {
  const problems: string[] = [];
  const { isolation, module, resourceLimits } = input;
  if (isolation !== undefined && !ISOLATIONS.includes(isolation as Isolation))
    problems.push(`expected \`isolation\` to be 'inline' or 'thread', got ${describeValue(isolation)}`);
  if (module !== undefined && (typeof module !== 'string' || moduleUrl(module) === undefined))
    problems.push(`expected \`module\` to be import.meta.url (a file: URL) or an absolute path, got ${describeValue(module)}`);
  if (resourceLimits !== undefined) {
    if (typeof resourceLimits !== 'object' || resourceLimits === null || Array.isArray(resourceLimits))
      problems.push(`expected \`resourceLimits\` to be an object such as { maxOldGenerationSizeMb: 256 }, got ${describeValue(resourceLimits)}`);
    else
      for (const [key, value] of Object.entries(resourceLimits)) {
        if (!(LIMIT_KEYS as readonly string[]).includes(key)) problems.push(`unknown key \`resourceLimits.${key}\`; expected one of ${LIMIT_KEYS.join(', ')}`);
        else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) problems.push(`expected \`resourceLimits.${key}\` to be a positive number of MB, got ${describeValue(value)}`);
      }
  }
  return problems;
}

/** The `file:` URL of a module given as `import.meta.url` or an absolute path; `undefined` for anything else. */
export function moduleUrl(module: string): string | undefined {
  if (module.startsWith('file:')) {
    try {
      return pathToFileURL(fileURLToPath(module)).href;
    } catch {
      return undefined;
    }
  }
  return isAbsolute(module) ? pathToFileURL(module).href : undefined;
}

/** A copy of valid limits, frozen, or `undefined` for none. */
export function freezeLimits(limits: ThreadResourceLimits | undefined): ThreadResourceLimits | undefined {
  if (limits === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const key of LIMIT_KEYS) if (limits[key] !== undefined) out[key] = limits[key];
  return Object.freeze(out);
}

/** The flow's check of one threaded routine instance: it needs a module, and the module file must exist. */
export function threadedInstanceProblems(id: string, routineName: string, module: string | undefined): { path: string; message: string }[] {
  const path = `routines.${id}.module`;
  if (module === undefined)
    return [{ path, message: `routine '${id}' (definition '${routineName}') runs in a thread but its definition has no \`module\`; add module: import.meta.url to defineRoutine({ name: '${routineName}', ... })` }];
  const file = fileURLToPath(module);
  if (!existsSync(file)) return [{ path, message: `routine '${id}' (definition '${routineName}') runs in a thread, but its module ${file} does not exist` }];
  return [];
}
