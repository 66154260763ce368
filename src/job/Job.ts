/**
 * Job: the handle `runtime.exec` returns for one run of a flow.
 */
import { Observable } from 'rxjs';
import { InvalidOptionError, WaitTimeoutError } from '../errors/index.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { assertDuration } from '../util/assertOption.js';
import { assertSnapshotJson } from '../persistence/assertSnapshotJson.js';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';
import type { JobMetrics } from '../metrics/index.js';
import type { Breakpoint } from '../types/Breakpoint.js';
import type { JobEvent } from '../types/JobEvent.js';
import type { JobRunner } from '../internal/job/JobRunner.js';
import type { JobState, JobStatus } from '../types/JobState.js';
import type { Payload } from '../routine/index.js';

/**
 * What a job handle asks of its runtime: one object per runtime, shared by all its jobs (a finished job, which the
 * runtime retains by the thousand, holds no closures of its own).
 * @internal
 */
export interface JobPorts {
  /** Opens the job's event stream (`job.events$`). */
  events$(runner: JobRunner): Observable<JobEvent>;
  /** Resolves once everything the job did so far is saved (at once without a store). */
  flush(jobId: string): Promise<void>;
}

/** `TOutputs` types `state.outputs` (`'<routine>.<event>'` -> payload type) for a job of a typed flow. */
export class Job<TOutputs = Record<string, Payload>> {
  readonly #runner: JobRunner;
  readonly #ports: JobPorts;
  /** `#done` is made by the first `wait()`, `#events$` by the first `events$` read: few jobs are watched. */
  #done: Promise<JobState<TOutputs>> | undefined;
  #events$: Observable<JobEvent> | undefined;

  /** @internal */
  constructor(runner: JobRunner, ports: JobPorts) {
    this.#runner = runner;
    this.#ports = ports;
  }

  /** This job's events; completes after the job's final event. Subscribe in the same tick as `exec` to see them all. */
  get events$(): Observable<JobEvent> {
    return (this.#events$ ??= this.#ports.events$(this.#runner));
  }

  /** Resolves with the final state once the job closed (at once for a closed job). */
  #whenDone(): Promise<JobState<TOutputs>> {
    const runner = this.#runner;
    return (this.#done ??= new Promise((resolve) => {
      runner.onFinished(() => {
        resolve(runner.data.snapshot as JobState<TOutputs>);
      });
    }));
  }

  get id(): string {
    return this.#runner.id;
  }

  get flowId(): string {
    return this.#runner.flowId;
  }

  /** The job whose subflow routine started this one (`asRoutine`); `undefined` for a job started any other way. */
  get parentId(): string | undefined {
    return this.#runner.options.parentId;
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
  wait(options?: { readonly timeoutMs?: number }): Promise<JobState<TOutputs>> {
    // Without options (most calls) there is nothing to check.
    if (options === undefined) return this.#whenDone();
    assertKnownKeys('wait(options)', options, ['timeoutMs']);
    const { timeoutMs } = options;
    if (timeoutMs === undefined) return this.#whenDone();
    assertDuration('wait({ timeoutMs })', timeoutMs);
    return new Promise((resolve, reject) => {
      // Real time on purpose, not the runtime's clock: this is the caller's patience, and a test runtime's controllable
      // clock (which may never advance while the job hangs) must not be able to hold a `wait` forever.
      const timer = setTimeout(() => {
        reject(new WaitTimeoutError(this.id, timeoutMs));
      }, timeoutMs);
      void this.#whenDone().then((state) => {
        clearTimeout(timer);
        resolve(state);
      });
    });
  }

  /**
   * The job as versioned, JSON-serialisable data: its state, every routine's queued slot data, what is in flight,
   * cycle counters, retry attempts and timer due times. `runtime.restore(snapshot)` continues it.
   * Throws `CheckpointError` (`reason: 'unserializable'`, with the `path`) when the job's data holds a value JSON
   * cannot hold as it is (a function, a symbol, `undefined`, `NaN`, a Map or a Set, a BigInt, a cycle).
   */
  snapshot(): JobSnapshot {
    return assertSnapshotJson(this.#runner.snapshot());
  }

  /**
   * With a runtime `store`: resolves once everything the job did so far is saved (rejects with `CheckpointError`
   * if that save failed). Without a store it resolves at once.
   */
  checkpoint(): Promise<void> {
    return this.#ports.flush(this.#runner.id);
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

  /** Goes on after `pause()`, a breakpoint or a step, up to the next breakpoint if any. */
  resume(): void {
    this.#runner.resume();
  }

  /** The routines this job pauses before (`exec({ breakpoints })`, `setBreakpoints`). */
  get breakpoints(): readonly Breakpoint[] {
    return this.#runner.gate.breakpoints;
  }

  /** The routine a breakpoint paused this job before, until that activation starts; else `undefined`. */
  get pausedAt(): string | undefined {
    return this.#runner.gate.pausedAt;
  }

  /**
   * Replaces the job's breakpoints: the job pauses before activating any of these routines (status `paused`, a
   * `job.breakpoint` event with what the activation would consume). `[]` clears them. Throws `UnknownSlotError` for
   * a routine the flow does not have.
   * @example
   * job.setBreakpoints([{ routine: 'score' }]);
   */
  setBreakpoints(breakpoints: readonly Breakpoint[]): void {
    this.#runner.setBreakpoints(breakpoints);
  }

  /**
   * Runs exactly the next activation, then pauses again before the one after (also on a job paused by `pause()`; a
   * breakpoint on that routine is passed). While it runs the job reads `running`. A step that leaves nothing to run
   * completes the job. Throws `JobFinishedError` on a finished job.
   */
  step(): void {
    this.#runner.step();
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
