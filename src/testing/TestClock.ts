/**
 * TestClock: a Clock whose time moves only when the test says so. Every timer slotflow arms (windows, intervals,
 * retry backoff, activation and job timeouts) goes through it, so `advance(ms)` replays them in due order.
 */
import { InvalidOptionError, type Clock, type TimerHandle } from 'slotflow';
import { macrotask } from '../util/macrotask.js';

/** Options of `new TestClock(options)`. */
export interface TestClockOptions {
  /** The clock's time when created, in ms. @default 0 */
  readonly start?: number;
  /**
   * Waits for the work a fired timer started. `createTestRuntime` supplies one that waits for its runtime's jobs.
   * @default event-loop turns until a whole turn passes with no timer armed or cleared
   */
  readonly settle?: () => Promise<void>;
}

interface Timer {
  readonly seq: number;
  readonly at: number;
  readonly callback: () => void;
}

let readActivity: (clock: TestClock) => number;
let bindSettle: (clock: TestClock, settle: () => Promise<void>) => void;

/**
 * A hand-driven clock. Give it to `createRuntime({ clock })`, or use the one `createTestRuntime()` makes.
 * @example
 * const clock = new TestClock();
 * await using runtime = createRuntime({ clock });
 * const job = runtime.exec(windowedFlow, { params: { n: 1 } });
 * await clock.advance(100); // the window closes, the routine runs, the job completes
 */
export class TestClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  /** Bumped whenever a timer is armed, cleared or fired: a sign that work is still moving. */
  #activity = 0;
  #advancing: Promise<void> = Promise.resolve();
  #settle: () => Promise<void>;

  static {
    readActivity = (clock) => clock.#activity;
    bindSettle = (clock, settle) => {
      clock.#settle = settle;
    };
  }

  constructor(options: TestClockOptions = {}) {
    const start = options.start ?? 0;
    if (typeof start !== 'number' || !Number.isFinite(start)) throw new InvalidOptionError('TestClock({ start })', 'a finite number of ms', start);
    if (options.settle !== undefined && typeof options.settle !== 'function') throw new InvalidOptionError('TestClock({ settle })', 'a function returning a promise', options.settle);
    this.#now = start;
    this.#settle = options.settle ?? (() => this.#quiet());
  }

  /** The clock's time, in ms. */
  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: Timer = { seq: ++this.#seq, at: this.#now + (Number.isNaN(ms) ? 0 : Math.max(0, ms)), callback };
    this.#timers.push(timer);
    this.#activity++;
    return timer.seq;
  }

  clearTimeout(handle: TimerHandle): void {
    const index = this.#timers.findIndex((t) => t.seq === handle);
    if (index < 0) return;
    this.#timers.splice(index, 1);
    this.#activity++;
  }

  /** How many timers are armed (not yet fired or cleared). */
  get pending(): number {
    return this.#timers.length;
  }

  /** When the next armed timer is due, or `undefined` when none is armed. */
  get nextDueAt(): number | undefined {
    return this.#next(Number.POSITIVE_INFINITY)?.at;
  }

  /**
   * Moves time forward by `ms`: fires every timer due by then in due order (ties in the order they were armed),
   * letting the work each one starts settle before the next, so a timer armed on the way (a retry's backoff, the
   * next interval) fires too when it falls within the window. Resolves once that work has settled. Calls made
   * while one is in progress run after it, in call order. A timer callback that throws does not stop it: the other
   * due timers fire and time reaches the target all the same, then it rejects with the first error thrown.
   * @example
   * await rt.clock.advance(1_000);
   */
  advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new InvalidOptionError('clock.advance(ms)', 'a finite number of ms from 0 and up', ms);
    const run = this.#advancing.then(() => this.#advance(ms));
    // A failed advance (a timer callback threw) must not poison the next ones.
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  async #advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    // A timer that throws must not leave the clock behind (or its later timers unfired): the first error is thrown at the end.
    let failure: { readonly error: unknown } | undefined;
    try {
      await this.#settle();
      for (let due = this.#next(target); due; due = this.#next(target)) {
        this.#timers.splice(this.#timers.indexOf(due), 1);
        this.#activity++;
        this.#now = Math.max(this.#now, due.at);
        try {
          due.callback();
        } catch (error) {
          failure ??= { error };
        }
        await this.#settle();
      }
    } finally {
      this.#now = target;
    }
    if (failure) throw failure.error;
  }

  /**
   * A promise that resolves after `ms` of this clock's time, or rejects with `signal.reason` when `signal` aborts:
   * the way a mock takes simulated time.
   * @example
   * rt.mock('fetch', async ({ signal, emit }) => {
   *   await rt.clock.sleep(5_000, signal); // a slow call: lets a `timeoutMs` fire first
   *   emit('output', { data: 'late' });
   * });
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) throw new InvalidOptionError('clock.sleep(ms)', 'a number of ms from 0 and up', ms);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        this.clearTimeout(handle);
        reject(signal?.reason as Error);
      };
      const handle = this.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The earliest timer due by `target` (ties: the first armed). */
  #next(target: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers) if (t.at <= target && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    return best;
  }

  /** Without a runtime to ask: event-loop turns until one passes with no timer armed or cleared. */
  async #quiet(): Promise<void> {
    for (let seen = -1; seen !== this.#activity; ) {
      seen = this.#activity;
      await macrotask();
    }
  }
}

/** A counter that moves whenever `clock` arms, clears or fires a timer (for the test runtime's progress check). */
export function timerActivity(clock: TestClock): number {
  return readActivity(clock);
}

/** Makes `clock.advance` wait with `settle` (the test runtime binds its own, once it exists). */
export function settleWith(clock: TestClock, settle: () => Promise<void>): void {
  bindSettle(clock, settle);
}
