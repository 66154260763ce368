/**
 * EventBus: delivers job events to `runtime.events$` and `job.events$` subscribers asynchronously (a microtask
 * after the routing loop produced them), so a slow or throwing subscriber never runs inside a job's transition.
 *
 * What is buffered: only the events produced since the last delivery (one microtask's worth), at most
 * `maxBufferedEvents`. Past that cap an event is counted, not kept (a job's final event is always kept, so its
 * stream still completes), and each job that lost events gets one `events.dropped` event carrying the count, after
 * its kept events and before its final one. Subscribers are called synchronously during delivery: nothing is
 * queued per subscriber, so a slow subscriber delays delivery but cannot make the bus hold more. A job nobody
 * watches builds no events after its first tick (`JobRunner.wantsEvents`).
 *
 * Subscriber lists are copy-on-write arrays: an event goes to the subscribers there were when its delivery began
 * (a subscriber added meanwhile gets the next events, not that one; one removed meanwhile gets nothing more), and
 * delivering to nobody costs nothing.
 *
 * Errors thrown by subscribers: RxJS would rethrow them in a timer (which ends the process unless
 * `config.onUnhandledError` is set). The bus's streams, and the streams piped from them, hand them to the
 * runtime's `onUnhandledError` instead; the subscription, the other subscribers and the job go on.
 */
import { config, Observable, Subscriber, type Observer, type Operator, type Subscription, type TeardownLogic } from 'rxjs';
import { InvalidOptionError } from '../errors/index.js';
import type { JobEvent } from '../types/JobEvent.js';
import { assertLimit } from '../util/assertOption.js';

/** What `onUnhandledError` is told about an error it receives. */
export interface UnhandledErrorInfo {
  /** A callback of a subscriber to `runtime.events$` or `job.events$` (or to a stream piped from them) threw. */
  readonly source: 'subscriber';
  /** The event being delivered when it threw; `undefined` when it threw later (e.g. after an asynchronous operator). */
  readonly event: JobEvent | undefined;
}

/** Receives errors slotflow caught and has nowhere else to deliver (see `RuntimeOptions.onUnhandledError`). */
export type UnhandledErrorHandler = (error: unknown, info: UnhandledErrorInfo) => void;

export interface EventBusOptions {
  readonly onUnhandledError?: UnhandledErrorHandler | undefined;
  readonly maxBufferedEvents?: number | undefined;
}

/** The default cap on events waiting for delivery (see `RuntimeOptions.maxBufferedEvents`). */
export const DEFAULT_MAX_BUFFERED_EVENTS = 100_000;

const TERMINAL: ReadonlySet<JobEvent['type']> = new Set(['job.completed', 'job.failed', 'job.cancelled']);

type Callbacks<T> = Partial<Observer<T>> | ((value: T) => void) | null | undefined;

/** Turns a subscriber's callbacks into ones that cannot throw (what they throw is reported). */
type Guard = <T>(observerOrNext: Callbacks<T>, error?: ((error: unknown) => void) | null, complete?: (() => void) | null) => Observer<T>;

interface JobSubscribers {
  /** Replaced, never changed in place: a delivery holds on to the list it began with. */
  subscribers: readonly Subscriber<JobEvent>[];
}

interface Dropped {
  readonly flowId: string;
  readonly at: number;
  count: number;
}

export class EventBus {
  /** Replaced, never changed in place (see `JobSubscribers`). */
  #runtime: readonly Subscriber<JobEvent>[] = [];
  readonly #jobs = new Map<string, JobSubscribers>();
  readonly #onUnhandledError: UnhandledErrorHandler | undefined;
  readonly #maxBuffered: number;
  #pending: JobEvent[] = [];
  /** Jobs that lost events to the cap since the last delivery. */
  readonly #drops = new Map<string, Dropped>();
  #droppedTotal = 0;
  #scheduled = false;
  /** The batch being delivered, and the index of the event being delivered (for late subscribers and reports). */
  #batch: readonly JobEvent[] | undefined;
  #index = -1;
  /** Finished jobs whose stream was subscribed while events of theirs were still undelivered: closed once delivered. */
  readonly #closing = new Set<string>();

  readonly events$: Observable<JobEvent>;

  constructor(options: EventBusOptions = {}) {
    const { onUnhandledError } = options;
    if (onUnhandledError !== undefined && typeof onUnhandledError !== 'function')
      throw new InvalidOptionError('onUnhandledError', 'a function (error, info) => void', onUnhandledError);
    this.#onUnhandledError = onUnhandledError;
    this.#maxBuffered = options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
    assertLimit('maxBufferedEvents', this.#maxBuffered);
    this.events$ = new GuardedObservable<JobEvent>(this.#guard, (subscriber) => {
      this.#runtime = [...this.#runtime, subscriber];
      return () => {
        this.#runtime = without(this.#runtime, subscriber);
      };
    });
  }

  get observed(): boolean {
    return this.#runtime.length > 0;
  }

  /** Events not kept because the buffer was full, since the runtime started. */
  get dropped(): number {
    return this.#droppedTotal;
  }

  /** The stream of one job. `isFinished` lets a late subscriber to a finished job complete at once. */
  jobEvents$(jobId: string, onSubscribe: (delta: 1 | -1) => void, isFinished: () => boolean): Observable<JobEvent> {
    return new GuardedObservable<JobEvent>(this.#guard, (subscriber) => {
      if (isFinished()) {
        if (!this.#undelivered(jobId)) {
          subscriber.complete();
          return undefined;
        }
        this.#closing.add(jobId);
      }
      onSubscribe(1);
      let entry = this.#jobs.get(jobId);
      if (!entry) this.#jobs.set(jobId, (entry = { subscribers: [] }));
      const own = entry;
      own.subscribers = [...own.subscribers, subscriber];
      return () => {
        onSubscribe(-1);
        own.subscribers = without(own.subscribers, subscriber);
        if (own.subscribers.length === 0 && this.#jobs.get(jobId) === own) this.#jobs.delete(jobId);
      };
    });
  }

  publish(event: JobEvent): void {
    const terminal = TERMINAL.has(event.type);
    if (!terminal && this.#pending.length >= this.#maxBuffered) {
      this.#droppedTotal++;
      const dropped = this.#drops.get(event.jobId);
      if (dropped) dropped.count++;
      else this.#drops.set(event.jobId, { flowId: event.flowId, at: event.at, count: 1 });
      return;
    }
    // The job's count of lost events goes before its final event: everything it lost came before that.
    if (terminal && this.#drops.size > 0) this.#pushDropped(event.jobId);
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#flush);
  }

  #pushDropped(jobId: string): void {
    const dropped = this.#drops.get(jobId);
    if (!dropped) return;
    this.#drops.delete(jobId);
    this.#pending.push({ type: 'events.dropped', jobId, flowId: dropped.flowId, at: dropped.at, dropped: dropped.count });
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#drops.size > 0) for (const jobId of [...this.#drops.keys()]) this.#pushDropped(jobId);
    const batch = this.#pending;
    this.#pending = [];
    this.#batch = batch;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i] as JobEvent;
      this.#index = i;
      this.#deliverAll(this.#runtime, event);
      const entry = this.#jobs.get(event.jobId);
      if (!entry) continue;
      this.#deliverAll(entry.subscribers, event);
      if (TERMINAL.has(event.type)) this.#close(event.jobId, entry);
    }
    this.#batch = undefined;
    this.#index = -1;
    for (const jobId of this.#closing) {
      if (this.#undelivered(jobId)) continue;
      this.#closing.delete(jobId);
      const entry = this.#jobs.get(jobId);
      if (entry) this.#close(jobId, entry);
    }
  };

  /** True while an event of `jobId` waits for delivery (in the next batch, or later in the batch being delivered). */
  #undelivered(jobId: string): boolean {
    if (this.#drops.has(jobId) || this.#pending.some((e) => e.jobId === jobId)) return true;
    const batch = this.#batch;
    if (!batch) return false;
    for (let i = this.#index + 1; i < batch.length; i++) if ((batch[i] as JobEvent).jobId === jobId) return true;
    return false;
  }

  #close(jobId: string, entry: JobSubscribers): void {
    this.#jobs.delete(jobId);
    for (const subscriber of entry.subscribers) {
      try {
        subscriber.complete();
      } catch (error) {
        this.#report(error, undefined);
      }
    }
  }

  /**
   * `subscribers` is the list as the delivery began (lists are copy-on-write); one closed since, by an earlier
   * subscriber's callback, is skipped. Guarded subscribers never throw; a raw `Subscriber` passed to `subscribe` might.
   */
  #deliverAll(subscribers: readonly Subscriber<JobEvent>[], event: JobEvent): void {
    for (const subscriber of subscribers) {
      if (subscriber.closed) continue;
      try {
        subscriber.next(event);
      } catch (error) {
        this.#report(error, undefined);
      }
    }
  }

  /** The event being delivered now, if any. */
  get #current(): JobEvent | undefined {
    return this.#batch?.[this.#index];
  }

  /**
   * Reports a subscriber's error to `onUnhandledError`; without one, to RxJS's `config.onUnhandledError` when the
   * application set it, else as a process warning (at most once per subscription: `warned`).
   */
  #report(error: unknown, warned: { done: boolean } | undefined): void {
    const info: UnhandledErrorInfo = { source: 'subscriber', event: this.#current };
    const handler = this.#onUnhandledError;
    if (handler) {
      try {
        handler(error, info);
      } catch (failure) {
        warn(failure, 'onUnhandledError threw');
      }
      return;
    }
    const rxHandler = config.onUnhandledError;
    if (rxHandler) {
      try {
        rxHandler(error);
      } catch (failure) {
        warn(failure, 'RxJS config.onUnhandledError threw');
      }
      return;
    }
    if (warned?.done) return;
    if (warned) warned.done = true;
    const event = info.event;
    const during = event ? ` while receiving '${event.type}' of job '${event.jobId}'` : '';
    const message = `A job event subscriber threw${during}; the job goes on. Pass createRuntime({ onUnhandledError }) to handle these` + (warned ? ' (further errors of this subscriber are not warned about)' : '');
    // A warning of the job concerned. Not for an error thrown by a warning itself (a subscriber throwing on every
    // event would feed itself), nor one thrown later, outside any job's event: nowhere else to say it then.
    if (event && event.type !== 'job.warning') {
      this.publish({ type: 'job.warning', jobId: event.jobId, flowId: event.flowId, at: event.at, code: 'subscriber.threw', message: `${message}: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    warn(error, message);
  }

  readonly #guard: Guard = <T>(observerOrNext: Callbacks<T>, error?: ((error: unknown) => void) | null, complete?: (() => void) | null): Observer<T> => {
    const observer = typeof observerOrNext === 'function' || observerOrNext == null ? { next: observerOrNext ?? undefined, error: error ?? undefined, complete: complete ?? undefined } : observerOrNext;
    const warned = { done: false };
    return {
      next: (value) => {
        try {
          observer.next?.(value);
        } catch (thrown) {
          this.#report(thrown, warned);
        }
      },
      // A stream error nobody handles (an operator of the subscriber's pipe threw) is the subscriber's error too.
      error: (err: unknown) => {
        if (!observer.error) {
          this.#report(err, warned);
          return;
        }
        try {
          observer.error(err);
        } catch (thrown) {
          this.#report(thrown, warned);
        }
      },
      complete: () => {
        try {
          observer.complete?.();
        } catch (thrown) {
          this.#report(thrown, warned);
        }
      },
    };
  };
}

/**
 * An Observable whose subscribers' callbacks are guarded. Operators build their stream with `lift` (as Subject's
 * do), so streams piped from it are guarded too: the guard wraps whichever subscriber ends the chain.
 */
class GuardedObservable<T> extends Observable<T> {
  readonly #guard: Guard;

  constructor(guard: Guard, subscribe?: (subscriber: Subscriber<T>) => TeardownLogic) {
    super(subscribe);
    this.#guard = guard;
  }

  // eslint-disable-next-line @typescript-eslint/no-deprecated -- `lift` is how RxJS 7 operators build their stream
  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const lifted = new GuardedObservable<R>(this.#guard);
    /* eslint-disable @typescript-eslint/no-deprecated -- as RxJS's own `lift` does */
    lifted.source = this;
    lifted.operator = operator;
    /* eslint-enable @typescript-eslint/no-deprecated */
    return lifted;
  }

  override subscribe(observerOrNext?: Callbacks<T>, error?: ((error: unknown) => void) | null, complete?: (() => void) | null): Subscription {
    // A Subscriber is an operator's (or firstValueFrom's) plumbing: it handles its own errors.
    if (observerOrNext instanceof Subscriber) return super.subscribe(observerOrNext);
    return super.subscribe(this.#guard(observerOrNext, error, complete));
  }
}

/** `list` without `item` (a new array: lists are copy-on-write). */
function without<T>(list: readonly T[], item: T): readonly T[] {
  const index = list.indexOf(item);
  return index < 0 ? list : [...list.slice(0, index), ...list.slice(index + 1)];
}

function warn(error: unknown, message: string): void {
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.emitWarning(`${message}: ${error instanceof Error ? error.message : String(error)}`, { code: 'SLOTFLOW_SUBSCRIBER', detail });
}
