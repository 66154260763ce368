/**
 * JobState: the immutable view of one job. A new object whenever something changed; parts that did not
 * change are shared with the previous snapshot.
 */
import type { Payload } from './Payload.js';

import type { JobStatus } from './JobStatus.js';

export { JOB_STATUSES, isFinalStatus, type FinalStatus, type JobStatus } from './JobStatus.js';

/** One activation attempt. */
export interface HistoryRecord {
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
  readonly error?: Error;
  /**
   * It timed out or its job ended while `run` was still running and had never read its `signal`: the job went on
   * without it, and its scheduler permit stayed taken until `run` settled. (Any `run` still running then keeps
   * its permit until it settles; one that read its signal is not flagged, it is taken to be stopping.)
   */
  readonly abandoned?: true;
}

export interface RoutineState {
  /** The routine's state in this job (`setState`). */
  readonly state: unknown;
  /** Attempts, retries included. */
  readonly activations: number;
  /** Failed attempts. */
  readonly errors: number;
  readonly status: 'idle' | 'running' | 'skipped';
  /** Slot -> payloads queued and not consumed (only slots that hold any). */
  readonly pending: Readonly<Record<string, readonly unknown[]>>;
}

export interface CycleRecord {
  /** Deliveries over the edge. */
  readonly iterations: number;
  readonly converged: boolean;
}

/**
 * The outputs of a job of a flow whose event types are known: `'<routine>.<event>'` -> that event's payloads. A key
 * is absent until something landed there.
 */
export type TypedOutputs<TOutputs> = { readonly [K in keyof TOutputs]?: readonly TOutputs[K][] };

/** `TOutputs` (`'<routine>.<event>'` -> payload type) is known for jobs of a flow built with `createFlow` in the same program. */
export interface JobState<TOutputs = Record<string, Payload>> {
  readonly jobId: string;
  readonly flowId: string;
  readonly status: JobStatus;
  readonly params: Payload | undefined;
  /** `'<routineId>.<event>'` -> payloads emitted on events with no connection (or delivered nowhere). */
  readonly outputs: string extends keyof TOutputs ? Readonly<Record<string, readonly Payload[]>> : TypedOutputs<TOutputs>;
  readonly routines: Readonly<Record<string, RoutineState>>;
  readonly shared: Readonly<Record<string, unknown>>;
  readonly log: readonly unknown[];
  /** The latest activation records (at most the runtime's `historyLimit`). */
  readonly history: readonly HistoryRecord[];
  /** Edge name -> its bounded-edge record. */
  readonly cycles: Readonly<Record<string, CycleRecord>>;
  readonly error?: Error;
  readonly startedAt: number;
  readonly finishedAt?: number;
}
