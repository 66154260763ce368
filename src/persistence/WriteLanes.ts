/**
 * WriteLanes: one lane per job, so that a job's writes run one at a time and in order, and a burst collapses to
 * its last write.
 *
 * A lane runs at most one operation and holds at most one more. An operation pushed while another waits replaces
 * it (coalescing): the replaced caller's promise settles with the newer operation, which leaves the job in a later
 * state. Lanes of different jobs run concurrently.
 */

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
}

interface Lane<TOp> {
  next: { op: TOp; waiters: Waiter[] } | undefined;
  /** Callbacks for `idle()`: run when the lane empties. */
  onIdle: (() => void)[];
}

export class WriteLanes<TOp> {
  readonly #lanes = new Map<string, Lane<TOp>>();
  readonly #run: (key: string, op: TOp) => Promise<void>;

  constructor(run: (key: string, op: TOp) => Promise<void>) {
    this.#run = run;
  }

  /** Runs `op` after the key's running operation; settles once it, or an operation that replaced it, has run. */
  push(key: string, op: TOp): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      const lane = this.#lanes.get(key);
      if (lane === undefined) {
        this.#lanes.set(key, { next: undefined, onIdle: [] });
        this.#start(key, op, [waiter]);
      } else if (lane.next === undefined) {
        lane.next = { op, waiters: [waiter] };
      } else {
        lane.next.op = op;
        lane.next.waiters.push(waiter);
      }
    });
  }

  /** Resolves once the key has nothing running or waiting (at once when it has not). Never rejects. */
  idle(key: string): Promise<void> {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => lane.onIdle.push(resolve));
  }

  /** Resolves once every lane open now is idle. */
  async drain(): Promise<void> {
    await Promise.all([...this.#lanes.keys()].map((key) => this.idle(key)));
  }

  #start(key: string, op: TOp, waiters: Waiter[]): void {
    const settle = (error: { reason: unknown } | undefined): void => {
      for (const waiter of waiters) {
        if (error === undefined) waiter.resolve();
        else waiter.reject(error.reason);
      }
      const lane = this.#lanes.get(key);
      if (lane === undefined) return;
      const next = lane.next;
      if (next !== undefined) {
        lane.next = undefined;
        this.#start(key, next.op, next.waiters);
        return;
      }
      this.#lanes.delete(key);
      for (const callback of lane.onIdle) callback();
    };
    let running: Promise<void>;
    try {
      running = this.#run(key, op);
    } catch (reason) {
      settle({ reason });
      return;
    }
    running.then(
      () => { settle(undefined); },
      (reason: unknown) => { settle({ reason }); },
    );
  }
}
