/**
 * ResourceLimitError: a threaded activation ran its thread past the routine's `resourceLimits`.
 */
import { SlotflowError } from './SlotflowError.js';

/**
 * The thread running an activation exceeded its `resourceLimits` (its heap limit) and was stopped by Node.js. The
 * pool replaces the thread; the activation goes through the routine's error strategy.
 */
export class ResourceLimitError extends SlotflowError {
  readonly code = 'RESOURCE_LIMIT';
  constructor(
    readonly flowId: string,
    /** The routine's id in the flow. */
    readonly routineId: string,
    /** The routine definition's `name`. */
    readonly routineName: string,
    /** The limits the thread ran under (worker_threads `ResourceLimits`). */
    readonly limits: Readonly<Record<string, number>>,
    options?: { cause?: unknown },
  ) {
    super(
      `The worker thread running routine '${routineId}' (definition '${routineName}') of flow '${flowId}' ran out of memory under its resourceLimits ` +
        `(${Object.entries(limits).map(([k, v]) => `${k}: ${v}`).join(', ') || 'the defaults'}); the activation failed and the pool replaces the thread.`,
      options,
    );
  }
}

/** True for a `ResourceLimitError`. */
export const isResourceLimitError = (value: unknown): value is ResourceLimitError => value instanceof ResourceLimitError;
