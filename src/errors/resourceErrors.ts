/**
 * The errors of runtime resources (`createRuntime({ resources })`, `ctx.resource(name)`).
 */
import { describeValue, SlotflowError } from './SlotflowError.js';

/** Who asked for a resource: a routine of a job, or a routine's cleanup. */
export interface ResourceAsker {
  readonly flowId: string;
  readonly routineId: string;
}

/** `resource(name)` named a resource the runtime was not given. */
export class UnknownResourceError extends SlotflowError {
  readonly code = 'UNKNOWN_RESOURCE';
  readonly flowId: string | undefined;
  readonly routineId: string | undefined;
  constructor(
    readonly resource: string,
    readonly known: readonly string[],
    asker?: ResourceAsker,
  ) {
    super(
      `${asker ? `Routine '${asker.routineId}' of flow '${asker.flowId}' asked for` : 'Asked for'} resource ${typeof resource === 'string' ? `'${resource}'` : describeValue(resource)}, which the runtime does not have; ` +
        `expected one of ${known.length ? known.map((k) => `'${k}'`).join(', ') : '(none: pass createRuntime({ resources }))'}.`,
    );
    this.flowId = asker?.flowId;
    this.routineId = asker?.routineId;
  }
}

/**
 * A resource's `create` threw or rejected (`phase: 'create'`: the asking activation fails with this error, and the
 * next ask tries again), or its `dispose` did at shutdown (`phase: 'dispose'`: `shutdown()` rejects with it once
 * every other resource is disposed). `cause` holds what was thrown.
 */
export class ResourceError extends SlotflowError {
  readonly code = 'RESOURCE';
  readonly flowId: string | undefined;
  readonly routineId: string | undefined;
  constructor(
    readonly resource: string,
    readonly phase: 'create' | 'dispose',
    cause: unknown,
    asker?: ResourceAsker,
  ) {
    super(
      `Resource '${resource}' could not be ${phase === 'create' ? 'created' : 'disposed'}${asker ? ` (asked for by routine '${asker.routineId}' of flow '${asker.flowId}')` : ''}: ` +
        (cause instanceof Error ? cause.message : describeValue(cause)),
      { cause },
    );
    this.flowId = asker?.flowId;
    this.routineId = asker?.routineId;
  }
}

export const isUnknownResourceError = (value: unknown): value is UnknownResourceError => value instanceof UnknownResourceError;
export const isResourceError = (value: unknown): value is ResourceError => value instanceof ResourceError;

/**
 * `resource(name)` was called by a routine running on a worker thread (`isolation: 'thread'`). A resource is a live
 * object (a pool, a client) of the main thread, and a live object cannot be copied into another thread.
 */
export class ThreadResourceError extends SlotflowError {
  readonly code = 'THREAD_RESOURCE';
  constructor(
    readonly flowId: string,
    readonly routineId: string,
    readonly resource: string,
  ) {
    super(
      `Routine '${routineId}' of flow '${flowId}' runs on a worker thread and called resource(${typeof resource === 'string' ? `'${resource}'` : describeValue(resource)}): ` +
        `resources live on the main thread and cannot be copied into a thread; expected a routine using resources to run inline (isolation: 'inline'), ` +
        `or an inline routine to use the resource and pass plain data to the threaded one through its slots.`,
    );
  }
}

export const isThreadResourceError = (value: unknown): value is ThreadResourceError => value instanceof ThreadResourceError;
