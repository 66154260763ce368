/**
 * RoutineCell: one routine instance within one job: what the job keeps about it (its state, counts, timers, the
 * activation running) and, while the job is live, the routine actor serving it (`live`).
 */
import type { TimerHandle } from '../../clock/index.js';
import type { RoutineInstance } from '../../flow/index.js';
import type { ErrorStrategy } from '../../routine/index.js';
import type { Activation } from './Activation.js';
import { ActorCell, type CellOwner, type Inspect } from './ActorCell.js';
import type { ActorPool } from './ActorPool.js';
import { baseInstance } from './overrides.js';

export interface RoutineCell {
  readonly id: string;
  readonly inst: RoutineInstance;
  readonly strategy: ErrorStrategy;
  /** The routine actor and the data its machine reads; unset once the job ended (or before it opened). */
  live: ActorCell<RoutineCell> | undefined;
  /** The actor came from the runtime's pool (and goes back to it when the job ends). */
  pooled: boolean;
  state: unknown;
  activations: number;
  errors: number;
  current: Activation | undefined;
  /** The policy timer (interval, window) and when it is due. */
  timer: TimerHandle;
  timerDue: number | undefined;
  retryTimer: TimerHandle;
  /** When the retry in backoff is due (clock time), for snapshots. */
  retryAt: number | undefined;
  /** Consecutive failures of the policy itself (the attempt number its error strategy sees). */
  policyAttempts: number;
  /** A policy failure's retry: asks the policy again when due. */
  policyRetryTimer: TimerHandle;
  /** Bumped on every change the state view shows. */
  version: number;
  /**
   * Restored into `running` mid-activation: the next activation re-runs the snapshot's in-flight one and skips its
   * first `delivered` emissions (delivered before the snapshot).
   */
  replay: { readonly delivered: number } | undefined;
}

export function routineCell(inst: RoutineInstance, strategy: ErrorStrategy): RoutineCell {
  return {
    id: inst.id,
    inst,
    strategy,
    live: undefined,
    pooled: false,
    state: inst.routine.initialState,
    activations: 0,
    errors: 0,
    current: undefined,
    timer: undefined,
    timerDue: undefined,
    retryTimer: undefined,
    retryAt: undefined,
    policyAttempts: 0,
    policyRetryTimer: undefined,
    version: 0,
    replay: undefined,
  };
}

/** Binds a routine actor to `cell` for its job: an idle one from the pool, or a new one (always new under `inspect`). */
export function bindActor(cell: RoutineCell, jobId: string, owner: CellOwner<RoutineCell>, pool: ActorPool | undefined, inspect: Inspect | undefined): void {
  // The id is built only for a new actor (a pooled one keeps the id it was created with).
  const live = pool ? pool.acquire<RoutineCell>(baseInstance(cell.inst), jobId, cell.id) : new ActorCell<RoutineCell>(cell.inst.routine.slotNames, `routine:${jobId}:${cell.id}`, inspect);
  cell.pooled = pool !== undefined;
  live.bind(cell, owner);
  cell.live = live;
}

/** The job ended: the routine actor goes back to the pool (kept if idle and empty), or is stopped. */
export function releaseActor(cell: RoutineCell, pool: ActorPool | undefined): void {
  const live = cell.live;
  if (!live) return;
  cell.live = undefined;
  if (cell.pooled && pool) {
    pool.release(baseInstance(cell.inst), live);
    return;
  }
  live.unbind();
  live.actor.stop();
}
