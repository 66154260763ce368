/**
 * Clock: the runtime's and its jobs' timers (policy windows and intervals, retry backoff, activation and job
 * timeouts, `waitForAll({ timeoutMs })`) go through one, so tests can drive time (see `slotflow/testing`). Waits
 * on real I/O stay on the host's timers: a store call's bound (`storeTimeoutMs`), a worker thread's abort grace,
 * Redis connections, the server's heartbeats.
 */

/** An opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/** Time source and timer factory. The default is the system clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now` and the host's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
