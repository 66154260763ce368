/**
 * JobTable: the jobs a runtime holds. Unfinished jobs are live (their runners are what `cancelAll`, `waitForAll`,
 * `shutdown` and the gauges of `runtime.metrics()` go through); finished ones stay readable through `getJob` and
 * `listJobs` until `retain` newer ones finished, then leave (`gone` is told their flow).
 */
import type { Job } from '../../job/Job.js';
import type { JobRunner } from '../job/JobRunner.js';

/** A queue of the finished job ids, oldest first; compacted once half of it is spent. */
const COMPACT_AFTER = 1024;

export class JobTable {
  readonly #jobs = new Map<string, Job>();
  readonly #live = new Map<string, JobRunner>();
  #finished: (string | undefined)[] = [];
  #head = 0;
  readonly #retain: number;
  readonly #gone: (flowId: string) => void;

  constructor(retain: number, gone: (flowId: string) => void) {
    this.#retain = retain;
    this.#gone = gone;
  }

  has(jobId: string): boolean {
    return this.#jobs.has(jobId);
  }

  get(jobId: string): Job | undefined {
    return this.#jobs.get(jobId);
  }

  /** Every job held, in creation order. */
  jobs(): IterableIterator<Job> {
    return this.#jobs.values();
  }

  /** The unfinished jobs' runners (a job whose cleanups still run is one), in creation order. */
  /** The runner of an unfinished job. */
  runner(jobId: string): JobRunner | undefined {
    return this.#live.get(jobId);
  }

  live(): IterableIterator<JobRunner> {
    return this.#live.values();
  }

  add(job: Job, runner: JobRunner): void {
    this.#jobs.set(runner.id, job);
    this.#live.set(runner.id, runner);
  }

  /** Takes back a job that never started (its restore failed): nothing of it is left. */
  discard(jobId: string): void {
    this.#jobs.delete(jobId);
    this.#live.delete(jobId);
  }

  /** A job finished, its cleanups done: returns its runner (once), and lets the oldest finished jobs past `retain` go. */
  finish(jobId: string): JobRunner | undefined {
    const runner = this.#live.get(jobId);
    if (!runner) return undefined;
    this.#live.delete(jobId);
    const finished = this.#finished;
    finished.push(jobId);
    while (finished.length - this.#head > this.#retain) {
      const id = finished[this.#head] as string;
      finished[this.#head++] = undefined;
      const gone = this.#jobs.get(id);
      this.#jobs.delete(id);
      if (gone) this.#gone(gone.flowId);
    }
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= finished.length) {
      this.#finished = finished.slice(this.#head);
      this.#head = 0;
    }
    return runner;
  }
}
