/**
 * WorkerCrashedError: the worker thread running a threaded activation died under it.
 */
import { SlotflowError } from './SlotflowError.js';

/**
 * The thread running an activation of a threaded routine died before the activation ended: an uncaught exception
 * outside `run`'s promise, `process.exit()` in the thread, or the thread failing to start. The pool replaces the
 * thread; the activation goes through the routine's error strategy. `cause` holds what the thread reported.
 */
export class WorkerCrashedError extends SlotflowError {
  readonly code = 'WORKER_CRASHED';
  constructor(
    readonly flowId: string,
    /** The routine's id in the flow. */
    readonly routineId: string,
    /** The routine definition's `name` (what the thread imported). */
    readonly routineName: string,
    /** What happened, in a few words (`'exited with code 3'`, `'threw an uncaught exception: boom'`). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`The worker thread running routine '${routineId}' (definition '${routineName}') of flow '${flowId}' ${reason}; the activation failed and the pool replaces the thread.`, options);
  }
}

/** True for a `WorkerCrashedError`. */
export const isWorkerCrashedError = (value: unknown): value is WorkerCrashedError => value instanceof WorkerCrashedError;
