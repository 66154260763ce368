/**
 * FeedSubscription: the state and steps of one subscription to `feed` (see feed.ts), kept apart from the argument
 * checks so that each step (read, post, wait for room, stop) reads on its own.
 */
import { takeWhile, tap, type Observable, type Subscriber, type Subscription } from 'rxjs';
import { isSlotQueueFullError, type Job, type JobEvent, type JobEventType, type JobState } from 'slotflow';
import { isFinalStatus } from './endEvents.js';

/** Events of the target routine after which its slot may have room again: an activation took data, or ended. */
const CONSUMED: ReadonlySet<JobEventType> = new Set(['routine.started', 'routine.completed', 'routine.failed']);

/**
 * One subscription of a `feed` Observable. A class rather than closures in the subscribe function: its fields are the
 * feed's state and its methods the steps, allocated once per subscription (nothing per value).
 */
export class FeedSubscription<TValue extends object> {
  /** Values read and not yet posted, oldest at `head`. */
  private held: TValue[] = [];
  private head = 0;
  /** The iterable until it is opened (on the first read, so that what it throws fails the job too), then its iterator. */
  private unopened: Iterable<TValue> | undefined;
  private iterator: Iterator<TValue> | undefined;
  private reading: Subscription | undefined;
  /** Set while the slot is full: the wait for the routine to take data. */
  private waiting: Subscription | undefined;
  private sourceDone = false;
  private draining = false;

  constructor(
    private readonly job: Job,
    private readonly routineId: string,
    private readonly slot: string,
    private readonly subscriber: Subscriber<JobState>,
    iterable: Iterable<TValue> | undefined,
  ) {
    this.unopened = iterable;
  }

  /** Starts reading `values$` (or the iterable given to the constructor); returns the teardown. */
  start(values$: Observable<TValue> | undefined): () => void {
    void this.job.wait().then((state) => {
      this.end(state);
    });
    if (values$) this.read(values$);
    else this.drainOrFail();
    return this.stop;
  }

  /** Unsubscribes from everything and closes the iterable; bound, as it is handed out as the teardown. */
  readonly stop = (): void => {
    this.waiting?.unsubscribe();
    this.reading?.unsubscribe();
    const open = this.iterator;
    this.iterator = this.unopened = undefined;
    this.held = [];
    this.head = 0;
    open?.return?.();
  };

  /** Fails the job (unless it has ended) and the feed with `error`; bound, as it is the stream's error callback. */
  readonly fail = (error: unknown): void => {
    const { job, subscriber } = this;
    if (subscriber.closed) return;
    if (!isFinalStatus(job.status)) job.fail(error instanceof Error ? error : new Error(`the stream fed into job '${job.id}' failed: ${String(error)}`, { cause: error }));
    // The error that ended the feed is the one to report, not one the iterable's cleanup might add.
    try {
      this.stop();
    } finally {
      subscriber.error(error);
    }
  };

  /** The job ended (whoever ended it): stop reading and emit its final state. */
  private end(state: JobState): void {
    const { subscriber } = this;
    if (subscriber.closed) return;
    try {
      this.stop();
    } catch (error) {
      subscriber.error(error);
      return;
    }
    subscriber.next(state);
    subscriber.complete();
  }

  /** Subscribes to an Observable source: each value is held, then posted as the slot takes it. */
  private read(values$: Observable<TValue>): void {
    const { job, subscriber } = this;
    this.reading = values$
      .pipe(
        // Stop reading once the feed or the job has ended, even a synchronous source (`reading` is not set yet).
        takeWhile(() => !subscriber.closed && !isFinalStatus(job.status)),
        // A post that throws becomes the stream's error: the source is unsubscribed at once, even a synchronous one.
        tap((value) => {
          this.held.push(value);
          this.drain();
        }),
      )
      .subscribe({
        error: this.fail,
        complete: () => {
          this.sourceDone = true;
          this.drainOrFail();
        },
      });
  }

  /** The next value to post, reading the iterable if nothing is held; `undefined` when there is none yet. */
  private next(): { readonly value: TValue } | undefined {
    if (this.head < this.held.length) {
      // Posted values are dropped in chunks, not one by one (`shift` would copy the rest each time).
      if (this.head >= 1024 && this.head * 2 >= this.held.length) {
        this.held = this.held.slice(this.head);
        this.head = 0;
      }
      return { value: this.held[this.head] as TValue };
    }
    this.held = [];
    this.head = 0;
    if (this.unopened) {
      this.iterator = this.unopened[Symbol.iterator]();
      this.unopened = undefined;
    }
    if (!this.iterator) return undefined;
    const step = this.iterator.next();
    if (step.done === true) {
      this.iterator = undefined;
      this.sourceDone = true;
      return undefined;
    }
    this.held.push(step.value);
    return { value: step.value };
  }

  /**
   * Posts what is held (then the iterable's next values) until the slot is full or there is nothing left; throws
   * what a post throws other than `SlotQueueFullError`, and what the iterable throws.
   */
  private drain(): void {
    // A post runs the job's routing synchronously; a value arriving meanwhile is held and posted by this loop.
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.waiting === undefined && !this.subscriber.closed && !isFinalStatus(this.job.status)) {
        const item = this.next();
        if (!item) break;
        if (!this.post(item.value)) return;
        this.head++;
      }
      if (this.sourceDone && this.head >= this.held.length && this.waiting === undefined && !isFinalStatus(this.job.status)) this.job.complete();
    } finally {
      this.draining = false;
    }
  }

  /** Posts one value; `false` when the slot is full, after starting the wait for room. */
  private post(value: TValue): boolean {
    try {
      this.job.post(this.routineId, this.slot, value);
      return true;
    } catch (error) {
      if (!isSlotQueueFullError(error)) throw error;
      // Subscribed right away: any consumption from now on is an event still to be delivered.
      this.waiting = this.job.events$.subscribe((event) => {
        this.onEvent(event);
      });
      return false;
    }
  }

  /** While waiting: the routine took data or ended, so post again. */
  private onEvent(event: JobEvent): void {
    if (!CONSUMED.has(event.type) || !('routineId' in event) || event.routineId !== this.routineId) return;
    this.waiting?.unsubscribe();
    this.waiting = undefined;
    this.drainOrFail();
  }

  private drainOrFail(): void {
    try {
      this.drain();
    } catch (error) {
      this.fail(error);
    }
  }
}
