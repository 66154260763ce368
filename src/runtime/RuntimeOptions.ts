/**
 * RuntimeOptions: what `createRuntime(options)` takes. Checked by `resolveRuntimeSettings` (src/internal/runtime).
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../clock/Clock.js';
import type { CheckpointError } from '../errors/index.js';
import type { ValidationMode } from '../types/ValidationMode.js';
import type { CheckpointStore } from '../persistence/CheckpointStore.js';
import type { ThreadsOptions } from '../threads/index.js';
import type { UnhandledErrorHandler } from './EventBus.js';
import type { ResourcesOption } from './Resources.js';

/** Options of `createRuntime`. */
export interface RuntimeOptions {
  /** Max activations running at once across all jobs. @default 10 */
  readonly concurrency?: number;
  /** Max jobs running at once; more wait in `queued`. @default Infinity */
  readonly maxJobs?: number;
  /** An XState inspection observer, passed to every actor the runtime creates. @default none */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Payload checks on emit and delivery: `'strict'` fails the activation (or the post) on a missing declared field
   * or a schema failure; `'warn'` fails on a missing field but delivers a schema failure with a `job.warning`
   * event; `'off'` checks neither (only that a payload is a plain object). @default 'strict'
   */
  readonly validation?: ValidationMode;
  /**
   * Time source for the runtime's timers (windows, intervals, backoff, activation and job timeouts,
   * `waitForAll({ timeoutMs })`), so tests can drive time. `storeTimeoutMs` is real time (see there).
   * @default the system clock
   */
  readonly clock?: Clock;
  /** Finished jobs kept for `getJob`/`listJobs`. @default 1000 */
  readonly retain?: number;
  /** History records kept per job. @default 1000 */
  readonly historyLimit?: number;
  /**
   * Idle routine actors kept per routine of a flow when jobs end, for the next jobs of that flow, and finished
   * supervisors kept for the next jobs of any flow (creating an actor costs several times more than resetting
   * one). Each holds ~3.5 KB; `0` turns reuse off. Never used with `inspect`. @default 1024
   */
  readonly reuseActors?: number;
  /**
   * Collect `runtime.metrics()` and `job.metrics` (counts, durations, queue waits): a few additions per activation.
   * `false` leaves only the gauges (jobs by status, activations running and waiting). @default true
   */
  readonly metrics?: boolean;
  /**
   * Receives what a subscriber to `events$` (or to a stream piped from it) threw; the job and the subscription go on.
   * @default RxJS's `config.onUnhandledError` when set, else a process warning (code `SLOTFLOW_SUBSCRIBER`), once per subscription
   */
  readonly onUnhandledError?: UnhandledErrorHandler;
  /**
   * Events held for delivery at once (those produced within one microtask). Past it, events are counted instead of
   * kept (never a job's final event) and each job that lost some gets an `events.dropped` event. @default 100000
   */
  readonly maxBufferedEvents?: number;
  /**
   * Where job snapshots are checkpointed after every change (coalesced: at most one save in flight per job), so
   * `recover()` can resume unfinished jobs after a crash. @default none
   */
  readonly store?: CheckpointStore;
  /** Keep a finished job's final snapshot in the store (else it is deleted when the job finishes). @default false */
  readonly retainFinished?: boolean;
  /** Runs on every snapshot before it is checked (restore and recover): for snapshots you transformed yourself. @default none */
  readonly migrateSnapshot?: (snapshot: unknown) => unknown;
  /**
   * A checkpoint failed to save or delete (the job goes on). What it throws is reported as a process warning (code
   * `SLOTFLOW_CHECKPOINT`), never as an unhandled rejection. @default a process warning
   */
  readonly onCheckpointError?: (error: CheckpointError) => void;
  /**
   * Bounds every call to the store (save, delete, load, list): past it the call counts as failed with a
   * `CheckpointError` (`reason: 'timeout'`), so `job.checkpoint()`, `recover()` and `shutdown()` always settle.
   * `Infinity` waits forever. Real time, not the `clock`'s: it bounds real I/O, which a test clock does not drive.
   * @default 30000
   */
  readonly storeTimeoutMs?: number;
  /**
   * Worker threads for routines with `isolation: 'thread'`: `max` threads computing at once (across pools),
   * `idleTimeoutMs` before an idle thread ends, `abortGraceMs` before an aborted activation's thread is terminated.
   * The pool starts on the first threaded activation. @default { max: os.availableParallelism(), idleTimeoutMs: 30000, abortGraceMs: 100 }
   */
  readonly threads?: ThreadsOptions;
  /**
   * Things routines share across jobs (pools, clients), by name: `{ create, dispose? }` or just a factory. Each is
   * created on its first `ctx.resource(name)` and disposed by `shutdown()`, newest first. @default none
   */
  readonly resources?: ResourcesOption;
  /**
   * How deep subflows (`asRoutine`) may nest: a flow nesting deeper is refused by `exec` with `FlowValidationError`.
   * @default 8
   */
  readonly maxSubflowDepth?: number;
}
