/**
 * findRoutine: the export of a module that is a routine definition with a given `name`. Shared by the worker (which
 * runs it) and the main thread (which checks a module before a job's first threaded activation).
 */

/** What a worker needs of a routine definition. */
export interface Routine {
  readonly kind: 'slotflow.routine';
  readonly name: string;
  readonly run: (ctx: unknown) => unknown;
}

/** The export that is a routine definition named `name`, also inside a default-exported object. */
export function findRoutine(exports: Record<string, unknown>, name: string): Routine | undefined {
  const isRoutine = (value: unknown): value is Routine =>
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'slotflow.routine' && (value as { name?: unknown }).name === name;
  for (const value of Object.values(exports)) if (isRoutine(value)) return value;
  const fallback = exports.default;
  if (typeof fallback === 'object' && fallback !== null) for (const value of Object.values(fallback)) if (isRoutine(value)) return value;
  return undefined;
}
