/**
 * ActorCell: a routine actor and the data its machine reads (the machine's host). The queues, the activation in
 * flight, the attempt, paused, retry due and the window/interval anchors live here, in plain fields: the routine
 * machine's guards read them and its actions change them through the `RoutineHost` methods, so the actor's context
 * (`{ host }`) is never assigned.
 *
 * An ActorCell outlives jobs: the actor pool hands an idle one to the next job of the same flow (`bind`), and takes
 * it back when that job ends (`unbind`). While bound it serves one routine of one job (`cell`, `owner`); what only
 * the job knows (its clock, scheduler, retry timers, busy count) it asks the owner through `CellOwner`.
 */
import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { routineMachine, type Inflight, type RoutineHost, type RoutineRestoreEvent } from '../../../machines/index.js';
import { readsContext, type ActivationPolicy, type PolicyContext } from '../../policies/index.js';
import { dict } from '../../util/dict.js';
import type { RoutineInstance } from '../../flow/index.js';

/** What an actor cell reads of the routine it serves (the job's `RoutineCell`). */
export interface ServedRoutine {
  readonly id: string;
  readonly inst: RoutineInstance;
  /** Consecutive failures of the policy itself: a policy that took data again resets it. */
  policyAttempts: number;
}

/** What a routine actor asks of the job it serves. */
export interface CellOwner<C extends ServedRoutine = ServedRoutine> {
  readonly id: string;
  /** The clock's time. */
  now(): number;
  /** A routine became busy (+1) or not (-1): the job is quiescent at zero. */
  busy(cell: C, delta: 1 | -1): void;
  /**
   * Schedules the activation (never runs it inside the transition). `takenAt`: the clock's time when the policy took
   * its data in this same transition (unset for a retry or a restore), so the owner need not read the clock again.
   */
  startActivation(cell: C, inflight: Inflight, attempt: number, takenAt: number | undefined): void;
  /** Arms the retry timer of a routine in backoff. */
  armRetry(cell: C, attempt: number): void;
}

export type Inspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** What a policy function marked context-free gets for its `ctx` (it never reads it; see `readsContext`). */
const UNREAD = undefined as unknown as PolicyContext;

export class ActorCell<C extends ServedRoutine = ServedRoutine> implements RoutineHost {
  readonly actor: Actor<typeof routineMachine>;
  /** Slot -> queued payloads, oldest first, mutated in place (copying on every arrival would make a batch quadratic). */
  readonly queues: Record<string, unknown[]>;
  inflight: Inflight | undefined = undefined;
  /** 0 for the first attempt of the in-flight activation, k for retry k. */
  attempt = 0;
  paused = false;
  retryDue = false;
  lastActivationAt: number | undefined = undefined;
  /** When data first arrived into empty queues (a window opens). */
  firstArrivalAt: number | undefined = undefined;
  /**
   * What the policy's guard threw at its last evaluation: the consume step of the same transition hands it to the
   * activation, which fails without running (the data stays queued). The guard changes no routine data.
   */
  #guardError: { readonly error: unknown } | undefined = undefined;
  /** The routine and job served now (unset while parked in the pool). */
  cell: C | undefined = undefined;
  owner: CellOwner<C> | undefined = undefined;
  /** Slot -> its arrival's event type (`slot.<name>`): one interned string per slot, not a new one per arrival. */
  readonly #arrivalTypes: Record<string, `slot.${string}`>;
  /** The served policy's guard, and its consume step or message, read their `ctx` (set by `bind`). */
  #guardReadsContext = true;
  #takeReadsContext = true;
  /** The policy those two flags were read from. */
  #policy: ActivationPolicy | undefined = undefined;
  /** The last activation's counts, frozen and shared with the next while they stay the same (see `#counts`). */
  #lastCounts: Readonly<Record<string, number>> | undefined = undefined;
  #lastCountsSize = 0;
  /** When `consume` took the data, for the `startActivation` of the same transition (then unset). */
  #takenAt: number | undefined = undefined;
  /**
   * The clock's time read by `arrive`, for the transition its `slot.<name>` event runs in (then unset): an arrival
   * that opens a window and is taken at once reads the clock once, not twice (no time passes within one send).
   */
  #arrivedAt: number | undefined = undefined;

  constructor(slots: readonly string[], id: string, inspect: Inspect | undefined) {
    this.queues = dict<unknown[]>();
    this.#arrivalTypes = dict<`slot.${string}`>();
    for (const slot of slots) {
      this.queues[slot] = [];
      this.#arrivalTypes[slot] = `slot.${slot}`;
    }
    this.actor = createActor(routineMachine, { id, input: { host: this }, ...(inspect ? { inspect } : {}) });
    this.actor.start();
  }

  bind(cell: C, owner: CellOwner<C>): void {
    this.cell = cell;
    this.owner = owner;
    const policy = cell.inst.policy;
    // A pooled cell serves the same routine job after job: its policy's flags are looked up once, not per job.
    if (policy === this.#policy) return;
    this.#policy = policy;
    this.#guardReadsContext = readsContext(policy, 'ready');
    this.#takeReadsContext = readsContext(policy, 'take') || readsContext(policy, 'message');
  }

  unbind(): void {
    this.cell = undefined;
    this.owner = undefined;
  }

  /** True when any slot holds data. */
  get queued(): boolean {
    for (const slot in this.queues) if ((this.queues[slot] as unknown[]).length > 0) return true;
    return false;
  }

  /**
   * An arrival into `slot`: queued first, then announced to the actor as `slot.<name>`, so the policy guard of that
   * transition sees it. The slot is known to exist (connections are checked when the flow compiles, posts by
   * `assertSlot`).
   */
  arrive(slot: string, payload: unknown): void {
    const queue = this.queues[slot];
    const type = this.#arrivalTypes[slot];
    if (!queue || type === undefined) return;
    queue.push(payload);
    if (this.firstArrivalAt === undefined && this.owner) this.#arrivedAt = this.firstArrivalAt = this.owner.now();
    this.actor.send({ type, payload });
    this.#arrivedAt = undefined;
  }

  policyContext(cell: ServedRoutine, owner: CellOwner<C>, now = owner.now()): PolicyContext {
    return { now, lastActivationAt: this.lastActivationAt, firstArrivalAt: this.firstArrivalAt, routineId: cell.id, jobId: owner.id };
  }

  // --- RoutineHost: what the machine's guards and actions call ------------------------------------------------

  // A custom policy is user code inside a guard: a throw must not crash the actor. The guard then holds, and the
  // consume step hands the error to the activation.
  ready(resuming: boolean): boolean {
    this.#guardError = undefined;
    const { cell, owner } = this;
    if ((this.paused && !resuming) || !cell || !owner) return false;
    try {
      return cell.inst.policy.ready(this.queues, this.#guardReadsContext ? this.policyContext(cell, owner, this.#arrivedAt ?? owner.now()) : UNREAD);
    } catch (error) {
      this.#guardError = { error };
      return true;
    }
  }

  activate(): void {
    this.owner?.busy(this.cell as C, 1);
    this.consume();
  }

  consume(): void {
    const { cell, owner } = this;
    if (!cell || !owner) return;
    // One clock read for the policy's context, the anchors and the activation's queue time (the arrival's, when an
    // arrival in this same send read it).
    const now = this.#arrivedAt ?? owner.now();
    this.inflight = this.#take(cell, owner, now);
    this.attempt = 0;
    this.retryDue = false;
    this.lastActivationAt = now;
    this.firstArrivalAt = this.queued ? now : undefined;
    this.#takenAt = now;
  }

  startActivation(): void {
    const takenAt = this.#takenAt;
    this.#takenAt = undefined;
    this.owner?.startActivation(this.cell as C, this.inflight as Inflight, this.attempt, takenAt);
  }

  armRetry(): void {
    this.owner?.armRetry(this.cell as C, this.attempt);
  }

  nextAttempt(): void {
    this.attempt++;
    this.retryDue = false;
  }

  finish(): void {
    this.inflight = undefined;
    this.attempt = 0;
    this.retryDue = false;
    this.owner?.busy(this.cell as C, -1);
  }

  markRetryDue(): void {
    this.retryDue = true;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  reset(): void {
    for (const slot in this.queues) (this.queues[slot] as unknown[]).length = 0;
    this.inflight = undefined;
    this.attempt = 0;
    this.paused = false;
    this.retryDue = false;
    this.lastActivationAt = undefined;
    this.firstArrivalAt = undefined;
    this.#guardError = undefined;
    this.#takenAt = undefined;
  }

  restore(event: RoutineRestoreEvent): void {
    // One push per item: a restored queue may hold more items than a call takes arguments.
    for (const slot in this.queues) {
      const queue = this.queues[slot] as unknown[];
      // Own keys only: a slot named like an Object.prototype member must not read an inherited value.
      if (Object.hasOwn(event.queues, slot)) for (const item of event.queues[slot] ?? []) queue.push(item);
    }
    this.inflight = event.inflight;
    this.attempt = event.attempt;
    this.paused = event.paused;
    this.retryDue = false;
    this.lastActivationAt = event.lastActivationAt;
    this.firstArrivalAt = event.firstArrivalAt;
    if (event.target === 'running' || event.target === 'backoff') this.owner?.busy(this.cell as C, 1);
  }

  /**
   * The job ended while the activation had taken its data but not started (waiting for the scheduler, or in retry
   * backoff): that data was never processed, so it goes back to the head of its queues, in order.
   */
  unconsume(): void {
    const inflight = this.inflight;
    if (!inflight) return;
    for (const [slot, consumed] of Object.entries(inflight.consumed)) {
      const queue = this.queues[slot];
      // In place, without spreading: a queue may hold more items than a call takes arguments.
      if (!queue || consumed.length === 0) continue;
      const merged = consumed.concat(queue);
      queue.length = 0;
      for (const item of merged) queue.push(item);
    }
    this.inflight = undefined;
  }

  /** The policy's consume step: removes what it takes from the queues (a policy that threw takes nothing). */
  #take(cell: C, owner: CellOwner<C>, now: number): Inflight {
    const policy = cell.inst.policy;
    // The context as of before this activation (the anchors are moved after the take).
    const policyContext = this.#takeReadsContext ? this.policyContext(cell, owner, now) : UNREAD;
    const failed = this.#guardError;
    this.#guardError = undefined;
    let counts: Readonly<Record<string, number>>;
    try {
      if (failed) throw failed.error;
      counts = policy.take(this.queues, policyContext);
    } catch (failure) {
      return { consumed: {}, counts: {}, message: { reason: policy.name }, failure };
    }
    cell.policyAttempts = 0;
    const consumed = dict<unknown[]>();
    for (const slot of cell.inst.routine.slotNames) {
      const queue = this.queues[slot] as unknown[];
      // Only the policy's own counts: a slot named like an Object.prototype member must not read an inherited one.
      const wanted = Object.hasOwn(counts, slot) ? counts[slot] : 0;
      const n = Math.min(typeof wanted === 'number' ? wanted : 0, queue.length);
      consumed[slot] = Object.freeze(n === queue.length ? queue.splice(0) : queue.splice(0, n)) as unknown[];
    }
    // The lists `run` gets in `slots` are frozen like the payloads they hold (a retry re-runs the same lists). The
    // record around them is not: it is this activation's own, and freezing a prototype-less record measured ~0.4 µs.
    const kept = this.#counts(counts);
    return { consumed, counts: kept, message: policy.message(kept, policyContext) };
  }

  /**
   * The counts an activation keeps (its history record holds them, and a finished job is retained): the previous
   * activation's frozen record when they are the same, which they are job after job for most routines, so a retained
   * job holds no record of its own for them. Counts that are not all numbers are kept as the policy gave them.
   */
  #counts(counts: Readonly<Record<string, number>>): Readonly<Record<string, number>> {
    const last = this.#lastCounts;
    let size = 0;
    let same = last !== undefined;
    for (const slot in counts) {
      const n = counts[slot];
      if (typeof n !== 'number') return counts;
      if (same && (last as Readonly<Record<string, number>>)[slot] !== n) same = false;
      size++;
    }
    if (same && size === this.#lastCountsSize) return last as Readonly<Record<string, number>>;
    const copy = dict<number>();
    for (const slot in counts) copy[slot] = counts[slot] as number;
    this.#lastCountsSize = size;
    return (this.#lastCounts = Object.freeze(copy));
  }
}
