/**
 * JobStateView: a job's data, and its immutable `JobState` snapshot, built on read and cached until the next
 * change. Routine entries that did not change are reused, so consecutive snapshots share structure; the hot
 * path only bumps version counters.
 */
import type { JobSnapshot } from '../../persistence/JobSnapshot.js';
import type { Payload } from '../../routine/index.js';
import type { Activation } from './Activation.js';
import type { RoutineCell } from './RoutineCell.js';
import type { JobStatus } from '../../types/JobState.js';
import { dict } from '../../util/dict.js';
import { deepFreeze } from '../../util/deepFreeze.js';
import type { CycleRecord, HistoryRecord, JobState, RoutineState } from '../../types/JobState.js';

/** What the view reads of its job. */
export interface ViewedJob {
  readonly id: string;
  readonly flowId: string;
  readonly status: JobStatus;
  readonly finished: boolean;
  readonly error: Error | undefined;
  readonly options: { readonly params: Payload | undefined };
  readonly cells: ReadonlyMap<string, RoutineCell>;
  readonly services: { readonly historyLimit: number };
  /** Called on every change (the runtime's checkpointer listens here). */
  readonly onChange: (() => void) | undefined;
}

export class JobStateView {
  /** Deep-frozen, always: `run` reads it as `ctx.shared`, and every snapshot keeps the value it saw. */
  shared: Readonly<Record<string, unknown>> = Object.freeze({});
  readonly #log: unknown[] = [];
  #history: HistoryRecord[] = [];
  readonly #outputs = dict<Payload[]>();
  readonly #cycles = dict<CycleRecord>();
  #startedAt: number;
  #finishedAt: number | undefined;
  #snapshot: JobState | undefined;
  readonly #routineCache = new Map<string, { version: number; state: unknown; view: RoutineState }>();

  constructor(
    private readonly job: ViewedJob,
    startedAt: number,
  ) {
    this.#startedAt = startedAt;
  }

  #frozen = false;

  /** The data a `JobSnapshot` carries (live references: the caller copies what it keeps). */
  export(): Pick<JobSnapshot, 'outputs' | 'shared' | 'log' | 'cycles' | 'startedAt' | 'finishedAt'> & { readonly history: readonly HistoryRecord[] } {
    return {
      outputs: this.#outputs,
      shared: this.shared,
      log: this.#log,
      history: this.#recentHistory(),
      cycles: this.#cycles,
      startedAt: this.#startedAt,
      ...(this.#finishedAt !== undefined ? { finishedAt: this.#finishedAt } : {}),
    };
  }

  /** Takes over a restored job's data. */
  restore(from: Pick<JobSnapshot, 'outputs' | 'shared' | 'log' | 'cycles' | 'startedAt'>, history: readonly HistoryRecord[]): void {
    this.#startedAt = from.startedAt;
    this.shared = from.shared;
    for (const entry of from.log) this.#log.push(entry);
    this.#history = history.slice();
    this.#history = this.#recentHistory();
    for (const [key, payloads] of Object.entries(from.outputs)) this.#outputs[key] = (payloads as Payload[]).slice();
    for (const [name, record] of Object.entries(from.cycles)) this.#cycles[name] = { iterations: record.iterations, converged: record.converged };
    this.touch();
  }

  /** Something changed: the next read builds a new snapshot. */
  touch(): void {
    if (this.#frozen) return;
    this.#snapshot = undefined;
    this.job.onChange?.();
  }

  /** The job finished: its last snapshot is final. */
  freeze(): void {
    this.#snapshot = this.snapshot;
    this.#frozen = true;
    this.#routineCache.clear();
  }

  setShared(value: Readonly<Record<string, unknown>>): void {
    // A recipe's result is frozen by immer already (no walk); a replacement value is frozen here, in place.
    this.shared = deepFreeze(value);
    this.touch();
  }

  appendLog(entry: unknown): void {
    this.#log.push(entry);
    this.touch();
  }

  addOutput(key: string, payload: Payload): void {
    (this.#outputs[key] ??= []).push(payload);
    this.touch();
  }

  cycle(name: string): CycleRecord {
    return this.#cycles[name] ?? { iterations: 0, converged: false };
  }

  setCycle(name: string, iterations: number, converged: boolean): void {
    this.#cycles[name] = { iterations, converged };
    this.touch();
  }

  addHistory(cell: RoutineCell, act: Activation, finishedAt: number, outcome: HistoryRecord['outcome'], error: Error | undefined): void {
    const record: HistoryRecord = {
      routineId: cell.id,
      attempt: act.attempt,
      startedAt: act.startedAt,
      finishedAt,
      durationMs: finishedAt - act.startedAt,
      consumed: act.inflight.counts,
      emitted: act.emitted,
      outcome,
      ...(error ? { error } : {}),
      ...(act.abandoned ? { abandoned: true } : {}),
    };
    const limit = this.job.services.historyLimit;
    if (limit <= 0) return;
    this.#history.push(record);
    if (this.#history.length > limit * 2) this.#history = this.#history.slice(-limit);
    cell.version++;
    this.touch();
  }

  finish(at: number): void {
    this.#finishedAt = at;
    this.touch();
  }

  get snapshot(): JobState {
    if (this.#snapshot) return this.#snapshot;
    const job = this.job;
    // Plain objects for users, built with own keys (never by assignment: a key may be any name, `__proto__` included).
    const routines = Object.fromEntries(Array.from(job.cells.values(), (cell) => [cell.id, this.#routine(cell)])) as Record<string, RoutineState>;
    const outputs = Object.fromEntries(Object.entries(this.#outputs).map(([key, payloads]) => [key, [...payloads]])) as Record<string, readonly Payload[]>;
    this.#snapshot = {
      jobId: job.id,
      flowId: job.flowId,
      status: job.status,
      params: job.options.params,
      outputs,
      routines,
      shared: this.shared,
      log: [...this.#log],
      history: this.#recentHistory(),
      cycles: { ...this.#cycles },
      ...(job.error ? { error: job.error } : {}),
      startedAt: this.#startedAt,
      ...(this.#finishedAt !== undefined ? { finishedAt: this.#finishedAt } : {}),
    };
    return this.#snapshot;
  }

  /** The last `historyLimit` records (a new array). */
  #recentHistory(): HistoryRecord[] {
    const limit = this.job.services.historyLimit;
    return limit === 0 ? [] : this.#history.slice(-limit);
  }

  #routine(cell: RoutineCell): RoutineState {
    const cached = this.#routineCache.get(cell.id);
    if (cached?.version === cell.version && cached.state === cell.state) return cached.view;
    const live = cell.live;
    const pending = live ? (Object.fromEntries(Object.entries(live.queues).flatMap(([slot, queue]) => (queue.length ? [[slot, [...queue]]] : []))) as Record<string, readonly unknown[]>) : {};
    const value = live?.actor.getSnapshot().value;
    const status: RoutineState['status'] = value === 'skipped' ? 'skipped' : cell.current && !cell.current.settled ? 'running' : (value === 'running' || value === 'backoff') && !this.job.finished ? 'running' : 'idle';
    const view: RoutineState = { state: cell.state, activations: cell.activations, errors: cell.errors, status, pending };
    this.#routineCache.set(cell.id, { version: cell.version, state: cell.state, view });
    return view;
  }
}
