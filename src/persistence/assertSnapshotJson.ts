/**
 * assertSnapshotJson: a checkpoint must read back as it was written. JSON silently turns a function, a symbol or
 * `undefined` into nothing (or `null` inside an array), `NaN` and `Infinity` into `null`, and a Map or a Set into
 * `{}`; it throws on a BigInt and a cycle without saying where. This walk names the first such value by its path in
 * the snapshot (`routines.sum.state.total`), so the user knows which routine's data to fix.
 */
import { CheckpointError, describeValue } from '../errors/index.js';
import type { JobSnapshot } from './JobSnapshot.js';

/** The path and a description of the first value in `value` that JSON cannot hold as it is, or `undefined`. */
export function findUnserializable(value: unknown, path: string): { readonly path: string; readonly what: string } | undefined {
  // Fast path, run on every checkpoint: a recursive walk that builds no paths (about the cost of JSON.stringify).
  // Only when it finds something (or the data is too deep for recursion) does the walk below name the path.
  try {
    if (isPlainJson(value, [])) return undefined;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return locate(value, path);
}

function isPlainJson(value: unknown, ancestors: object[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (ancestors.includes(value)) return false;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
      if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet) return false;
      ancestors.push(value);
      let ok = true;
      if (Array.isArray(value)) {
        for (let i = 0; ok && i < value.length; i++) ok = isPlainJson(value[i], ancestors);
      } else {
        for (const key in value) {
          if (!Object.hasOwn(value, key)) continue;
          if (!isPlainJson((value as Record<string, unknown>)[key], ancestors)) {
            ok = false;
            break;
          }
        }
      }
      ancestors.pop();
      return ok;
    }
    default:
      return false;
  }
}

/** The slow, iterative walk that names the path of the first problem. */
function locate(value: unknown, path: string): { readonly path: string; readonly what: string } | undefined {
  // Iterative, with the ancestors of each node for cycle detection: user data may be deep.
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  const ancestors: object[] = [];
  while (stack.length > 0) {
    const { value: current, path: at, depth } = stack.pop() as (typeof stack)[number];
    ancestors.length = depth;
    switch (typeof current) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(current)) return { path: at, what: `${String(current)} (JSON turns it into null)` };
        continue;
      case 'undefined':
        return { path: at, what: 'undefined (JSON drops it, or turns it into null in an array)' };
      case 'function':
      case 'symbol':
        return { path: at, what: `a ${typeof current} (JSON drops it)` };
      case 'bigint':
        return { path: at, what: 'a BigInt (JSON cannot hold it; store it as a string)' };
      default:
    }
    if (current === null) continue;
    const object = current as object;
    if (ancestors.includes(object)) return { path: at, what: 'a reference to one of its own ancestors (a cycle)' };
    if (typeof (object as { toJSON?: unknown }).toJSON === 'function') continue;
    if (object instanceof Map || object instanceof Set || object instanceof WeakMap || object instanceof WeakSet)
      return { path: at, what: `${describeValue(object)} (JSON turns it into {}; store an array or a plain object)` };
    ancestors.push(object);
    if (Array.isArray(object)) {
      for (let i = object.length - 1; i >= 0; i--) stack.push({ value: object[i] as unknown, path: `${at}[${String(i)}]`, depth: depth + 1 });
    } else {
      const keys = Object.keys(object);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        stack.push({ value: (object as Record<string, unknown>)[key], path: `${at}.${key}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** The user data of a snapshot, each with its path: what routines and callers put in. */
function userData(snapshot: JobSnapshot): [unknown, string][] {
  const parts: [unknown, string][] = [
    [snapshot.outputs, 'outputs'],
    [snapshot.shared, 'shared'],
    [snapshot.log, 'log'],
  ];
  if (snapshot.params !== undefined) parts.push([snapshot.params, 'params']);
  if (snapshot.initial !== undefined) parts.push([snapshot.initial.payload, 'initial.payload']);
  for (const [id, routine] of Object.entries(snapshot.routines)) {
    parts.push([routine.state, `routines.${id}.state`], [routine.queues, `routines.${id}.queues`]);
    if (routine.inflight !== undefined) parts.push([routine.inflight.consumed, `routines.${id}.inflight.consumed`]);
  }
  return parts;
}

/**
 * Throws `CheckpointError` (`reason: 'unserializable'`, `path` set) when the user data of `snapshot` holds a value
 * JSON cannot hold as it is; returns the snapshot otherwise.
 */
export function assertSnapshotJson(snapshot: JobSnapshot, operation: 'save' = 'save'): JobSnapshot {
  for (const [value, path] of userData(snapshot)) {
    const found = findUnserializable(value, path);
    if (found !== undefined)
      throw new CheckpointError(
        operation,
        snapshot.jobId,
        new Error(`${found.path} holds ${found.what}; a checkpoint holds JSON data only, so it would not be restored as it is`),
        'unserializable',
        found.path,
      );
  }
  return snapshot;
}
