/**
 * JobRunner: one job. It hosts the job's supervisor actor and its routine actors, routes payloads, runs
 * activations through the shared scheduler, and keeps the job's data (state, shared, log, history, outputs).
 */
import { createActor, type Actor } from 'xstate';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';
import { edgeOutcome, routineMachine, supervisorMachine, type Inflight, type RoutineHost, type RoutineMachineContext, type SupervisorHost, type SupervisorStatus } from '../../machines/index.js';
import type { TimerHandle } from '../clock/index.js';
import { CycleExhaustedError, JobCancelledError, JobFinishedError, JobTimeoutError, PayloadError, RoutineError, SlotQueueFullError } from '../errors/index.js';
import { assertSlot, type Connection, type FlowDefinition, type RoutineInstance } from '../flow/index.js';
import type { PolicyContext } from '../policies/index.js';
import type { ErrorStrategy, Payload } from '../routine/index.js';
import { TaskQueue } from '../scheduler/index.js';
import { abortActivation, releaseOrAbandon, runActivation, type Activation } from './runActivation.js';
import type { JobEvent } from './JobEvent.js';
import { JobStateView } from './JobStateView.js';
import { isFinalStatus, type JobStatus } from './JobState.js';
import type { RuntimeServices } from './RuntimeServices.js';
import type { JobMeter } from '../metrics/index.js';
import { payloadIssues } from './validatePayload.js';
import { restoreRoutines, takeSnapshot } from './jobSnapshot.js';
import { lastActivationAt, type Lease, type SupervisorLease } from './ActorPool.js';
import { breakpointRoutines } from './Breakpoint.js';
import { dict } from '../util/dict.js';
import { flushProgress } from './progress.js';
import { pendingCleanups, runCleanups } from './cleanup.js';
import { baseInstance, overriddenInstance, type Overrides } from './overrides.js';
import { deepFreeze } from '../util/deepFreeze.js';
import { withChildren } from '../subflow/childJobs.js';

/** One routine instance within a job. */
export interface Cell {
  readonly id: string;
  readonly inst: RoutineInstance;
  readonly strategy: ErrorStrategy;
  readonly host: RoutineHost;
  actor: Actor<typeof routineMachine> | undefined;
  /** The actor came from the runtime's pool (and goes back to it when the job ends). */
  lease: Lease | undefined;
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
  /** Set when the policy's guard threw; taken by the consume step. */
  policyFailure: { readonly error: unknown } | undefined;
  /** Consecutive failures of the policy itself (the attempt number its error strategy sees). */
  policyAttempts: number;
  /**
   * The policy just failed and the strategy went on (`continue`, or `retry` in backoff): the routine's eventless
   * check right after must not ask it again about the same queues (it would throw again, at once, forever).
   */
  policyQuiet: boolean;
  /** A policy failure's retry: asks the policy again when due. */
  policyRetryTimer: TimerHandle;
  /** The policy just said no, and the routine's eventless check asks next (see the routine host's `ready`). */
  declined: boolean;
  /** Bumped on every change the state view shows. */
  version: number;
  /**
   * Restored into `running` mid-activation: the next activation re-runs the snapshot's in-flight one and skips its
   * first `delivered` emissions (delivered before the snapshot).
   */
  replay: { readonly delivered: number } | undefined;
}

export interface JobOptions {
  readonly params: Payload | undefined;
  /** A first delivery other than params (`runtime.post` without a job id). */
  readonly initial?: { readonly routine: string; readonly slot: string; readonly payload: unknown };
  readonly keepAlive: boolean;
  readonly timeoutMs: number | undefined;
  /** A snapshot this job continues (`runtime.restore`). */
  readonly from?: JobSnapshot;
  /** Per-routine overrides for this job (`exec({ overrides })`), checked. */
  readonly overrides?: Overrides;
  /** Subflows: the job whose activation started this one (`asRoutine`); it takes no `maxJobs` place. */
  readonly parentId?: string;
}

export class JobRunner {
  readonly flowId: string;
  readonly cells = new Map<string, Cell>();
  readonly queue = new TaskQueue();
  readonly data: JobStateView;
  status: JobStatus = 'queued';
  error: Error | undefined;
  /** False once the job's first tick is over and nobody subscribed: events are then not even built. */
  wantEvents = true;
  /** Subscribers to `job.events$`. */
  jobObserved = 0;
  /** Set by the routing action when a delivery failed; read by `emit` after the supervisor returns. */
  routeError: Error | undefined;
  /** Called on every change the state view shows (the runtime's checkpointer listens here). */
  onChange: (() => void) | undefined;
  /** Subflows: told of every status change (a parent's pause and resume reach its children). */
  onStatus: ((status: SupervisorStatus) => void) | undefined;
  /** Subflows: told of every emission of this job (a child's mapped events are its parent routine's). */
  onEmitted: ((routineId: string, event: string, payload: Payload) => void) | undefined;
  /** Params (or the initial post) were delivered: the job got its `maxJobs` place (now or before a restore). */
  admitted: boolean;
  /** When the job's `timeoutMs` runs out (clock time). */
  deadlineAt: number | undefined;
  /** `ctx.job` of every activation: one frozen object per job. */
  readonly handleInfo: { readonly id: string; readonly flowId: string };
  /** This job's metrics (`job.metrics`), set by the collector when the job is created; unset with metrics off. */
  meter: JobMeter | undefined;
  readonly #supervisor: Actor<typeof supervisorMachine>;
  /** The supervisor came from the runtime's pool (a finished one is reset for this job). */
  readonly #supervisorLease: SupervisorLease | undefined;
  readonly #directRouting: boolean;
  /** A bound `onExhausted: 'fail'` edge ran out during the routing step in progress. */
  #exhausted: Error | undefined;
  #busy = 0;
  #timers = 0;
  #deadline: TimerHandle;
  readonly #onFinished: (() => void)[] = [];
  /** Routine ids the job pauses before (`setBreakpoints`). */
  #breakpoints: ReadonlySet<string> = new Set();
  /** `step()`: activations that may still start before the job pauses again (`undefined`: not stepping). */
  #stepBudget: number | undefined;
  /** Breakpoints or a step are set: every activation asks `#hold` before it starts (one check on the hot path). */
  #gated = false;
  /** The routine whose breakpoint holds the job, until that activation starts. */
  pausedAt: string | undefined;
  /** Finished, and routines' cleanups are still running: the final event and `onFinished` callbacks wait for them. */
  #cleaning = false;

  /** The supervisor's host: the runner's private steps, one object per job rather than a closure per step. */
  static readonly #SupervisorHostOf = class implements SupervisorHost {
    constructor(readonly runner: JobRunner) {}
    quiescent(): boolean {
      return this.runner.#busy === 0 && this.runner.#timers === 0;
    }
    route(routineId: string, event: string, payload: unknown): void {
      this.runner.#route(routineId, event, payload as Payload);
    }
    deliver(routineId: string, slot: string, payload: unknown): void {
      this.runner.#deliverSafely(routineId, slot, payload);
    }
    pauseRoutines(paused: boolean): void {
      this.runner.#pauseRoutines(paused);
    }
    finished(status: 'completed' | 'failed' | 'cancelled', error: unknown): void {
      this.runner.#finish(status, error as Error | undefined);
    }
    status(status: SupervisorStatus): void {
      this.runner.#status(status);
    }
  };

  /** A routine actor's host: its policy, clock and scheduler, for one routine of one job (one object per routine). */
  static readonly #RoutineHostOf = class implements RoutineHost {
    constructor(
      readonly runner: JobRunner,
      readonly cell: Cell,
    ) {}
    // A custom policy is user code inside a guard: a throw must not crash the actor. The guard then holds, and
    // the consume step hands the error to the activation, which fails without running (data stays queued).
    ready(context: RoutineMachineContext, arrivalAt?: number, thenIdle?: boolean): boolean {
      const cell = this.cell;
      if (cell.policyQuiet) {
        cell.policyQuiet = false;
        return false;
      }
      // The policy just said no to an arrival or at the end of an activation, and the routine went `idle` in the
      // same macrostep: its eventless check asks about the very same queues, and gets the same answer without
      // asking the policy twice (a custom policy is called once per arrival, as before the one-microstep path).
      if (cell.declined) {
        cell.declined = false;
        if (!thenIdle) return false;
      }
      try {
        const ready = cell.inst.policy.ready(context.queues, this.runner.#policyContext(cell, context, arrivalAt));
        cell.declined = thenIdle === true && !ready;
        return ready;
      } catch (error) {
        cell.policyFailure = { error };
        return true;
      }
    }
    consume(context: RoutineMachineContext, arrivalAt?: number): Inflight {
      return this.runner.#consume(this.cell, context, arrivalAt);
    }
    startActivation(context: RoutineMachineContext): void {
      const { runner, cell } = this;
      const inflight = context.inflight as Inflight;
      const attempt = context.attempt;
      const queuedAt = runner.services.metrics.stamp();
      // Held once at a breakpoint, the same activation does not stop there again (resume or step lets it go).
      let held = false;
      const task = () => {
        if (runner.#gated && runner.#hold(cell, inflight, task, held)) {
          held = true;
          return;
        }
        if (held && runner.pausedAt === cell.id) runner.pausedAt = undefined;
        runActivation(runner, cell, inflight, attempt, queuedAt);
      };
      runner.services.scheduler.enqueue(runner.queue, task);
    }
    armRetry(context: RoutineMachineContext): void {
      this.runner.#armRetry(this.cell, context.attempt);
    }
    busy(delta: 1 | -1): void {
      this.runner.#busy += delta;
      this.cell.version++;
    }
    now(): number {
      return this.runner.services.clock.now();
    }
  };

  constructor(
    readonly id: string,
    readonly flow: FlowDefinition,
    readonly options: JobOptions,
    readonly services: RuntimeServices,
  ) {
    this.flowId = flow.id;
    this.handleInfo = Object.freeze({ id, flowId: flow.id });
    this.admitted = options.from?.admitted ?? false;
    this.deadlineAt = options.from?.deadlineAt;
    this.data = new JobStateView(this, services.clock.now());
    const { overrides } = options;
    for (const inst of flow.routines.values()) this.cells.set(inst.id, this.#cell(overrides ? overriddenInstance(inst, overrides[inst.id]) : inst));
    const host = new JobRunner.#SupervisorHostOf(this);
    const pool = services.actorPool;
    if (pool) {
      this.#supervisorLease = pool.acquireSupervisor(host, `job:${id}`, options.keepAlive);
      this.#supervisor = this.#supervisorLease.actor;
    } else {
      this.#supervisor = createActor(supervisorMachine, {
        id: `job:${id}`,
        input: { host, keepAlive: options.keepAlive },
        ...(services.inspect ? { inspect: services.inspect } : {}),
      });
    }
    // Emissions skip the supervisor's mailbox while it is running (see `emitted`), except under an inspector,
    // which then sees every `routine.emitted` event.
    this.#directRouting = services.inspect === undefined;
  }

  get finished(): boolean {
    return isFinalStatus(this.status);
  }

  /** Finished and its cleanups done: its final event went out (`wait()` resolves). */
  get closed(): boolean {
    return this.finished && !this.#cleaning;
  }

  /**
   * Starts the supervisor (status `queued`); `admit()` lets it run. Until then the job's activations are held: a
   * post into a queued job queues (its routine may take the data), but nothing runs. A restored job gets its data
   * and routines back here, so a job waiting for its `maxJobs` place shows (and checkpoints) what it holds.
   */
  open(): void {
    this.services.scheduler.setPaused(this.queue, true);
    // Routine actors are created here, outside any machine transition: XState builds an actor's initial state with
    // its own `assign`, which must not run inside another actor's action.
    for (const cell of this.cells.values()) this.#spawn(cell);
    const lease = this.#supervisorLease;
    // A reused supervisor goes from its last job's final status back to `queued` (its entry announces this job).
    if (lease?.used) this.#supervisor.send({ type: 'reset', keepAlive: this.options.keepAlive });
    else this.#supervisor.start();
    if (this.options.from) restoreRoutines(this, this.options.from);
  }

  /** Drops a job that never ran (its restore failed): stops its actors without events or checkpoints. */
  discard(): void {
    this.services.scheduler.clear(this.queue);
    this.#supervisor.stop();
    for (const cell of this.cells.values()) {
      if (cell.timer !== undefined) this.services.clock.clearTimeout(cell.timer);
      if (cell.retryTimer !== undefined) this.services.clock.clearTimeout(cell.retryTimer);
      if (cell.policyRetryTimer !== undefined) this.services.clock.clearTimeout(cell.policyRetryTimer);
      cell.actor?.stop();
      cell.actor = undefined;
      cell.lease = undefined;
    }
  }

  /** The scheduler admitted the job (maxJobs): deliver params and run. A restored job first gets its routines back. */
  admit(): void {
    if (this.finished) return;
    const { timeoutMs, from } = this.options;
    const clock = this.services.clock;
    if (timeoutMs !== undefined) {
      this.deadlineAt ??= clock.now() + timeoutMs;
      const left = this.deadlineAt - clock.now();
      const timeout = () => {
        this.fail(new JobTimeoutError(this.id, this.flowId, timeoutMs));
      };
      // A restored job already past its deadline fails before anything runs again.
      if (left <= 0) {
        timeout();
        return;
      }
      this.#deadline = clock.setTimeout(timeout, left);
    }
    if (!this.admitted) {
      const { entry } = this.flow;
      const { initial, keepAlive } = this.options;
      // Without keepAlive the entry is always triggered (params default to `{}`): a job that ran nothing would
      // report `completed` with nothing done. A keepAlive job waits for posts, so only given params trigger it; a
      // job opened by a post (`initial`) has that post as its first delivery.
      const params = this.options.params ?? (keepAlive || initial ? undefined : {});
      if (params !== undefined && entry) this.#deliverSafely(entry.routine, entry.slot, params);
      if (initial) this.#deliverSafely(initial.routine, initial.slot, initial.payload);
      this.admitted = true;
    }
    if (this.routeError) {
      const error = this.routeError;
      this.routeError = undefined;
      this.fail(error);
      return;
    }
    const paused = from?.status === 'paused';
    if (!paused) this.services.scheduler.setPaused(this.queue, false);
    this.#supervisor.send(from ? { type: 'start', paused, completing: from.completing } : { type: 'start' });
  }

  /** The job as JSON-ready data (SPEC 5). */
  snapshot(): JobSnapshot {
    return withChildren(this, takeSnapshot(this));
  }

  /** `complete()` was called (keepAlive). */
  get completing(): boolean {
    return !this.finished && this.#supervisor.getSnapshot().context.completing;
  }

  post(routineId: string, slot: string, payload: unknown): void {
    if (this.finished) throw new JobFinishedError(this.id, this.status);
    assertSlot(this.flow, routineId, slot);
    this.routeError = undefined;
    this.#supervisor.send({ type: 'post', routineId, slot, payload });
    const error = this.routeError as Error | undefined;
    this.routeError = undefined;
    if (error) throw error;
  }

  /**
   * Routes what an activation emitted (called from `emit`, outside any machine). While the supervisor is `running`
   * or `paused` its `routine.emitted` transition is targetless and only runs `route`, and its eventless checks
   * cannot pass (the emitter is active, so the job is busy): the route is taken directly, saving an XState
   * macrostep per hop. In `idle` (keepAlive) the event moves the job back to `running`, so it goes through the
   * machine; so does everything while an inspector watches.
   */
  emitted(routineId: string, event: string, payload: Payload): void {
    this.routeError = undefined;
    this.onEmitted?.(routineId, event, payload);
    if (this.#directRouting && (this.status === 'running' || this.status === 'paused')) this.#route(routineId, event, payload);
    else this.#supervisor.send({ type: 'routine.emitted', routineId, event, payload });
  }

  // A finished job never sends to its supervisor again: the runtime may have handed it to another job.

  pause(): void {
    if (!this.finished) this.#supervisor.send({ type: 'pause' });
  }

  resume(): void {
    if (this.finished) return;
    this.#stepBudget = undefined;
    this.#gated = this.#breakpoints.size > 0;
    this.#supervisor.send({ type: 'resume' });
  }

  get breakpoints(): readonly { readonly routine: string }[] {
    return [...this.#breakpoints].map((routine) => ({ routine }));
  }

  /** Replaces the job's breakpoints (checked against the flow). */
  setBreakpoints(breakpoints: unknown, where = 'setBreakpoints(breakpoints)'): void {
    this.#breakpoints = breakpointRoutines(this.flow, where, breakpoints);
    this.#gated = this.#breakpoints.size > 0 || this.#stepBudget !== undefined;
  }

  /**
   * Lets exactly one more activation start, then pauses before the next one. A paused job resumes for it; a step
   * that leaves nothing to run lets the job complete (it is quiescent).
   */
  step(): void {
    if (this.finished) throw new JobFinishedError(this.id, this.status);
    this.#stepBudget = 1;
    this.#gated = true;
    if (this.status === 'paused') this.#supervisor.send({ type: 'resume' });
  }

  /**
   * An activation got its scheduler permit: true when it must wait instead (a breakpoint on its routine, or a step
   * already spent). The job pauses, and the task goes back to the head of the job's queue.
   */
  #hold(cell: Cell, inflight: Inflight, task: () => void, passed: boolean): boolean {
    const atBreakpoint = !passed && this.#breakpoints.has(cell.id);
    if (this.#stepBudget !== undefined) {
      if (this.#stepBudget > 0) {
        this.#stepBudget--;
        return false;
      }
    } else if (!atBreakpoint) return false;
    this.#stepBudget = undefined;
    this.#gated = this.#breakpoints.size > 0;
    // Outside any machine transition (the scheduler starts tasks in a microtask): the supervisor pauses the job's
    // queue and routines, then the task waits at the head of that queue.
    this.#supervisor.send({ type: 'pause' });
    this.services.scheduler.hold(this.queue, task);
    if (atBreakpoint) this.pausedAt = cell.id;
    if (atBreakpoint && this.wantsEvents) this.publish({ type: 'job.breakpoint', jobId: this.id, flowId: this.flowId, at: this.services.clock.now(), routineId: cell.id, consumed: inflight.consumed });
    return true;
  }

  complete(): void {
    if (this.finished) throw new JobFinishedError(this.id, this.status);
    this.#supervisor.send({ type: 'complete' });
  }

  cancel(reason?: unknown): void {
    if (this.finished) return;
    this.#supervisor.send({ type: 'cancel', error: new JobCancelledError(this.id, reason) });
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.#supervisor.send({ type: 'fail', error });
  }

  onFinished(callback: () => void): void {
    if (this.closed) callback();
    else this.#onFinished.push(callback);
  }

  /** Sends an event to a routine actor, then re-arms its policy timer and lets the supervisor re-check idleness. */
  sendRoutine(cell: Cell, event: Parameters<Actor<typeof routineMachine>['send']>[0]): void {
    const actor = cell.actor;
    if (!actor || this.finished) return;
    actor.send(event);
    if (cell.inst.policy.dueAt) this.armPolicyTimer(cell);
    this.settle();
  }

  /** Lets the supervisor notice quiescence (it checks its guard; no polling). */
  settle(): void {
    if (this.#busy === 0 && this.#timers === 0 && !this.finished) this.#supervisor.send({ type: 'settle' });
  }

  publish(event: JobEvent): void {
    this.services.publish(event);
  }

  get wantsEvents(): boolean {
    return this.wantEvents || this.jobObserved > 0 || this.services.runtimeObserved();
  }

  // --- routing -------------------------------------------------------------------------------------------

  #route(routineId: string, event: string, payload: Payload): void {
    try {
      const key = `${routineId}.${event}`;
      const connections = this.flow.outgoing.get(key);
      let delivered = false;
      if (connections) {
        for (const connection of connections) {
          if (connection.bound && !this.#crossEdge(connection, payload)) continue;
          if (!this.#deliverSafely(connection.to.routine, connection.to.slot, payload)) return;
          delivered = true;
        }
      }
      // Payloads that reach no slot (no connection, or every edge converged or was exhausted) are the flow's results.
      if (!delivered) this.data.addOutput(key, payload);
    } finally {
      // An exhausted `onExhausted: 'fail'` edge fails the job once the whole emission is routed, whether the route
      // ran inside the supervisor's transition (the `fail` event then queues behind it) or by a direct call.
      const exhausted = this.#exhausted;
      if (exhausted) {
        this.#exhausted = undefined;
        this.fail(exhausted);
      }
    }
  }

  /** The cycle guard of a bounded edge: `!until(payload) && iterations < maxIterations`. */
  #crossEdge(connection: Connection, payload: Payload): boolean {
    const bound = connection.bound;
    if (!bound) return true;
    const record = this.data.cycle(connection.name);
    let converged = false;
    if (bound.until) {
      try {
        converged = bound.until(payload, { iterations: record.iterations, jobId: this.id, edge: connection.name });
      } catch (error) {
        this.routeError ??= error instanceof Error ? error : new PayloadError(this.flowId, connection.from.routine, `edge '${connection.name}' until()`, [String(error)]);
        return false;
      }
    }
    const outcome = edgeOutcome(converged, record.iterations, bound.maxIterations);
    if (outcome === 'deliver') {
      this.data.setCycle(connection.name, record.iterations + 1, false);
      return true;
    }
    this.data.setCycle(connection.name, record.iterations, outcome === 'converged');
    if (this.wantsEvents)
      this.publish({ type: outcome === 'converged' ? 'cycle.converged' : 'cycle.exhausted', jobId: this.id, flowId: this.flowId, at: this.services.clock.now(), edge: connection.name, iterations: record.iterations });
    // After the current routing step (see `#route`): the job fails as a whole, whatever the emitter's error strategy.
    if (outcome === 'exhausted' && bound.onExhausted === 'fail') this.#exhausted ??= new CycleExhaustedError(this.flowId, connection.name, bound.maxIterations);
    return false;
  }

  /** Delivers into a slot; on failure records `routeError` (never throws: it runs inside a machine action). */
  #deliverSafely(routineId: string, slot: string, payload: unknown): boolean {
    try {
      this.#deliver(routineId, slot, payload);
      return true;
    } catch (error) {
      this.routeError ??= error as Error;
      return false;
    }
  }

  /** `routineId.slot` is known to exist: connections were validated when the flow compiled, posts by `assertSlot`. */
  #deliver(routineId: string, slot: string, payload: unknown): void {
    const cell = this.cells.get(routineId) as Cell;
    const actor = cell.actor;
    if (!actor) throw new JobFinishedError(this.id, this.status);
    // Params and posts enter the job here and are frozen in place (a routed payload was frozen by `emit`: no walk).
    deepFreeze(payload);
    const { issues, bySchema } = payloadIssues(payload, cell.inst.routine.slotSpecs[slot], this.services.validation);
    if (issues.length) {
      const error = new PayloadError(this.flowId, routineId, `slot '${slot}'`, issues);
      if (!bySchema || this.services.validation === 'strict') throw error;
      if (this.wantsEvents) this.publish({ type: 'job.warning', jobId: this.id, flowId: this.flowId, at: this.services.clock.now(), code: 'payload.invalid', message: error.message, routineId });
    }
    const queue = actor.getSnapshot().context.queues[slot];
    if (queue && queue.length >= cell.inst.maxQueue) throw new SlotQueueFullError(this.flowId, routineId, slot, cell.inst.maxQueue);
    actor.send({ type: `slot.${slot}`, payload });
    cell.version++;
    this.data.touch();
    if (cell.inst.policy.dueAt) this.armPolicyTimer(cell);
  }

  // --- routine actors --------------------------------------------------------------------------------------

  #cell(inst: RoutineInstance): Cell {
    const cell: Cell = {
      id: inst.id,
      inst,
      strategy: inst.onError ?? this.flow.onError ?? 'stop',
      host: undefined as unknown as RoutineHost,
      actor: undefined,
      lease: undefined,
      state: inst.routine.initialState,
      activations: 0,
      errors: 0,
      current: undefined,
      timer: undefined,
      timerDue: undefined,
      retryTimer: undefined,
      retryAt: undefined,
      policyFailure: undefined,
      policyAttempts: 0,
      policyQuiet: false,
      policyRetryTimer: undefined,
      declined: false,
      replay: undefined,
      version: 0,
    };
    (cell as { host: RoutineHost }).host = new JobRunner.#RoutineHostOf(this, cell);
    return cell;
  }

  /** Each routine actor is a root actor of its own (see README: how it maps to XState). */
  #spawn(cell: Cell): void {
    const id = `routine:${this.id}:${cell.id}`;
    const pool = this.services.actorPool;
    if (pool) {
      cell.lease = pool.acquire(baseInstance(cell.inst), cell.host, id);
      cell.actor = cell.lease.actor;
      return;
    }
    cell.actor = createActor(routineMachine, { id, input: { routineId: cell.id, slots: cell.inst.routine.slotNames, host: cell.host }, ...(this.services.inspect ? { inspect: this.services.inspect } : {}) });
    cell.actor.start();
  }

  #policyContext(cell: Cell, context: RoutineMachineContext, arrivalAt?: number): PolicyContext {
    return { now: this.services.clock.now(), lastActivationAt: lastActivationAt(cell.lease, context), firstArrivalAt: context.firstArrivalAt ?? arrivalAt, routineId: context.routineId, jobId: this.id };
  }

  #consume(cell: Cell, context: RoutineMachineContext, arrivalAt?: number): Inflight {
    const policyContext = this.#policyContext(cell, context, arrivalAt);
    // The consume action sets this job's own `lastActivationAt` next.
    if (cell.lease) cell.lease.staleAnchor = false;
    let counts: Readonly<Record<string, number>>;
    try {
      if (cell.policyFailure) throw cell.policyFailure.error;
      counts = cell.inst.policy.take(context.queues, policyContext);
    } catch (failure) {
      cell.policyFailure = undefined;
      return { consumed: {}, counts: {}, message: { reason: cell.inst.policy.name }, failure };
    }
    cell.policyAttempts = 0;
    const consumed = dict<unknown[]>();
    for (const slot of cell.inst.routine.slotNames) {
      const queue = context.queues[slot] as unknown[];
      // Only the policy's own counts: a slot named like an Object.prototype member must not read an inherited one.
      const wanted = Object.hasOwn(counts, slot) ? counts[slot] : 0;
      const n = Math.min(typeof wanted === 'number' ? wanted : 0, queue.length);
      consumed[slot] = Object.freeze(n === queue.length ? queue.splice(0) : queue.splice(0, n)) as unknown[];
    }
    // The lists `run` gets in `slots` are frozen like the payloads they hold (a retry re-runs the same lists). The
    // record around them is not: it is this activation's own, and freezing a prototype-less record measured ~0.4 µs.
    return { consumed, counts, message: cell.inst.policy.message(counts, policyContext) };
  }

  /** Arms (or re-arms, or clears) the routine's policy timer from its policy's `dueAt`. */
  armPolicyTimer(cell: Cell): void {
    const snapshot = cell.actor?.getSnapshot();
    const idle = snapshot?.value === 'idle' && !snapshot.context.paused;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `dueAt` is optional on the policy
    const due = idle && snapshot ? cell.inst.policy.dueAt?.(snapshot.context.queues, this.#policyContext(cell, snapshot.context)) : undefined;
    if (due === cell.timerDue) return;
    if (cell.timer !== undefined) {
      this.services.clock.clearTimeout(cell.timer);
      cell.timer = undefined;
      this.#timers--;
    }
    cell.timerDue = due;
    if (due === undefined) return;
    this.#timers++;
    cell.timer = this.services.clock.setTimeout(
      () => {
        cell.timer = undefined;
        cell.timerDue = undefined;
        this.#timers--;
        this.sendRoutine(cell, { type: 'tick' });
      },
      Math.max(0, due - this.services.clock.now()),
    );
  }

  #armRetry(cell: Cell, attempt: number): void {
    const now = this.services.clock.now();
    // A restored backoff keeps its due time.
    const delayMs = cell.current ? cell.current.retryDelayMs : Math.max(0, (cell.retryAt ?? now) - now);
    cell.retryAt = now + delayMs;
    const fire = () => {
      cell.retryTimer = undefined;
      cell.retryAt = undefined;
      this.sendRoutine(cell, { type: 'retry' });
    };
    // (A restored backoff was announced before the snapshot.)
    if (this.wantsEvents && cell.current) this.publish({ type: 'routine.retrying', jobId: this.id, flowId: this.flowId, at: now, routineId: cell.id, attempt, delayMs });
    cell.current = undefined;
    // Never send to the actor from inside its own transition: even a zero delay goes through a tick.
    if (delayMs > 0) cell.retryTimer = this.services.clock.setTimeout(fire, delayMs);
    else queueMicrotask(fire);
  }

  /**
   * The policy itself failed and its strategy says `continue` or `retry`: the routine goes back to `idle` without
   * asking the policy again at once; a retry asks it again after its backoff (as a policy tick would), a `continue`
   * on the next arrival or tick. Its data stays queued.
   */
  policyFailed(cell: Cell, retryDelayMs: number | undefined): void {
    cell.policyQuiet = true;
    if (retryDelayMs !== undefined) {
      this.#timers++;
      cell.policyRetryTimer = this.services.clock.setTimeout(() => {
        cell.policyRetryTimer = undefined;
        this.#timers--;
        this.sendRoutine(cell, { type: 'tick' });
      }, retryDelayMs);
    }
    this.sendRoutine(cell, { type: 'activation.failed', decision: 'continue', error: undefined });
    // The eventless check did not take the flag if the routine is paused: the next event asks the policy.
    cell.policyQuiet = false;
  }

  #pauseRoutines(paused: boolean): void {
    this.services.scheduler.setPaused(this.queue, paused);
    for (const cell of this.cells.values()) cell.actor?.send({ type: paused ? 'pause' : 'resume' });
    for (const cell of this.cells.values()) if (cell.inst.policy.dueAt) this.armPolicyTimer(cell);
  }

  // --- lifecycle -------------------------------------------------------------------------------------------

  #status(status: SupervisorStatus): void {
    const previous = this.status;
    this.status = status;
    this.data.touch();
    this.onStatus?.(status);
    // The supervisor's first state is `queued`, the status a runner starts with: that entry is an event too.
    if (!this.wantsEvents || (previous === status && status !== 'queued')) return;
    const base = { jobId: this.id, flowId: this.flowId, at: this.services.clock.now() };
    if (status === 'queued') this.publish({ type: 'job.queued', ...base });
    // A keepAlive job going from `idle` back to `running` is not a new start.
    else if (status === 'running' && previous !== 'idle') this.publish({ type: previous === 'paused' ? 'job.resumed' : 'job.started', ...base });
    else if (status === 'paused') this.publish({ type: 'job.paused', ...base });
  }

  #finish(status: 'completed' | 'failed' | 'cancelled', error: Error | undefined): void {
    const clock = this.services.clock;
    this.error = status === 'completed' ? undefined : error;
    // Before running activations are cut short below: the metrics count them as cancelled.
    this.services.metrics.jobFinished(this, status);
    if (this.#deadline !== undefined) clock.clearTimeout(this.#deadline);
    this.services.scheduler.clear(this.queue);
    const now = clock.now();
    const cleanups = pendingCleanups(this);
    for (const cell of this.cells.values()) {
      if (cell.timer !== undefined) clock.clearTimeout(cell.timer);
      if (cell.retryTimer !== undefined) clock.clearTimeout(cell.retryTimer);
      if (cell.policyRetryTimer !== undefined) clock.clearTimeout(cell.policyRetryTimer);
      cell.timer = cell.retryTimer = cell.policyRetryTimer = undefined;
      const running = cell.current;
      if (running && !running.settled) {
        if (running.progressed) flushProgress(this, cell);
        // The job is over now; its permit goes back when its code settles (at once if it is not running any more).
        running.settled = true;
        releaseOrAbandon(this, cell, running);
        if (running.timeout !== undefined) clock.clearTimeout(running.timeout);
        abortActivation(running, error ?? new JobCancelledError(this.id));
        this.data.addHistory(cell, running, now, 'cancelled', undefined);
      } else this.#unconsume(cell);
      cell.current = undefined;
    }
    this.#timers = 0;
    this.pausedAt = undefined;
    this.data.finish(now);
    // The final snapshot keeps what users read (pending data included); a finished job, which the runtime may
    // retain by the thousand, then holds no actor.
    this.data.freeze();
    const pool = this.services.actorPool;
    for (const cell of this.cells.values()) {
      if (cell.lease && pool) pool.release(baseInstance(cell.inst), cell.lease);
      else cell.actor?.stop();
      cell.actor = undefined;
      cell.lease = undefined;
    }
    // After this transition (we are inside the supervisor's entry action): back to the pool, or stopped.
    const supervisor = this.#supervisor;
    const lease = this.#supervisorLease;
    queueMicrotask(() => {
      if (lease && pool) pool.releaseSupervisor(lease);
      else supervisor.stop();
    });
    const end = () => {
      this.#cleaning = false;
      const base = { jobId: this.id, flowId: this.flowId, at: now };
      if (this.wantsEvents) {
        if (status === 'completed') this.#warnPending(now);
        if (status === 'completed') this.publish({ type: 'job.completed', ...base });
        else if (status === 'failed') this.publish({ type: 'job.failed', ...base, error: error as Error });
        else this.publish({ type: 'job.cancelled', ...base, error: error as Error });
      }
      this.services.finished(this.id);
      for (const callback of this.#onFinished.splice(0)) callback();
    };
    if (!cleanups) {
      end();
      return;
    }
    this.#cleaning = true;
    void runCleanups(this, status, cleanups, end);
  }

  /** One `job.warning` for data no activation took in a completed job (it stays in the final state's `pending`). */
  #warnPending(at: number): void {
    const left: string[] = [];
    for (const [routineId, routine] of Object.entries(this.data.snapshot.routines))
      for (const [slot, items] of Object.entries(routine.pending)) left.push(`${routineId}.${slot} (${items.length})`);
    if (left.length === 0) return;
    this.publish({ type: 'job.warning', jobId: this.id, flowId: this.flowId, at, code: 'data.pending', message: `Job '${this.id}' of flow '${this.flowId}' completed with data no activation took: ${left.join(', ')}; it stays in the final state's pending` });
  }

  /**
   * The job ended while the routine's activation had taken its data but not started (waiting for the scheduler, or
   * in retry backoff): that data was never processed, so the final state shows it as pending again, in order.
   * (The actor is about to be stopped: nothing else reads its queues.)
   */
  #unconsume(cell: Cell): void {
    const snapshot = cell.actor?.getSnapshot();
    const inflight = snapshot?.context.inflight;
    if (!snapshot || !inflight || typeof snapshot.value !== 'object') return;
    for (const [slot, consumed] of Object.entries(inflight.consumed)) {
      const queue = snapshot.context.queues[slot];
      // In place, without spreading: a queue may hold more items than a call takes arguments.
      if (!queue || consumed.length === 0) continue;
      const merged = consumed.concat(queue);
      queue.length = 0;
      for (const item of merged) queue.push(item);
    }
    cell.version++;
  }

  /** The error a `stop` strategy fails the job with. */
  routineError(cell: Cell, cause: unknown): RoutineError {
    return new RoutineError(this.flowId, cell.id, this.id, cause);
  }
}

