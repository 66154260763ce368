/**
 * throwIfFailed: turns a job that did not complete into an error of the stream.
 */
import { map, type MonoTypeOperatorFunction } from 'rxjs';
import type { JobState } from 'slotflow';
import { isFinalStatus } from './endEvents.js';

/**
 * Passes job states through, but errors with the job's error (`state.error`: a `RoutineError`, `JobTimeoutError`,
 * `JobCancelledError`, ...) at the first state whose status is `failed` or `cancelled`. After `runFlow`, the error
 * unsubscribes it, which cancels the jobs it still runs: fail fast.
 * @example
 * ids$.pipe(runFlow(runtime, 'fetch', { params: (id) => ({ id }) }), throwIfFailed()).subscribe({ error: console.error });
 */
export function throwIfFailed(): MonoTypeOperatorFunction<JobState> {
  return map((state) => {
    // Failed and cancelled states always carry the error that ended the job.
    if (isFinalStatus(state.status) && state.status !== 'completed') throw state.error as Error;
    return state;
  });
}
