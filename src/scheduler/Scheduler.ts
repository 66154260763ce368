/**
 * Scheduler: the bounded pool every job's activations share.
 *
 * Plain TypeScript, not a machine: one parent actor with thousands of children degrades quadratically. Each job
 * has its own `TaskQueue`; the scheduler starts at most `concurrency` tasks at once and takes one task per job in
 * turn (round-robin), so a job with many ready routines cannot starve another. Tasks start in a microtask, never
 * inside the machine transition that scheduled them.
 */

/** One activation waiting for a permit. `start` must eventually call `scheduler.release()` exactly once. */
export type Task = () => void;

/** A job's FIFO of tasks. */
export class TaskQueue {
  /** @internal */ tasks: Task[] = [];
  /** @internal */ head = 0;
  /** @internal */ listed = false;
  /** @internal */ paused = false;

  get size(): number {
    return this.tasks.length - this.head;
  }

  /** @internal */ shift(): Task | undefined {
    if (this.head >= this.tasks.length) return undefined;
    const task = this.tasks[this.head];
    this.tasks[this.head++] = noop;
    if (this.head > 64 && this.head * 2 > this.tasks.length) {
      this.tasks = this.tasks.slice(this.head);
      this.head = 0;
    }
    return task;
  }
}

const noop: Task = () => undefined;

export class Scheduler {
  readonly #concurrency: number;
  #running = 0;
  /** Queues with tasks, in turn order. */
  #ready: TaskQueue[] = [];
  #readyHead = 0;
  #drainScheduled = false;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  /** Activations running now (holding a permit). */
  get running(): number {
    return this.#running;
  }

  get concurrency(): number {
    return this.#concurrency;
  }

  enqueue(queue: TaskQueue, task: Task): void {
    queue.tasks.push(task);
    this.#list(queue);
    this.#schedule();
  }

  /** A task finished: free its permit. */
  release(): void {
    this.#running--;
    if (this.#readyHead < this.#ready.length) this.#schedule();
  }

  /** Holds a job's tasks (pause); `false` lets them go again. */
  setPaused(queue: TaskQueue, paused: boolean): void {
    queue.paused = paused;
    if (!paused) {
      this.#list(queue);
      this.#schedule();
    }
  }

  /**
   * A task that just got its permit is not to start yet (a breakpoint): back to the head of its job's queue, and
   * its permit freed. The job pauses its queue first, so the task waits for `setPaused(queue, false)`.
   */
  hold(queue: TaskQueue, task: Task): void {
    if (queue.head > 0) queue.tasks[--queue.head] = task;
    else queue.tasks.unshift(task);
    this.release();
  }

  /** Drops a job's waiting tasks (cancel, failure). */
  clear(queue: TaskQueue): void {
    // A new empty array even when nothing waits: a finished job, which the runtime retains, then keeps no grown one.
    queue.tasks = [];
    queue.head = 0;
  }

  #list(queue: TaskQueue): void {
    if (queue.listed || queue.paused || queue.size === 0) return;
    queue.listed = true;
    this.#ready.push(queue);
  }

  #schedule(): void {
    if (this.#drainScheduled || this.#running >= this.#concurrency) return;
    this.#drainScheduled = true;
    queueMicrotask(this.#drain);
  }

  readonly #drain = (): void => {
    this.#drainScheduled = false;
    while (this.#running < this.#concurrency && this.#readyHead < this.#ready.length) {
      const queue = this.#ready[this.#readyHead] as TaskQueue;
      this.#ready[this.#readyHead++] = undefined as unknown as TaskQueue;
      queue.listed = false;
      if (queue.paused) continue;
      const task = queue.shift();
      if (!task) continue;
      this.#list(queue); // back of the line: one task per job per turn
      this.#running++;
      task();
    }
    if (this.#readyHead > 256 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
  };
}
