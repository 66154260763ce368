/**
 * RuntimeMetrics and JobMetrics: what `runtime.metrics()` and `job.metrics` return. Plain JSON-ready objects (no
 * class, no undefined, no NaN): `JSON.parse(JSON.stringify(m))` deep-equals `m`. Durations are milliseconds,
 * rounded to the microsecond.
 */
import type { JobStatus } from '../job/JobState.js';

/** A distribution of durations (ms). Every field is 0 while `count` is 0. */
export interface DurationStats {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  /** Nearest-rank quantiles: exact up to 32 values, then within 6.1% (a log-bucket histogram). */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** One routine of a flow: across jobs (`runtime.metrics()`) or within one job (`job.metrics`). */
export interface RoutineMetrics {
  /** Attempts that ended: completed, failed (retried ones included), timed out, or cut short by the job's end. */
  readonly activations: number;
  /** Failed attempts: thrown, rejected, timed out, or a failed delivery. */
  readonly errors: number;
  /** Failed attempts the error strategy retried. */
  readonly retries: number;
  /** Attempts past the routine's `timeoutMs` (counted in `errors` too). */
  readonly timeouts: number;
  /** Attempts still running when their job ended (cancelled, failed elsewhere, or timed out as a whole). */
  readonly cancelled: number;
  /**
   * Attempts given up on (timed out, or their job ended) while `run` still ran and had never read its `signal`:
   * each held its scheduler permit until `run` settled.
   */
  readonly abandoned: number;
  /** From `run()` to its outcome, every attempt that ended but the cancelled ones. */
  readonly durationMs: DurationStats;
  /** Queue wait: from the policy taking the data (or the retry falling due) to `run()`, every attempt that started. */
  readonly queueWaitMs: DurationStats;
}

/** Jobs: totals since the runtime started (or the last reset), and how many are in each open status now. */
export interface JobCounts {
  readonly started: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Now: waiting for a `maxJobs` place. */
  readonly queued: number;
  /** Now, by status. */
  readonly running: number;
  readonly paused: number;
  readonly idle: number;
  /** From `exec` to the final status, every job that finished (completed, failed or cancelled). */
  readonly durationMs: DurationStats;
}

/** Activations in total. */
export interface ActivationTotals {
  /** The sums of the routines' counters. */
  readonly total: number;
  readonly errors: number;
  readonly retries: number;
  readonly timeouts: number;
  readonly cancelled: number;
  /** Now: running (holding a scheduler permit). */
  readonly running: number;
  /** Now: ready, waiting for a scheduler permit. */
  readonly waiting: number;
}

export interface FlowMetrics {
  readonly jobs: JobCounts;
  /** By routine id, in the flow's order. */
  readonly routines: Readonly<Record<string, RoutineMetrics>>;
}

/** `runtime.metrics()`. */
export interface RuntimeMetrics {
  /** False with `createRuntime({ metrics: false })`: only the gauges (jobs by status now, activations running and waiting) are filled. */
  readonly enabled: boolean;
  /** The runtime clock's time of this reading (ms). */
  readonly at: number;
  /** The runtime clock's time counting started: the runtime's creation or the last `metrics({ reset: true })`. */
  readonly since: number;
  readonly jobs: JobCounts;
  readonly activations: ActivationTotals;
  /** By flow id (sorted): every flow that has run a job in this runtime. */
  readonly flows: Readonly<Record<string, FlowMetrics>>;
}

/** `job.metrics`. */
export interface JobMetrics {
  /** False with `createRuntime({ metrics: false })`: `durationMs` is 0 and `routines` empty. */
  readonly enabled: boolean;
  readonly jobId: string;
  readonly flowId: string;
  readonly status: JobStatus;
  /** From `exec` to the final status, or to now while the job is open. */
  readonly durationMs: number;
  /** This job's activations: sums over its routines, and how many run or wait now. */
  readonly activations: ActivationTotals;
  /** By routine id, in the flow's order. */
  readonly routines: Readonly<Record<string, RoutineMetrics>>;
}

/** Options of `runtime.metrics()`. */
export interface MetricsOptions {
  /** Zero the runtime's counters and distributions after this reading (per-job metrics are kept). @default false */
  readonly reset?: boolean;
}
