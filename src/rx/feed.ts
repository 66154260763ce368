/**
 * feed: posts a stream's values into a keepAlive job, waiting while the target slot is full (backpressure).
 */
import { isObservable, Observable, takeWhile, tap, type ObservableInput, type Subscription } from 'rxjs';
import { isSlotQueueFullError, JobFinishedError, type Job, type JobEvent, type JobEventType, type JobState } from 'slotflow';
import { assertJob, assertName, toObservable } from './assertArgument.js';
import { isFinalStatus } from './endEvents.js';

/** Events of the target routine after which its slot may have room again: an activation took data, or ended. */
const CONSUMED: ReadonlySet<JobEventType> = new Set(['routine.started', 'routine.completed', 'routine.failed']);

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
  const consumed = (event: JobEvent): boolean => CONSUMED.has(event.type) && 'routineId' in event && event.routineId === routineId;

  return new Observable<JobState>((subscriber) => {
    if (isFinalStatus(job.status)) {
      subscriber.error(new JobFinishedError(job.id, job.status));
      return undefined;
    }
    /** Values read and not yet posted, oldest at `head`. */
    let held: TValue[] = [];
    let head = 0;
    /** The iterable until it is opened (on the first read, so that what it throws fails the job too), then its iterator. */
    let unopened = iterable;
    let iterator: Iterator<TValue> | undefined;
    let reading: Subscription | undefined;
    /** Set while the slot is full: the wait for the routine to take data. */
    let waiting: Subscription | undefined;
    let sourceDone = false;
    let draining = false;

    const stop = (): void => {
      waiting?.unsubscribe();
      reading?.unsubscribe();
      const open = iterator;
      iterator = unopened = undefined;
      held = [];
      head = 0;
      open?.return?.();
    };
    const fail = (error: unknown): void => {
      if (subscriber.closed) return;
      if (!isFinalStatus(job.status)) job.fail(error instanceof Error ? error : new Error(`the stream fed into job '${job.id}' failed: ${String(error)}`, { cause: error }));
      // The error that ended the feed is the one to report, not one the iterable's cleanup might add.
      try {
        stop();
      } finally {
        subscriber.error(error);
      }
    };
    /** The next value to post, reading the iterable if nothing is held; `undefined` when there is none yet. */
    const next = (): { readonly value: TValue } | undefined => {
      if (head < held.length) {
        // Posted values are dropped in chunks, not one by one (`shift` would copy the rest each time).
        if (head >= 1024 && head * 2 >= held.length) {
          held = held.slice(head);
          head = 0;
        }
        return { value: held[head] as TValue };
      }
      held = [];
      head = 0;
      if (unopened) {
        iterator = unopened[Symbol.iterator]();
        unopened = undefined;
      }
      if (!iterator) return undefined;
      const step = iterator.next();
      if (step.done === true) {
        iterator = undefined;
        sourceDone = true;
        return undefined;
      }
      held.push(step.value);
      return { value: step.value };
    };
    /**
     * Posts what is held (then the iterable's next values) until the slot is full or there is nothing left; throws
     * what a post throws other than `SlotQueueFullError`, and what the iterable throws.
     */
    const drain = (): void => {
      // A post runs the job's routing synchronously; a value arriving meanwhile is held and posted by this loop.
      if (draining) return;
      draining = true;
      try {
        while (waiting === undefined && !subscriber.closed && !isFinalStatus(job.status)) {
          const item = next();
          if (!item) break;
          try {
            job.post(routineId, slot, item.value);
          } catch (error) {
            if (!isSlotQueueFullError(error)) throw error;
            // Subscribed right away: any consumption from now on is an event still to be delivered.
            waiting = job.events$.subscribe((event) => {
              if (!consumed(event)) return;
              waiting?.unsubscribe();
              waiting = undefined;
              drainOrFail();
            });
            return;
          }
          head++;
        }
        if (sourceDone && head >= held.length && waiting === undefined && !isFinalStatus(job.status)) job.complete();
      } finally {
        draining = false;
      }
    };
    const drainOrFail = (): void => {
      try {
        drain();
      } catch (error) {
        fail(error);
      }
    };

    void job.wait().then((state) => {
      if (subscriber.closed) return;
      try {
        stop();
      } catch (error) {
        subscriber.error(error);
        return;
      }
      subscriber.next(state);
      subscriber.complete();
    });
    if (values$)
      reading = values$
        .pipe(
          // Stop reading once the feed or the job has ended, even a synchronous source (`reading` is not set yet).
          takeWhile(() => !subscriber.closed && !isFinalStatus(job.status)),
          // A post that throws becomes the stream's error: the source is unsubscribed at once, even a synchronous one.
          tap((value) => {
            held.push(value);
            drain();
          }),
        )
        .subscribe({
          error: fail,
          complete: () => {
            sourceDone = true;
            drainOrFail();
          },
        });
    else drainOrFail();
    return stop;
  });
}

/** A synchronous iterable that is not an Observable (RxJS's `from` would read it to the end at once). */
function isIterable<T>(input: ObservableInput<T>): input is Iterable<T> {
  return !isObservable(input) && typeof (input as Partial<Iterable<T>>)[Symbol.iterator] === 'function';
}
