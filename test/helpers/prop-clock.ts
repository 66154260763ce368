/**
 * A hand-driven clock implementing slotflow's `Clock`, for tests of timed policies, backoff and timeouts, and
 * `flush()`, which lets every queued microtask (activations, promise chains) run.
 */
import type { Clock, TimerHandle } from 'slotflow';

/** Runs every queued microtask (and the ones they queue) by waiting for the next macrotask turn. */
export async function flush(turns = 1): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

export interface ManualClock extends Clock {
  /** Timers armed and not yet fired or cleared. */
  readonly pending: number;
  /** Moves time forward by `ms`, firing every timer due by then in time order, flushing microtasks after each. */
  advance(ms: number): Promise<void>;
  /** Moves time to `at` (absolute). */
  advanceTo(at: number): Promise<void>;
}

export function createManualClock(start = 0): ManualClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, Timer>();
  const due = (limit: number): Timer | undefined => {
    let best: Timer | undefined;
    for (const timer of timers.values()) if (timer.at <= limit && (!best || timer.at < best.at || (timer.at === best.at && timer.id < best.id))) best = timer;
    return best;
  };
  const clock: ManualClock = {
    now: () => now,
    setTimeout(callback: () => void, ms: number): TimerHandle {
      const id = nextId++;
      timers.set(id, { id, at: now + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle: TimerHandle): void {
      timers.delete(handle as number);
    },
    get pending() {
      return timers.size;
    },
    async advance(ms: number) {
      await clock.advanceTo(now + ms);
    },
    async advanceTo(at: number) {
      await flush();
      for (let timer = due(at); timer; timer = due(at)) {
        timers.delete(timer.id);
        now = Math.max(now, timer.at);
        timer.callback();
        await flush();
      }
      now = Math.max(now, at);
      await flush();
    },
  };
  return clock;
}
