/**
 * JobRunner: one job. It hosts the job's supervisor actor and its routine actors, routes payloads, runs
 * activations through the shared scheduler, and keeps the job's data (state, shared, log, history, outputs).
 */
import { createActor, type Actor } from 'xstate';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';
import { edgeOutcome, supervisorMachine, type Inflight, type RoutineMachineEvent, type SupervisorHost, type SupervisorStatus } from '../../machines/index.js';
import type { TimerHandle } from '../clock/index.js';
import { CycleExhaustedError, JobCancelledError, JobFinishedError, JobTimeoutError, PayloadError, RoutineError, SlotQueueFullError } from '../errors/index.js';
import { assertSlot, type Connection, type FlowDefinition } from '../flow/index.js';
import type { Payload } from '../routine/index.js';
import { TaskQueue } from '../scheduler/index.js';
import { abortActivation, releaseOrAbandon, runActivation } from './runActivation.js';
import type { JobEvent } from './JobEvent.js';
import { JobStateView } from './JobStateView.js';
import { isFinalStatus, type JobStatus } from './JobState.js';
import type { RuntimeServices } from './RuntimeServices.js';
import type { JobMeter } from '../metrics/index.js';
import { payloadIssues } from './validatePayload.js';
import { restoreRoutines, takeSnapshot } from './jobSnapshot.js';
import type { SupervisorLease } from './ActorPool.js';
import { ActorCell, type CellOwner } from '../internal/job/ActorCell.js';
import { routineCell, type RoutineCell } from '../internal/job/RoutineCell.js';
import { breakpointRoutines } from './Breakpoint.js';
import { flushProgress } from './progress.js';
import { pendingCleanups, runCleanups } from './cleanup.js';
import { baseInstance, overriddenInstance, type Overrides } from './overrides.js';
import { deepFreeze } from '../util/deepFreeze.js';

/** One routine instance within a job. */
export type Cell = RoutineCell;

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
  /** `complete()` was called (keepAlive): complete when next quiescent. */
  #completing = false;
  /** The error a `fail` or `cancel` ends the job with (the supervisor's `recordError`). */
  #endError: Error | undefined;
  readonly #owner: CellOwner;

  /** The supervisor's host: the runner's private steps, one object per job rather than a closure per step. */
  static readonly #SupervisorHostOf = class implements SupervisorHost {
    constructor(readonly runner: JobRunner) {}
    get keepAlive(): boolean {
      return this.runner.options.keepAlive;
    }
    get completing(): boolean {
      return this.runner.#completing;
    }
    markCompleting(): void {
      this.runner.#completing = true;
    }
    recordError(error: unknown): void {
      this.runner.#endError = error as Error;
    }
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
    finished(status: 'completed' | 'failed' | 'cancelled'): void {
      this.runner.#finish(status, this.runner.#endError);
    }
    status(status: SupervisorStatus): void {
      this.runner.#status(status);
    }
  };

  /** What the job's routine actors ask of it (one object per job). */
  static readonly #CellOwnerOf = class implements CellOwner {
    constructor(readonly runner: JobRunner) {}
    get id(): string {
      return this.runner.id;
    }
    now(): number {
      return this.runner.services.clock.now();
    }
    busy(cell: Cell, delta: 1 | -1): void {
      this.runner.#busy += delta;
      cell.version++;
    }
    startActivation(cell: Cell, inflight: Inflight, attempt: number): void {
      const runner = this.runner;
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
    armRetry(cell: Cell, attempt: number): void {
      this.runner.#armRetry(cell, attempt);
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
    for (const inst of flow.routines.values()) {
      const effective = overrides ? overriddenInstance(inst, overrides[inst.id]) : inst;
      this.cells.set(inst.id, routineCell(effective, effective.onError ?? flow.onError ?? 'stop'));
    }
    this.#owner = new JobRunner.#CellOwnerOf(this);
    const host = new JobRunner.#SupervisorHostOf(this);
    const pool = services.actorPool;
    if (pool) {
      this.#supervisorLease = pool.acquireSupervisor(host, `job:${id}`);
      this.#supervisor = this.#supervisorLease.actor;
    } else {
      this.#supervisor = createActor(supervisorMachine, {
        id: `job:${id}`,
        input: { host },
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
    if (lease?.used) this.#supervisor.send({ type: 'reset' });
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
      cell.live?.unbind();
      cell.live?.actor.stop();
      cell.live = undefined;
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
    this.settle();
  }

  /** The job as JSON-ready data (SPEC 5). */
  snapshot(): JobSnapshot {
    return takeSnapshot(this);
  }

  /** `complete()` was called (keepAlive). */
  get completing(): boolean {
    return !this.finished && this.#completing;
  }

  post(routineId: string, slot: string, payload: unknown): void {
    if (this.finished) throw new JobFinishedError(this.id, this.status);
    assertSlot(this.flow, routineId, slot);
    this.routeError = undefined;
    this.#supervisor.send({ type: 'post', routineId, slot, payload });
    this.settle();
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
    if (this.#directRouting && (this.status === 'running' || this.status === 'paused')) this.#route(routineId, event, payload);
    else {
      this.#supervisor.send({ type: 'routine.emitted', routineId, event, payload });
      this.settle();
    }
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
    this.settle();
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
    if (this.status !== 'paused') return;
    this.#supervisor.send({ type: 'resume' });
    this.settle();
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
    this.settle();
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
  sendRoutine(cell: Cell, event: RoutineMachineEvent): void {
    const live = cell.live;
    if (!live || this.finished) return;
    live.actor.send(event);
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
    const live = cell.live;
    if (!live) throw new JobFinishedError(this.id, this.status);
    // Params and posts enter the job here and are frozen in place (a routed payload was frozen by `emit`: no walk).
    deepFreeze(payload);
    const { issues, bySchema } = payloadIssues(payload, cell.inst.routine.slotSpecs[slot], this.services.validation);
    if (issues.length) {
      const error = new PayloadError(this.flowId, routineId, `slot '${slot}'`, issues);
      if (!bySchema || this.services.validation === 'strict') throw error;
      if (this.wantsEvents) this.publish({ type: 'job.warning', jobId: this.id, flowId: this.flowId, at: this.services.clock.now(), code: 'payload.invalid', message: error.message, routineId });
    }
    const queue = live.queues[slot];
    if (queue && queue.length >= cell.inst.maxQueue) throw new SlotQueueFullError(this.flowId, routineId, slot, cell.inst.maxQueue);
    // Queued first, then announced: the policy guard of the `slot.<name>` transition sees the arrival.
    live.enqueue(slot, payload, this.services.clock.now());
    live.actor.send({ type: `slot.${slot}`, payload });
    cell.version++;
    this.data.touch();
    if (cell.inst.policy.dueAt) this.armPolicyTimer(cell);
  }

  // --- routine actors --------------------------------------------------------------------------------------

  /** Each routine actor is a root actor of its own (see README: how it maps to XState). */
  #spawn(cell: Cell): void {
    const id = `routine:${this.id}:${cell.id}`;
    const pool = this.services.actorPool;
    const live = pool ? pool.acquire(baseInstance(cell.inst), id) : new ActorCell(cell.inst.routine.slotNames, id, this.services.inspect);
    cell.pooled = pool !== undefined;
    live.bind(cell, this.#owner);
    cell.live = live;
  }

  /** Arms (or re-arms, or clears) the routine's policy timer from its policy's `dueAt`. */
  armPolicyTimer(cell: Cell): void {
    const live = cell.live;
    const idle = live !== undefined && !live.paused && live.actor.getSnapshot().value === 'idle';
    const due = idle ? cell.inst.policy.dueAt?.(live.queues, live.policyContext(cell, this.#owner)) : undefined;
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
    if (retryDelayMs !== undefined) {
      this.#timers++;
      cell.policyRetryTimer = this.services.clock.setTimeout(() => {
        cell.policyRetryTimer = undefined;
        this.#timers--;
        this.sendRoutine(cell, { type: 'tick' });
      }, retryDelayMs);
    }
    this.sendRoutine(cell, { type: 'activation.failed', decision: 'continue', error: undefined, policy: true });
  }

  #pauseRoutines(paused: boolean): void {
    this.services.scheduler.setPaused(this.queue, paused);
    for (const cell of this.cells.values()) cell.live?.actor.send({ type: paused ? 'pause' : 'resume' });
    for (const cell of this.cells.values()) if (cell.inst.policy.dueAt) this.armPolicyTimer(cell);
  }

  // --- lifecycle -------------------------------------------------------------------------------------------

  #status(status: SupervisorStatus): void {
    const previous = this.status;
    this.status = status;
    this.data.touch();
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
      } else if (cell.live?.inflight) {
        cell.live.unconsume();
        cell.version++;
      }
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
      const live = cell.live;
      if (!live) continue;
      if (cell.pooled && pool) pool.release(baseInstance(cell.inst), live);
      else {
        live.unbind();
        live.actor.stop();
      }
      cell.live = undefined;
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

  /** The error a `stop` strategy fails the job with. */
  routineError(cell: Cell, cause: unknown): RoutineError {
    return new RoutineError(this.flowId, cell.id, this.id, cause);
  }
}

