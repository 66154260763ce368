/**
 * Job: the handle `runtime.exec` returns for one run of a flow.
 */
import { Observable } from 'rxjs';
import { InvalidOptionError, WaitTimeoutError } from '../errors/index.js';
import { assertDuration } from '../util/assertOption.js';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';
import type { JobMetrics } from '../metrics/index.js';
import type { JobEvent } from './JobEvent.js';
import type { JobRunner } from './JobRunner.js';
import type { JobState, JobStatus } from './JobState.js';
import type { Payload } from '../routine/index.js';

/** `TOutputs` types `state.outputs` (`'<routine>.<event>'` -> payload type) for a job of a typed flow. */
export class Job<TOutputs = Record<string, Payload>> {
  readonly #runner: JobRunner;
  readonly #done: Promise<JobState<TOutputs>>;
  /** This job's events; completes after the job's final event. Subscribe in the same tick as `exec` to see them all. */
  readonly events$: Observable<JobEvent>;

  readonly #flush: (() => Promise<void>) | undefined;

  /** @internal */
  constructor(runner: JobRunner, flush: (() => Promise<void>) | undefined, events$: Observable<JobEvent>) {
    this.#runner = runner;
    this.#flush = flush;
    this.events$ = events$;
    this.#done = new Promise((resolve) => {
      runner.onFinished(() => {
        resolve(runner.data.snapshot as JobState<TOutputs>);
      });
    });
  }

  get id(): string {
    return this.#runner.id;
  }

  get flowId(): string {
    return this.#runner.flowId;
  }

  get status(): JobStatus {
    return this.#runner.status;
  }

  /** The job's current state: an immutable snapshot (a new object after every change). */
  get state(): JobState<TOutputs> {
    return this.#runner.data.snapshot as JobState<TOutputs>;
  }

  /**
   * This job's metrics: per routine, attempts, errors, retries, timeouts, durations and queue waits (p50/p95/max),
   * and the job's duration so far. A new plain JSON-ready object on every read.
   */
  get metrics(): JobMetrics {
    return this.#runner.services.metrics.job(this.#runner);
  }

  /** The typed error of a failed (or cancelled) job. */
  get error(): Error | undefined {
    return this.#runner.error;
  }

  /**
   * Resolves with the final `JobState` whatever the final status; rejects with `WaitTimeoutError` only when
   * `timeoutMs` (real time) passes first. The job keeps running.
   */
  wait(options: { readonly timeoutMs?: number } = {}): Promise<JobState<TOutputs>> {
    const { timeoutMs } = options;
    if (timeoutMs === undefined) return this.#done;
    assertDuration('wait({ timeoutMs })', timeoutMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new WaitTimeoutError(this.id, timeoutMs));
      }, timeoutMs);
      void this.#done.then((state) => {
        clearTimeout(timer);
        resolve(state);
      });
    });
  }

  /**
   * The job as versioned, JSON-serialisable data: its state, every routine's queued slot data, what is in flight,
   * cycle counters, retry attempts and timer due times. `runtime.restore(snapshot)` continues it.
   */
  snapshot(): JobSnapshot {
    return this.#runner.snapshot();
  }

  /**
   * With a runtime `store`: resolves once everything the job did so far is saved (rejects with `CheckpointError`
   * if that save failed). Without a store it resolves at once.
   */
  checkpoint(): Promise<void> {
    return this.#flush ? this.#flush() : Promise.resolve();
  }

  /** Aborts every running activation's `signal`; nothing more is delivered. No-op on a finished job. */
  cancel(reason?: unknown): void {
    this.#runner.cancel(reason);
  }

  /**
   * Ends the job `failed` with `error` (in `job.error`, `state.error` and the `job.failed` event), as a routine's
   * `stop` strategy would: running activations are aborted. No-op on a finished job.
   */
  fail(error: Error): void {
    if (!(error instanceof Error)) throw new InvalidOptionError('job.fail(error)', 'an Error', error);
    this.#runner.fail(error);
  }

  /** Running activations finish; nothing new starts; arriving data queues. */
  pause(): void {
    this.#runner.pause();
  }

  resume(): void {
    this.#runner.resume();
  }

  /** keepAlive jobs: let queued work drain, then complete when idle. */
  complete(): void {
    this.#runner.complete();
  }

  /**
   * Delivers `payload` into `routineId`'s `slot` from outside. Throws `UnknownSlotError` for an unknown routine
   * or slot, `JobFinishedError` on a finished job, `SlotQueueFullError` or `PayloadError` when not delivered.
   */
  post(routineId: string, slot: string, payload: object): void {
    this.#runner.post(routineId, slot, payload);
  }
}
