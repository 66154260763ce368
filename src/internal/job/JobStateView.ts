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

type Writable<T> = { -readonly [K in keyof T]: T[K] };

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

/** What a job's `shared` is until a routine sets it (frozen: every job can share it). */
const NO_SHARED: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_CYCLES: Readonly<Record<string, CycleRecord>> = Object.freeze(dict<CycleRecord>());
/**
 * A state's `cycles` when no bounded cycle ran, and its `log` or `history` when empty: shared by every job, frozen like
 * the state they are in (a finished job, which the runtime retains by the thousand, keeps no empty objects of its own).
 * A plain object, like a state's non-empty `cycles`: `NO_CYCLES` above is the null-prototype record a snapshot carries.
 */
const NO_CYCLES_STATE: Readonly<Record<string, CycleRecord>> = Object.freeze({});
const NO_ENTRIES: unknown[] = Object.freeze([]) as unknown as unknown[];
/** A routine's `pending` with nothing queued (most routines, in most states): shared, frozen like the state it is in. */
const NO_PENDING: Readonly<Record<string, readonly unknown[]>> = Object.freeze({});

export class JobStateView {
  /** Deep-frozen, always: `run` reads it as `ctx.shared`, and every snapshot keeps the value it saw. */
  shared: Readonly<Record<string, unknown>> = NO_SHARED;
  #log: unknown[] = [];
  #history: HistoryRecord[] = [];
  /**
   * `<routine>.<event>` -> payloads. A plain object, not a `dict`: a key always holds a dot, so it never meets an
   * `Object.prototype` name, and a plain object keeps fast properties (a null-prototype one is a hash table).
   */
  #outputs: Record<string, Payload[]> = {};
  /** Only jobs with a bounded cycle have any (a `dict`: an edge may be named like an `Object.prototype` member). */
  #cycles: Record<string, CycleRecord> | undefined;
  #startedAt: number;
  #finishedAt: number | undefined;
  #snapshot: JobState | undefined;
  /** Routine entries of the last snapshot read while the job runs (most jobs are read only once finished). */
  #routineCache: Map<string, { version: number; state: unknown; view: RoutineState }> | undefined;

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
      cycles: this.#cycles ?? NO_CYCLES,
      startedAt: this.#startedAt,
      ...(this.#finishedAt !== undefined ? { finishedAt: this.#finishedAt } : {}),
    };
  }

  /** Takes over a restored job's data. */
  restore(from: Pick<JobSnapshot, 'outputs' | 'shared' | 'log' | 'cycles' | 'startedAt'>, history: readonly HistoryRecord[]): void {
    this.#startedAt = from.startedAt;
    this.shared = from.shared;
    for (const entry of from.log) this.#log.push(entry);
    // Its own array (`#recentHistory` may give the shared empty one): records are pushed onto it.
    const limit = this.job.services.historyLimit;
    this.#history = limit === 0 ? [] : history.slice(-limit);
    for (const [key, payloads] of Object.entries(from.outputs)) this.#outputs[key] = (payloads as Payload[]).slice();
    for (const [name, record] of Object.entries(from.cycles)) (this.#cycles ??= dict())[name] = { iterations: record.iterations, converged: record.converged };
    this.touch();
  }

  /** Something changed: the next read builds a new snapshot. */
  touch(): void {
    if (this.#frozen) return;
    this.#snapshot = undefined;
    this.job.onChange?.();
  }

  /** The job finished: its last snapshot is final (built without filling the cache it then drops). */
  freeze(): void {
    this.#frozen = true;
    const state = (this.#snapshot ??= this.#build());
    this.#routineCache = undefined;
    // The final state's tight copies replace the grown working arrays: a finished job, which the runtime retains by
    // the thousand, keeps one of each. Nothing changes them any more (the mutators below stop once frozen).
    this.#log = state.log as unknown[];
    this.#history = state.history as HistoryRecord[];
    this.#outputs = state.outputs as Record<string, Payload[]>;
  }

  setShared(value: Readonly<Record<string, unknown>>): void {
    // A recipe's result is frozen by immer already (no walk); a replacement value is frozen here, in place.
    this.shared = deepFreeze(value);
    this.touch();
  }

  appendLog(entry: unknown): void {
    if (this.#frozen) return;
    this.#log.push(entry);
    this.touch();
  }

  addOutput(key: string, payload: Payload): void {
    if (this.#frozen) return;
    // A one-element array to start with (an empty one grows to 17 slots on its first push).
    const payloads = this.#outputs[key];
    if (payloads) payloads.push(payload);
    else this.#outputs[key] = [payload];
    this.touch();
  }

  cycle(name: string): CycleRecord {
    return this.#cycles?.[name] ?? { iterations: 0, converged: false };
  }

  setCycle(name: string, iterations: number, converged: boolean): void {
    (this.#cycles ??= dict())[name] = { iterations, converged };
    this.touch();
  }

  addHistory(cell: RoutineCell, act: Activation, finishedAt: number, outcome: HistoryRecord['outcome'], error: Error | undefined): void {
    const limit = this.job.services.historyLimit;
    if (limit <= 0 || this.#frozen) return;
    // The optional keys last, assigned (not spread: an object spread per activation takes V8's slow path).
    const record: Writable<HistoryRecord> = {
      routineId: cell.id,
      attempt: act.attempt,
      startedAt: act.startedAt,
      finishedAt,
      durationMs: finishedAt - act.startedAt,
      consumed: act.inflight.counts,
      // Shared and frozen already unless the activation emitted twice or more (see `countEmission`): JobState is read-only.
      emitted: Object.isFrozen(act.emitted) ? act.emitted : Object.freeze(act.emitted),
      outcome,
    };
    if (error) record.error = error;
    if (act.abandoned) record.abandoned = true;
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
    return (this.#snapshot ??= this.#build());
  }

  #build(): JobState {
    const job = this.job;
    // Plain objects for users. Keys are assigned: no routine id, slot, event or connection name may be `__proto__`
    // (see util/reservedName), and an output key is `<routine>.<event>`. Loops, not `fromEntries` and spreads: this
    // runs once per job at least (its final state).
    const routines: Record<string, RoutineState> = {};
    for (const cell of job.cells.values()) routines[cell.id] = this.#routine(cell);
    const outputs: Record<string, readonly Payload[]> = {};
    for (const key of Object.keys(this.#outputs)) outputs[key] = (this.#outputs[key] as Payload[]).slice();
    const ran = this.#cycles;
    let cycles = NO_CYCLES_STATE;
    if (ran) {
      const copy: Record<string, CycleRecord> = {};
      for (const name in ran) copy[name] = ran[name] as CycleRecord;
      cycles = copy;
    }
    const log = this.#log.length === 0 ? NO_ENTRIES : this.#log.slice();
    // Built in the order users see in JSON: `error` before `startedAt`, `finishedAt` last. One literal per shape, all
    // keys at once: keys added to a literal afterwards would give every state (and every retained job) a separate
    // property store.
    const { id: jobId, flowId, status, error } = job;
    const { params } = job.options;
    const { shared } = this;
    const history = this.#recentHistory();
    const startedAt = this.#startedAt;
    const finishedAt = this.#finishedAt;
    const state: JobState =
      finishedAt === undefined
        ? error
          ? { jobId, flowId, status, params, outputs, routines, shared, log, history, cycles, error, startedAt }
          : { jobId, flowId, status, params, outputs, routines, shared, log, history, cycles, startedAt }
        : error
          ? { jobId, flowId, status, params, outputs, routines, shared, log, history, cycles, error, startedAt, finishedAt }
          : { jobId, flowId, status, params, outputs, routines, shared, log, history, cycles, startedAt, finishedAt };
    return state;
  }

  /** The last `historyLimit` records (a new array, or the shared empty one). */
  #recentHistory(): HistoryRecord[] {
    const limit = this.job.services.historyLimit;
    return limit === 0 || this.#history.length === 0 ? (NO_ENTRIES as HistoryRecord[]) : this.#history.slice(-limit);
  }

  #routine(cell: RoutineCell): RoutineState {
    // The final state shares unchanged entries with earlier snapshots too; it does not refill the cache it drops.
    const cached = this.#routineCache?.get(cell.id);
    if (cached?.version === cell.version && cached.state === cell.state) return cached.view;
    const live = cell.live;
    const value = live?.actor.getSnapshot().value;
    const status: RoutineState['status'] = value === 'skipped' ? 'skipped' : cell.current && !cell.current.settled ? 'running' : (value === 'running' || value === 'backoff') && !this.job.finished ? 'running' : 'idle';
    const view: RoutineState = { state: cell.state, activations: cell.activations, errors: cell.errors, status, pending: live?.queued ? pendingOf(live.queues) : NO_PENDING };
    if (!this.#frozen) (this.#routineCache ??= new Map()).set(cell.id, { version: cell.version, state: cell.state, view });
    return view;
  }
}

/** The non-empty queues, copied (a slot is never named `__proto__`: plain assignment is safe). */
function pendingOf(queues: Readonly<Record<string, readonly unknown[]>>): Record<string, readonly unknown[]> {
  const pending: Record<string, readonly unknown[]> = {};
  for (const slot in queues) {
    const queue = queues[slot] as readonly unknown[];
    if (queue.length > 0) pending[slot] = queue.slice();
  }
  return pending;
}
