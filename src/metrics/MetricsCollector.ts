/**
 * MetricsCollector: counts and times every activation and job of one runtime, for `runtime.metrics()` and
 * `job.metrics`. On by default, so the hot path is a few additions: per activation, one map lookup and O(1)
 * updates of two tallies (the flow's, the job's); per job, one small object and one array (and, for a routine that
 * runs twice or more within a job, its quantile buffers). Gauges (jobs by status, activations running and
 * waiting) are read from the runtime's own structures when asked, not counted.
 *
 * Time: the runtime's clock when one is given (tests drive it), else `performance.now()`: the system clock's
 * `Date.now()` counts whole milliseconds, and most activations take less.
 */
import type { Clock } from '../clock/index.js';
import type { JobStatus } from '../job/JobState.js';
import type { ActivationTotals, FlowMetrics, JobCounts, JobMetrics, RoutineMetrics, RuntimeMetrics } from './RuntimeMetrics.js';
import { Distribution, RoutineTally } from './RoutineTally.js';

/** What the collector reads of an activation (the runner's `Activation`). */
export interface MeteredActivation {
  /** Metrics clock: when the policy took the data (or the retry fell due). */
  readonly queuedAt: number;
  /** Metrics clock: when `run()` was called. */
  readonly runAt: number;
  readonly settled: boolean;
}

/** What the collector reads of a routine within a job (the runner's `Cell`). */
export interface MeteredRoutine {
  readonly id: string;
  readonly current: MeteredActivation | undefined;
}

/** What the collector reads of a job (the `JobRunner`); it keeps the job's metrics in `meter`. */
export interface MeteredJob {
  meter: JobMeter | undefined;
  readonly id: string;
  readonly flowId: string;
  readonly status: JobStatus;
  readonly flow: { readonly routines: ReadonlyMap<string, unknown> };
  readonly cells: ReadonlyMap<string, MeteredRoutine>;
  /** Its activations waiting for a scheduler permit. */
  readonly queue: { readonly size: number };
}

/** One flow's totals across jobs. */
export class FlowStats {
  readonly index = new Map<string, number>();
  readonly routines: RoutineTally;
  started = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  readonly durations = new Distribution();

  constructor(routineIds: readonly string[]) {
    routineIds.forEach((id, i) => this.index.set(id, i));
    this.routines = new RoutineTally(routineIds);
  }

  reset(): void {
    this.started = this.completed = this.failed = this.cancelled = 0;
    this.durations.reset();
    this.routines.reset();
  }
}

/** One job's metrics: its routines' tally, and its own times. */
export class JobMeter extends RoutineTally {
  endedAt: number | undefined;

  constructor(
    readonly flow: FlowStats,
    readonly startedAt: number,
  ) {
    super(flow.routines.routineIds, true);
  }
}

interface Gauges {
  queued: number;
  running: number;
  paused: number;
  idle: number;
}

const noGauges = (): Gauges => ({ queued: 0, running: 0, paused: 0, idle: 0 });

export class MetricsCollector {
  readonly enabled: boolean;
  readonly #clock: Clock;
  readonly #precise: boolean;
  readonly #flows = new Map<string, FlowStats>();
  readonly #durations = new Distribution();
  /** What flows forgotten since the last reset counted: still in the runtime's totals, no longer listed per flow. */
  readonly #retired = { started: 0, completed: 0, failed: 0, cancelled: 0, totals: { total: 0, errors: 0, retries: 0, timeouts: 0, cancelled: 0 } };
  #since: number;

  /** `precise`: time with `performance.now()` rather than `clock` (whose timers the runtime uses either way). */
  constructor(enabled: boolean, clock: Clock, precise: boolean) {
    this.enabled = enabled;
    this.#clock = clock;
    this.#precise = precise;
    this.#since = clock.now();
  }

  /**
   * The metrics clock (ms); 0 when collection is off, so callers can stamp unconditionally. `clockNow`: the
   * runtime clock's time now, when the caller has just read it (used as is unless timing is `precise`).
   */
  stamp(clockNow?: number): number {
    if (!this.enabled) return 0;
    return this.#precise ? performance.now() : (clockNow ?? this.#clock.now());
  }

  /** A job was created (`exec`, `post`): it counts as started, and its duration runs from now. */
  jobCreated(job: MeteredJob): void {
    if (!this.enabled) return;
    let flow = this.#flows.get(job.flowId);
    if (!flow) this.#flows.set(job.flowId, (flow = new FlowStats([...job.flow.routines.keys()])));
    flow.started++;
    job.meter = new JobMeter(flow, this.stamp());
  }

  /**
   * An attempt ended at `clockNow` (the runtime clock's time; `retried`: its failure is retried). Called once per
   * attempt, after its history record.
   */
  activationEnded(job: MeteredJob, routine: MeteredRoutine, act: MeteredActivation, clockNow: number, outcome: 'ok' | 'error' | 'timeout', retried: boolean): void {
    const meter = job.meter;
    const index = meter?.flow.index.get(routine.id);
    if (meter === undefined || index === undefined) return;
    const end = this.stamp(clockNow);
    const wait = act.runAt - act.queuedAt;
    const duration = end - act.runAt;
    meter.flow.routines.ended(index, outcome, retried, wait, duration);
    meter.ended(index, outcome, retried, wait, duration);
  }

  /** An attempt was given up on while its `run` still ran. */
  activationAbandoned(job: MeteredJob, routine: MeteredRoutine): void {
    const meter = job.meter;
    const index = meter?.flow.index.get(routine.id);
    if (meter === undefined || index === undefined) return;
    meter.flow.routines.abandoned(index);
    meter.abandoned(index);
  }

  /** The job reached a final status. Called before its running activations are cut short, so they count as cancelled. */
  jobFinished(job: MeteredJob, status: 'completed' | 'failed' | 'cancelled'): void {
    const meter = job.meter;
    if (meter === undefined || meter.endedAt !== undefined) return;
    const end = this.stamp();
    meter.endedAt = end;
    const flow = meter.flow;
    for (const routine of job.cells.values()) {
      const act = routine.current;
      if (act === undefined || act.settled) continue;
      const index = flow.index.get(routine.id);
      if (index === undefined) continue;
      flow.routines.cancelled(index, act.runAt - act.queuedAt);
      meter.cancelled(index, act.runAt - act.queuedAt);
    }
    flow[status]++;
    flow.durations.add(end - meter.startedAt);
    this.#durations.add(end - meter.startedAt);
  }

  /**
   * Drops a flow's per-flow figures (the runtime no longer holds the flow nor any job of it), keeping what they
   * counted in the runtime's totals.
   */
  forgetFlow(flowId: string): void {
    const stats = this.#flows.get(flowId);
    if (stats === undefined) return;
    this.#flows.delete(flowId);
    const retired = this.#retired;
    retired.started += stats.started;
    retired.completed += stats.completed;
    retired.failed += stats.failed;
    retired.cancelled += stats.cancelled;
    for (const r of Object.values(stats.routines.readAll())) addTotals(retired.totals, r);
  }

  /** `runtime.metrics()`: `open` are the runtime's unfinished jobs, `running` its activations holding a permit. */
  runtime(open: Iterable<MeteredJob>, running: number, reset: boolean): RuntimeMetrics {
    const at = this.#clock.now();
    const gauges = noGauges();
    const byFlow = new Map<string, Gauges>();
    let waiting = 0;
    for (const job of open) {
      waiting += job.queue.size;
      const status = job.status;
      if (status === 'queued' || status === 'running' || status === 'paused' || status === 'idle') {
        gauges[status]++;
        if (this.enabled) {
          let flow = byFlow.get(job.flowId);
          if (!flow) byFlow.set(job.flowId, (flow = noGauges()));
          flow[status]++;
        }
      }
    }
    const flows: [string, FlowMetrics][] = [];
    const retired = this.#retired;
    const totals = { ...retired.totals };
    let { started, completed, failed, cancelled } = retired;
    for (const id of [...this.#flows.keys()].sort()) {
      const stats = this.#flows.get(id) as FlowStats;
      const routines = stats.routines.readAll();
      for (const r of Object.values(routines)) addTotals(totals, r);
      started += stats.started;
      completed += stats.completed;
      failed += stats.failed;
      cancelled += stats.cancelled;
      flows.push([
        id,
        {
          jobs: { started: stats.started, completed: stats.completed, failed: stats.failed, cancelled: stats.cancelled, ...(byFlow.get(id) ?? noGauges()), durationMs: stats.durations.read() },
          routines,
        },
      ]);
    }
    const jobs: JobCounts = { started, completed, failed, cancelled, ...gauges, durationMs: this.#durations.read() };
    // fromEntries: an id such as '__proto__' becomes a key like any other
    const metrics: RuntimeMetrics = { enabled: this.enabled, at, since: this.#since, jobs, activations: { ...totals, running, waiting }, flows: Object.fromEntries(flows) };
    if (reset) this.#reset(at);
    return metrics;
  }

  #reset(at: number): void {
    this.#since = at;
    this.#durations.reset();
    for (const flow of this.#flows.values()) flow.reset();
    const retired = this.#retired;
    retired.started = retired.completed = retired.failed = retired.cancelled = 0;
    retired.totals = { total: 0, errors: 0, retries: 0, timeouts: 0, cancelled: 0 };
  }

  /** `job.metrics`. */
  job(job: MeteredJob): JobMetrics {
    const meter = job.meter;
    let running = 0;
    for (const routine of job.cells.values()) if (routine.current && !routine.current.settled) running++;
    const totals = { total: 0, errors: 0, retries: 0, timeouts: 0, cancelled: 0 };
    const routines = meter ? meter.readAll() : {};
    for (const r of Object.values(routines)) addTotals(totals, r);
    const activations: ActivationTotals = { ...totals, running, waiting: job.queue.size };
    const durationMs = meter ? Math.round(((meter.endedAt ?? this.stamp()) - meter.startedAt) * 1000) / 1000 : 0;
    return { enabled: this.enabled, jobId: job.id, flowId: job.flowId, status: job.status, durationMs, activations, routines };
  }
}

function addTotals(totals: { total: number; errors: number; retries: number; timeouts: number; cancelled: number }, r: RoutineMetrics): void {
  totals.total += r.activations;
  totals.errors += r.errors;
  totals.retries += r.retries;
  totals.timeouts += r.timeouts;
  totals.cancelled += r.cancelled;
}
