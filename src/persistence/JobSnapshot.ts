/**
 * JobSnapshot: the versioned, JSON-serialisable form of a job that `job.snapshot()` returns, checkpoint stores
 * save, and `runtime.restore()` continues.
 *
 * Times are the runtime clock's milliseconds (`Date.now()` with the system clock). Due times are absolute, so a
 * job restored later fires an overdue timer at once instead of waiting its full delay again.
 */
import type { ErrorStrategy } from '../routine/ErrorStrategy.js';
import type { JobStatus } from '../types/JobStatus.js';

/** The `format` tag every snapshot carries. */
export const SNAPSHOT_FORMAT = 'slotflow/job-snapshot';
/** The snapshot format version this release writes (and the newest it reads). */
export const SNAPSHOT_VERSION = 1;

/** An error as plain data: `name`, `message`, `code` for slotflow errors, and its own enumerable fields. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly [field: string]: unknown;
}

/** Where a routine's machine was: `running` and `backoff` are the two substates of `active`. */
export type RoutineMachineState = 'idle' | 'running' | 'backoff' | 'skipped' | 'stopped';

export interface RoutineSnapshot {
  readonly machine: RoutineMachineState;
  /** The routine's per-job state (`ctx.state`). */
  readonly state: unknown;
  readonly activations: number;
  readonly errors: number;
  /** Slot -> queued payloads, oldest first. */
  readonly queues: Readonly<Record<string, readonly unknown[]>>;
  /**
   * What the running (or retrying) activation consumed: it runs again after a restore. A running activation's
   * `state` above is the routine's state when that activation started, so the re-run sees what the first run saw.
   */
  readonly inflight?: {
    readonly consumed: Readonly<Record<string, readonly unknown[]>>;
    readonly counts: Readonly<Record<string, number>>;
    readonly message: Readonly<{ reason: string }>;
    readonly attempt: number;
    /**
     * How many emissions the running activation had already delivered when the snapshot was taken: its re-run
     * after a restore skips that many (they are downstream already) and delivers the rest. Absent means 0.
     */
    readonly delivered?: number;
  };
  /** `backoff`: when the next retry is due. */
  readonly retryAt?: number;
  readonly lastActivationAt?: number;
  /** When the policy's window opened (first arrival into empty queues). */
  readonly firstArrivalAt?: number;
}

/**
 * A history record (`JobState.history`) as data: its error, if any, serialised. Written out here rather than derived
 * from the record's type, so the stored format changes only with this file (and its version).
 */
export interface HistorySnapshot {
  readonly routineId: string;
  readonly attempt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly durationMs: number;
  /** Slot -> payloads consumed. */
  readonly consumed: Readonly<Record<string, number>>;
  /** Event -> payloads emitted. */
  readonly emitted: Readonly<Record<string, number>>;
  readonly outcome: 'ok' | 'error' | 'retried' | 'timeout' | 'cancelled';
  readonly error?: SerializedError;
  /** Its job went on without the activation, whose `run` was still running. */
  readonly abandoned?: true;
}

/**
 * A job's override of one routine (`exec({ overrides })`) as data; `missing` names what could not be written down
 * (a custom policy, a `retry.when` function): those must be given again when the job is restored.
 */
export interface OverrideSnapshot {
  readonly config?: Readonly<Record<string, unknown>>;
  readonly policy?: { readonly name: string; readonly params: Readonly<Record<string, unknown>> };
  readonly onError?: ErrorStrategy;
  readonly timeoutMs?: number;
  readonly missing?: readonly ('policy' | 'onError')[];
}

export interface JobSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: number;
  readonly jobId: string;
  readonly flowId: string;
  readonly status: JobStatus;
  /** The clock time the snapshot was taken. */
  readonly savedAt: number;
  readonly keepAlive: boolean;
  /** `complete()` was called on a keepAlive job. */
  readonly completing: boolean;
  readonly timeoutMs?: number;
  /** The job deadline (`timeoutMs` after admission). */
  readonly deadlineAt?: number;
  /** False while the job waited for a `maxJobs` place: its params are still to be delivered. */
  readonly admitted: boolean;
  readonly params?: Readonly<Record<string, unknown>>;
  /** A first delivery other than params (`runtime.post` without a job id), when not admitted yet. */
  readonly initial?: { readonly routine: string; readonly slot: string; readonly payload: unknown };
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly outputs: Readonly<Record<string, readonly unknown[]>>;
  readonly shared: Readonly<Record<string, unknown>>;
  readonly log: readonly unknown[];
  readonly history: readonly HistorySnapshot[];
  readonly cycles: Readonly<Record<string, { readonly iterations: number; readonly converged: boolean }>>;
  readonly error?: SerializedError;
  readonly routines: Readonly<Record<string, RoutineSnapshot>>;
  /** The job's per-routine overrides (`exec({ overrides })`), as far as they are data. */
  readonly overrides?: Readonly<Record<string, OverrideSnapshot>>;
  /**
   * The child jobs of its subflow activations in flight (`asRoutine`), by job id, taken at the same moment: a
   * restored job takes them back instead of starting them again.
   */
  readonly children?: Readonly<Record<string, JobSnapshot>>;
}
