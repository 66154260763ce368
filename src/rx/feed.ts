/**
 * feed: posts a stream's values into a keepAlive job.
 */
import { Observable, takeWhile, tap, type ObservableInput } from 'rxjs';
import { JobFinishedError, type Job, type JobState, type JobStatus } from 'slotflow';
import { assertJob, assertName, toObservable } from './assertArgument.js';

const FINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/**
 * A cold Observable: when subscribed, it posts every value of `source$` into `routineId`'s `slot` of `job` (a
 * `keepAlive` job), calls `job.complete()` when the stream completes, then emits the job's final `JobState` and
 * completes. Nothing happens until it is subscribed.
 *
 * - The stream errors (or a post throws: `UnknownSlotError`, `SlotQueueFullError`, `PayloadError`): the job
 *   fails with that error (`job.error`; a non-Error is wrapped, with it as the `cause`), and the Observable errors
 *   with it.
 * - The job ends first (a routine failed, someone cancelled or completed it): the stream is unsubscribed, and the
 *   final state is emitted as above.
 * - Unsubscribing stops reading the stream and leaves the job as it is (it was not started here): complete or
 *   cancel it yourself, or end the stream instead (`takeUntil`), which completes the job.
 * - Subscribing when the job has already ended errors with `JobFinishedError`.
 * @example
 * const job = runtime.exec('ingest', { keepAlive: true });
 * feed(job, 'parser', 'line', lines$).subscribe((state) => console.log(state.status, state.outputs));
 */
export function feed<TValue extends object>(job: Job, routineId: string, slot: string, source$: ObservableInput<TValue>): Observable<JobState> {
  assertJob('feed(job)', job);
  assertName('feed(routineId)', routineId);
  assertName('feed(slot)', slot);
  const values$ = toObservable('feed(source$)', source$);
  return new Observable<JobState>((subscriber) => {
    if (FINAL.has(job.status)) {
      subscriber.error(new JobFinishedError(job.id, job.status));
      return undefined;
    }
    const posting = values$
      .pipe(
        // Stop reading once the job has ended (its final state is emitted below).
        takeWhile(() => !FINAL.has(job.status)),
        // A post that throws becomes the stream's error: the source is unsubscribed, even a synchronous one.
        tap((value) => {
          job.post(routineId, slot, value);
        }),
      )
      .subscribe({
        error: (error: unknown) => {
          if (!FINAL.has(job.status)) job.fail(error instanceof Error ? error : new Error(`the stream fed into job '${job.id}' failed: ${String(error)}`, { cause: error }));
          subscriber.error(error);
        },
        complete: () => {
          if (!FINAL.has(job.status)) job.complete();
        },
      });
    void job.wait().then((state) => {
      if (subscriber.closed) return;
      posting.unsubscribe();
      subscriber.next(state);
      subscriber.complete();
    });
    return posting;
  });
}
