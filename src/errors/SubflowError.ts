/**
 * The error of a subflow activation (`asRoutine`): its child job failed or was cancelled on its own.
 */
import { SlotflowError } from './SlotflowError.js';

/** A child job of a subflow routine did not complete; `cause` is the child's own error. */
export class SubflowError extends SlotflowError {
  readonly code = 'SUBFLOW';
  constructor(
    /** The parent job's flow. */
    readonly flowId: string,
    /** The subflow routine's id in the parent flow. */
    readonly routineId: string,
    /** The child job (`<parentJobId>/<routineId>/<n>`). */
    readonly childJobId: string,
    /** The child job's flow. */
    readonly childFlowId: string,
    /** The child's final status. */
    readonly status: 'failed' | 'cancelled',
    cause: unknown,
  ) {
    super(
      `Subflow '${routineId}' of flow '${flowId}': child job '${childJobId}' of flow '${childFlowId}' ${status}` +
        (cause instanceof Error ? `: ${cause.message}` : ''),
      { cause },
    );
  }
}

export const isSubflowError = (value: unknown): value is SubflowError => value instanceof SubflowError;
