/**
 * feed: posts a stream's values into a keepAlive job, waiting while the target slot is full (backpressure).
 */
import { isObservable, Observable, type ObservableInput } from 'rxjs';
import { JobFinishedError, type Job, type JobState } from 'slotflow';
import { assertJob, assertName, toObservable } from './assertArgument.js';
import { isFinalStatus } from './endEvents.js';
import { FeedSubscription } from './FeedSubscription.js';

/**
 * A cold Observable: when subscribed, it posts every value of `source$` into `routineId`'s `slot` of `job` (a
 * `keepAlive` job), in order, calls `job.complete()` once the stream has completed and every value is posted,
 * then emits the job's final `JobState` and completes. Nothing happens until it is subscribed.
 *
 * - The slot is full (`maxQueue`): `feed` waits until the routine takes data (its next `routine.started`,
 *   `routine.completed` or `routine.failed` event) and posts the same value again, so nothing is lost and the
 *   order holds. Meanwhile it reads no further value of an iterable (an array, a generator); an Observable cannot
 *   be paused, so what it emits meanwhile is held by `feed`, in order, as `concatMap` would.
 * - The stream errors (or a post throws anything else: `UnknownSlotError`, `PayloadError`): the job fails with that
 *   error (`job.error`; a non-Error is wrapped, with it as the `cause`), and the Observable errors with it.
 * - The job ends first (a routine failed, someone cancelled or completed it): the stream is unsubscribed (an
 *   iterable is closed), values not yet posted are dropped, and the final state is emitted as above.
 * - Unsubscribing stops reading the stream, drops what was not yet posted, and leaves the job as it is (it was not
 *   started here): complete or cancel it yourself, or end the stream instead (`takeUntil`), which completes the job.
 * - Subscribing when the job has already ended errors with `JobFinishedError`.
 * @example
 * const job = runtime.exec('ingest', { keepAlive: true });
 * feed(job, 'parser', 'line', lines$).subscribe((state) => console.log(state.status, state.outputs));
 */
export function feed<TValue extends object>(job: Job, routineId: string, slot: string, source$: ObservableInput<TValue>): Observable<JobState> {
  assertJob('feed(job)', job);
  assertName('feed(routineId)', routineId);
  assertName('feed(slot)', slot);
  // An iterable is read one value at a time, as the slot takes them; anything else goes through RxJS's `from`.
  const iterable = isIterable(source$) ? source$ : undefined;
  const values$ = iterable ? undefined : toObservable('feed(source$)', source$);
  return new Observable<JobState>((subscriber) => {
    if (isFinalStatus(job.status)) {
      subscriber.error(new JobFinishedError(job.id, job.status));
      return undefined;
    }
    return new FeedSubscription<TValue>(job, routineId, slot, subscriber, iterable).start(values$);
  });
}

/** A synchronous iterable that is not an Observable (RxJS's `from` would read it to the end at once). */
function isIterable<T>(input: ObservableInput<T>): input is Iterable<T> {
  return !isObservable(input) && typeof (input as Partial<Iterable<T>>)[Symbol.iterator] === 'function';
}
