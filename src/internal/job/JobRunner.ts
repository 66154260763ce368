/**
 * JobRunner: one job's lifecycle, and the bridge to its supervisor actor. It owns the job's routine cells and its
 * parts, each of which sees the job through a narrow interface: the `Router` (routing, cycle bounds, validation), the
 * `RoutineTimers`, the `StepGate` (breakpoints, step), the activation runner (`runActivation`), the state view and
 * the snapshot. Routine actors and their data are `ActorCell`s (from the runtime's pool, or new under `inspect`).
 */
import type { Inflight, RoutineMachineEvent, SupervisorEvent, SupervisorStatus } from '../../../machines/index.js';
import type { TimerHandle } from '../../clock/index.js';
import { JobCancelledError, JobFinishedError, JobTimeoutError } from '../../errors/index.js';
import { assertSlot, type FlowDefinition } from '../../flow/index.js';
import type { JobEvent } from '../../types/JobEvent.js';
import { isFinalStatus, type JobStatus } from '../../types/JobState.js';
import { overriddenInstance } from './overrides.js';
import type { RuntimeServices } from './RuntimeServices.js';
import type { JobMeter } from '../../metrics/index.js';
import type { JobSnapshot } from '../../persistence/JobSnapshot.js';
import type { Payload } from '../../routine/index.js';
import { TaskQueue } from '../../scheduler/index.js';
import type { CellOwner } from './ActorCell.js';
import type { JobOptions } from './JobOptions.js';
import { SupervisorBridge, type SupervisedJob } from './SupervisorBridge.js';
import { pendingCleanups, runCleanups } from './cleanup.js';
import { JobStateView } from './JobStateView.js';
import { restoreRoutines, takeSnapshot } from './jobSnapshot.js';
import { bindActor, releaseActor, routineCell, type RoutineCell } from './RoutineCell.js';
import { RoutineTimers } from './RoutineTimers.js';
import { Router } from './Router.js';
import { cutShort, scheduleActivation } from './runActivation.js';
import { StepGate } from './StepGate.js';
import { announceEnd, announceStatus } from './jobEvents.js';
import type { ChildJobs } from './subflowPorts.js';

export class JobRunner {
  readonly flowId: string;
  readonly cells = new Map<string, RoutineCell>();
  readonly queue = new TaskQueue();
  readonly data: JobStateView;
  status: JobStatus = 'queued';
  error: Error | undefined;
  /** False once the job's first tick is over and nobody subscribed: events are then not even built. */
  wantEvents = true;
  /** Subscribers to `job.events$`. */
  jobObserved = 0;
  /** Called on every change the state view shows (the runtime's checkpointer listens here). */
  onChange: (() => void) | undefined;
  /** Subflows: the child jobs of this job's running subflow activations, and a child job's emissions. */
  children: ChildJobs | undefined;
  onEmitted: ((routineId: string, event: string, payload: Payload) => void) | undefined;
  /** Params (or the initial post) were delivered: the job got its `maxJobs` place (now or before a restore). */
  admitted: boolean;
  /** When the job's `timeoutMs` runs out (clock time). */
  deadlineAt: number | undefined;
  /** `ctx.job` of every activation: one frozen object per job. */
  readonly handleInfo: { readonly id: string; readonly flowId: string };
  /** This job's metrics (`job.metrics`), set by the collector when the job is created; unset with metrics off. */
  meter: JobMeter | undefined;
  readonly #supervisor: SupervisorBridge;
  readonly #directRouting: boolean;
  readonly #router: Router;
  readonly #timers: RoutineTimers;
  /** Breakpoints and `step()` (`Job` reads its `breakpoints` and `pausedAt`). */
  readonly gate: StepGate;
  readonly #owner: CellOwner<RoutineCell>;
  /** Routines busy (running or in backoff): the job is quiescent at zero with no timer pending. */
  #busy = 0;
  #deadline: TimerHandle;
  /** One callback, or an array from the second on (most jobs have none or one: `wait()`). */
  #onFinished: (() => void) | (() => void)[] | undefined;
  /** Finished, and routines' cleanups are still running: the final event and `onFinished` callbacks wait for them. */
  #cleaning = false;

  /** What the supervisor's actions do to the job and what its routine actors ask of it: one object per job. */
  static readonly #PortsOf = class implements SupervisedJob, CellOwner<RoutineCell> {
    constructor(readonly runner: JobRunner) {}
    get keepAlive(): boolean {
      return this.runner.options.keepAlive;
    }
    quiescent(): boolean {
      return this.runner.#busy === 0 && this.runner.#timers.pending === 0;
    }
    route(routineId: string, event: string, payload: Payload): Error | undefined {
      return this.runner.#router.route(routineId, event, payload);
    }
    deliver(routineId: string, slot: string, payload: unknown): Error | undefined {
      return this.runner.#router.deliver(routineId, slot, payload);
    }
    pauseRoutines(paused: boolean): void {
      this.runner.#pauseRoutines(paused);
    }
    enteredStatus(status: SupervisorStatus): void {
      this.runner.#status(status);
    }
    ended(status: 'completed' | 'failed' | 'cancelled', error: Error | undefined): void {
      this.runner.#finish(status, error);
    }
    get id(): string {
      return this.runner.id;
    }
    now(): number {
      return this.runner.services.clock.now();
    }
    busy(cell: RoutineCell, delta: 1 | -1): void {
      this.runner.#busy += delta;
      cell.version++;
    }
    startActivation(cell: RoutineCell, inflight: Inflight, attempt: number, takenAt: number | undefined): void {
      scheduleActivation(this.runner, this.runner.gate, cell, inflight, attempt, takenAt);
    }
    armRetry(cell: RoutineCell, attempt: number): void {
      this.runner.#timers.armRetry(cell, attempt);
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
    const ports = (this.#owner = new JobRunner.#PortsOf(this));
    this.#router = new Router(this);
    this.#timers = new RoutineTimers(this, ports);
    this.gate = new StepGate(this);
    this.#supervisor = new SupervisorBridge(ports, id, services.actorPool, services.inspect);
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
   * Binds the routine actors and starts the supervisor (`queued`); `admit()` lets it run, and until then activations
   * are held. A restored job gets its data back here, so a job waiting for its `maxJobs` place shows what it holds.
   */
  open(): void {
    this.services.scheduler.setPaused(this.queue, true);
    // Routine actors are bound here, outside any machine transition (an actor must not start inside another's action).
    for (const cell of this.cells.values()) bindActor(cell, this.id, this.#owner, this.services.actorPool, this.services.inspect);
    this.#supervisor.open();
    if (this.options.from) restoreRoutines(this, this.options.from);
  }

  /** A reused supervisor not started yet (the job waits for its `maxJobs` place) enters `queued` now, not at admission. */
  showQueued(): void {
    this.#supervisor.unpark();
  }

  /** Drops a job that never ran (its restore failed): stops its actors without events or checkpoints. */
  discard(): void {
    this.services.scheduler.clear(this.queue);
    this.#supervisor.stop();
    for (const cell of this.cells.values()) {
      this.#timers.clear(cell);
      releaseActor(cell, undefined);
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
    const failure = this.admitted ? undefined : this.#router.deliverFirst(this.options);
    this.admitted = true;
    if (failure) {
      this.fail(failure);
      return;
    }
    const paused = from?.status === 'paused';
    if (!paused) this.services.scheduler.setPaused(this.queue, false);
    this.#sendAndSettle(from ? { type: 'start', paused, completing: from.completing } : { type: 'start' });
  }

  /** The job as JSON-ready data (with its subflows' running child jobs, cut at the same moment). */
  snapshot(): JobSnapshot {
    return takeSnapshot(this);
  }

  /** `complete()` was called (keepAlive). */
  get completing(): boolean {
    return !this.finished && this.#supervisor.completing;
  }

  post(routineId: string, slot: string, payload: unknown): void {
    if (this.finished) throw new JobFinishedError(this.id, this.status);
    assertSlot(this.flow, routineId, slot);
    const failure = this.#supervisor.sendRouting({ type: 'post', routineId, slot, payload });
    this.settle();
    if (failure) throw failure;
  }

  /**
   * Routes what an activation emitted (called from `emit`, outside any machine); returns why a delivery failed.
   * While the supervisor is `running` or `paused` its `routine.emitted` transition is targetless and only runs
   * `route`, and `settle` cannot pass (the emitter is busy): the route is taken directly, saving an XState macrostep
   * per hop. In `idle` (keepAlive) the event moves the job back to `running`, so it goes through the machine; so does
   * everything while an inspector watches.
   */
  emitted(routineId: string, event: string, payload: Payload): Error | undefined {
    this.onEmitted?.(routineId, event, payload);
    if (this.#directRouting && (this.status === 'running' || this.status === 'paused')) return this.#router.route(routineId, event, payload);
    const failure = this.#supervisor.sendRouting({ type: 'routine.emitted', routineId, event, payload });
    this.settle();
    return failure;
  }

  // A finished job never sends to its supervisor again: the runtime may have handed it to another job.
  pause(): void {
    if (!this.finished) this.#supervisor.send({ type: 'pause' });
  }

  resume(): void {
    if (this.finished) return;
    this.gate.resume();
    this.#sendAndSettle({ type: 'resume' });
  }

  /** Replaces the job's breakpoints (checked against the flow). */
  setBreakpoints(breakpoints: unknown, where = 'setBreakpoints(breakpoints)'): void {
    this.gate.setBreakpoints(breakpoints, where);
  }

  /**
   * Lets exactly one more activation start, then pauses before the next one. A paused job resumes for it; a step
   * that leaves nothing to run lets the job complete (it is quiescent).
   */
  step(): void {
    if (this.finished) throw new JobFinishedError(this.id, this.status);
    this.gate.step();
    if (this.status === 'paused') this.#sendAndSettle({ type: 'resume' });
  }

  /** The gate holds an activation: the job pauses, then the task waits at the head of its queue. */
  holdTask(task: () => void): void {
    // Outside any machine transition (the scheduler starts tasks in a microtask).
    this.#supervisor.send({ type: 'pause' });
    this.services.scheduler.hold(this.queue, task);
  }

  complete(): void {
    if (this.finished) throw new JobFinishedError(this.id, this.status);
    this.#sendAndSettle({ type: 'complete' });
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
    const waiting = this.#onFinished;
    if (this.closed) callback();
    else if (waiting === undefined) this.#onFinished = callback;
    else if (typeof waiting === 'function') this.#onFinished = [waiting, callback];
    else waiting.push(callback);
  }

  /** Sends an event to a routine actor, then re-arms its policy timer and lets the supervisor re-check idleness. */
  sendRoutine(cell: RoutineCell, event: RoutineMachineEvent): void {
    const live = cell.live;
    if (!live || this.finished) return;
    live.actor.send(event);
    if (cell.inst.policy.dueAt) this.#timers.armPolicy(cell);
    this.settle();
  }

  /** After an event that may leave the job quiescent (start, resume, complete): `settle` lets the supervisor see it. */
  #sendAndSettle(event: SupervisorEvent): void {
    this.#supervisor.send(event);
    this.settle();
  }

  /** Lets the supervisor notice quiescence (it checks its guard; no polling). */
  settle(): void {
    if (this.#busy === 0 && this.#timers.pending === 0 && !this.finished) this.#supervisor.send({ type: 'settle' });
  }

  publish(event: JobEvent): void {
    this.services.publish(event);
  }

  get wantsEvents(): boolean {
    return this.wantEvents || this.jobObserved > 0 || this.services.runtimeObserved();
  }

  /** Arms (or re-arms, or clears) the routine's policy timer from its policy's `dueAt`. */
  armPolicyTimer(cell: RoutineCell): void {
    this.#timers.armPolicy(cell);
  }

  /** The policy itself failed (see `RoutineTimers.policyFailed`). */
  policyFailed(cell: RoutineCell, retryDelayMs: number | undefined): void {
    this.#timers.policyFailed(cell, retryDelayMs);
  }

  #pauseRoutines(paused: boolean): void {
    this.services.scheduler.setPaused(this.queue, paused);
    for (const cell of this.cells.values()) cell.live?.actor.send({ type: paused ? 'pause' : 'resume' });
    for (const cell of this.cells.values()) if (cell.inst.policy.dueAt) this.#timers.armPolicy(cell);
  }

  // --- lifecycle -------------------------------------------------------------------------------------------

  #status(status: SupervisorStatus): void {
    const previous = this.status;
    this.status = status;
    this.data.touch();
    this.children?.status(status);
    if (this.wantsEvents) announceStatus(this, previous, status);
  }

  /** The supervisor entered a final status (inside its entry action). */
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
      this.#timers.clear(cell);
      // A running activation is cut short; data taken but not started goes back to its queues, shown as pending.
      if (!cutShort(this, cell, error, now) && cell.live?.inflight) {
        cell.live.unconsume();
        cell.version++;
      }
      cell.current = undefined;
    }
    this.#timers.pending = 0;
    this.gate.pausedAt = undefined;
    this.data.finish(now);
    // The final snapshot keeps what users read (pending data included); a finished job, which the runtime may
    // retain by the thousand, then holds no actor.
    this.data.freeze();
    this.#releaseActors();
    if (cleanups) {
      this.#cleaning = true;
      void runCleanups(this, status, cleanups, () => {
        this.#end(status, error, now);
      });
    } else this.#end(status, error, now);
  }

  /** The job's final event, then its `onFinished` callbacks (after its cleanups, if any). */
  #end(status: 'completed' | 'failed' | 'cancelled', error: Error | undefined, at: number): void {
    this.#cleaning = false;
    if (this.wantsEvents) announceEnd(this, status, error, at);
    this.services.finished(this.id);
    const callbacks = this.#onFinished;
    this.#onFinished = undefined;
    if (typeof callbacks === 'function') callbacks();
    else if (callbacks) for (const callback of callbacks) callback();
  }

  /** Routine actors back to the pool (or stopped); the supervisor too, after the transition that finished the job. */
  #releaseActors(): void {
    const pool = this.services.actorPool;
    for (const cell of this.cells.values()) releaseActor(cell, pool);
    this.#supervisor.release();
  }
}
