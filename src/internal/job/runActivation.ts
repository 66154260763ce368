/**
 * runActivation: one attempt of a routine's `run`, outside any machine. It builds the run context, enforces the
 * activation timeout, and reports the outcome to the routine actor as `activation.done` / `activation.failed`.
 */
import type { Inflight, RoutineMachineEvent } from '../../../machines/index.js';
import { ActivationTimeoutError, JobCancelledError, NonErrorThrownError, RoutineError } from '../../errors/index.js';
import type { Payload, RunContext } from '../../routine/index.js';
import { runInThread } from '../../threads/index.js';
import { decideFailure } from './decideFailure.js';
import type { TaskQueue } from '../../scheduler/index.js';
import type { ActivationJob } from './ActivationJob.js';
import type { RoutineCell } from './RoutineCell.js';
import { abortActivation, NO_EMISSIONS, type Activation } from './Activation.js';
import { ActivationContext } from './ActivationContext.js';
import { flushProgress } from './progress.js';

/** The end of every successful activation: one event object, shared (events are never changed). */
const DONE: RoutineMachineEvent = Object.freeze({ type: 'activation.done' });

/** What the activation asks before it starts: a breakpoint or a step may hold it (see `StepGate`). */
export interface ActivationGate {
  readonly gated: boolean;
  pausedAt: string | undefined;
  holds(routineId: string, inflight: Inflight, task: () => void, passed: boolean): boolean;
}

/** Entering `running`: the activation waits for a scheduler permit in the job's queue, then runs. */
export function scheduleActivation(job: ActivationJob & { readonly queue: TaskQueue }, gate: ActivationGate, cell: RoutineCell, inflight: Inflight, attempt: number, takenAt?: number): void {
  // When the policy took the data (already read in the same transition), or now (a retry, a restore).
  const queuedAt = job.services.metrics.stamp(takenAt);
  // Held once at a breakpoint, the same activation does not stop there again (resume or step lets it go).
  let held = false;
  const task = () => {
    if (gate.gated && gate.holds(cell.id, inflight, task, held)) {
      held = true;
      return;
    }
    if (held && gate.pausedAt === cell.id) gate.pausedAt = undefined;
    runActivation(job, cell, inflight, attempt, queuedAt);
  };
  job.services.scheduler.enqueue(job.queue, task);
}

export function runActivation(job: ActivationJob, cell: RoutineCell, inflight: Inflight, attempt: number, queuedAt: number): void {
  const { scheduler, clock } = job.services;
  if (job.finished) {
    scheduler.release();
    return;
  }
  const startedAt = clock.now();
  // A failed policy counts its own consecutive attempts (its retries ask the policy again, see `policyFailed`).
  if ('failure' in inflight) attempt = cell.policyAttempts;
  // Only the first activation after a restore into `running` is the snapshot's in-flight one; a retry of it is new.
  const replay = cell.replay;
  cell.replay = undefined;
  const act: Activation = { attempt, queuedAt, inflight, controller: undefined, startedAt, runAt: job.services.metrics.stamp(startedAt), emitted: NO_EMISSIONS, settled: false, timeout: undefined, poison: undefined, retryDelayMs: 0, running: false, holding: false, abandoned: false, stateAtStart: cell.state, emits: 0, replay: replay?.delivered ?? 0 };
  cell.current = act;
  cell.activations++;
  cell.version++;
  job.data.touch();
  if (job.wantsEvents) job.publish({ type: 'routine.started', jobId: job.id, flowId: job.flowId, at: act.startedAt, routineId: cell.id, attempt });
  if ('failure' in inflight) {
    settle(job, cell, act, inflight.failure, 'error');
    return;
  }
  const timeoutMs = cell.inst.timeoutMs;
  if (timeoutMs !== undefined)
    act.timeout = clock.setTimeout(() => {
      const error = new ActivationTimeoutError(job.flowId, cell.id, job.id, timeoutMs);
      abortActivation(act, error);
      settle(job, cell, act, error, 'timeout');
    }, timeoutMs);

  let result: void | Promise<void>;
  // Running from before the call: the job may end (or the activation be given up on) inside `run` itself.
  act.running = true;
  try {
    const ctx = new ActivationContext(job, cell, act);
    // A threaded routine's `run` happens on a worker thread; what it does there comes back through this same context.
    result = cell.inst.isolation === 'thread' ? runThreaded(job, cell, ctx) : cell.inst.routine.run(ctx);
  } catch (error) {
    returned(job, act);
    settle(job, cell, act, error, 'error');
    return;
  }
  if (result !== undefined && typeof (result as Promise<void> | undefined)?.then === 'function') {
    result.then(
      () => {
        returned(job, act);
        settle(job, cell, act, undefined, 'ok');
      },
      (error: unknown) => {
        returned(job, act);
        settle(job, cell, act, error, 'error');
      },
    );
  } else {
    returned(job, act);
    settle(job, cell, act, undefined, 'ok');
  }
}

/**
 * The job ended while `cell`'s activation was running: it is cut short (its signal aborted with `reason`, its
 * permit given back when its code settles, a `cancelled` history record). False when none was running.
 */
export function cutShort(job: ActivationJob, cell: RoutineCell, reason: Error | undefined, now: number): boolean {
  const running = cell.current;
  if (!running || running.settled) return false;
  if (running.progressed) flushProgress(job, cell);
  running.settled = true;
  releaseOrAbandon(job, cell, running);
  if (running.timeout !== undefined) job.services.clock.clearTimeout(running.timeout);
  abortActivation(running, reason ?? new JobCancelledError(job.id));
  job.data.addHistory(cell, running, now, 'cancelled', undefined);
  return true;
}

/** The user's `run` returned or settled: an abandoned activation gives its permit back only now. */
function returned(job: ActivationJob, act: Activation): void {
  act.running = false;
  if (act.holding) job.services.scheduler.release();
}

/**
 * The activation is over for the job (settled, timed out, or cut short by the job's end). Its permit goes back
 * now unless the user's code still runs (it ignored its signal): then it is `abandoned`, and the permit is held
 * until that code settles, so `concurrency` bounds user code actually running, not only activations the job awaits.
 */
export function releaseOrAbandon(job: ActivationJob, cell: RoutineCell, act: Activation): void {
  if (!act.running) {
    job.services.scheduler.release();
    return;
  }
  act.holding = true;
  // A run that took its signal may be stopping right now (an abort settles it a few microtasks later); one that
  // never read it cannot have heard the abort: that one is reported.
  if (act.controller) return;
  act.abandoned = true;
  job.services.metrics.activationAbandoned(job, cell);
}

function runThreaded(job: ActivationJob, cell: RoutineCell, ctx: RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown>): Promise<void> {
  const { inst } = cell;
  const target = { flowId: job.flowId, routineId: cell.id, name: inst.routine.name, module: inst.routine.module ?? '', resourceLimits: inst.resourceLimits };
  return runInThread(job.services.threads, ctx, target, (error) => {
    job.fail(error);
  });
}

function settle(job: ActivationJob, cell: RoutineCell, act: Activation, thrown: unknown, outcome: 'ok' | 'error' | 'timeout'): void {
  if (act.settled) return;
  act.settled = true;
  const { clock } = job.services;
  releaseOrAbandon(job, cell, act);
  if (act.timeout !== undefined) clock.clearTimeout(act.timeout);
  if (job.finished) return;
  const now = clock.now();
  if (act.progressed) flushProgress(job, cell);
  if (outcome === 'ok' && act.poison) {
    outcome = 'error';
    thrown = act.poison;
  }
  if (outcome === 'ok') {
    job.data.addHistory(cell, act, now, 'ok', undefined);
    job.services.metrics.activationEnded(job, cell, act, now, 'ok', false);
    cell.current = undefined;
    if (job.wantsEvents) job.publish({ type: 'routine.completed', jobId: job.id, flowId: job.flowId, at: now, routineId: cell.id, attempt: act.attempt, durationMs: now - act.startedAt });
    job.sendRoutine(cell, DONE);
    return;
  }
  const error = thrown instanceof Error ? thrown : new NonErrorThrownError(cell.id, thrown);
  cell.errors++;
  const policyFailure = 'failure' in act.inflight;
  const { decision, delayMs } = decideFailure(cell.strategy, act.attempt, error);
  act.retryDelayMs = delayMs;
  job.data.addHistory(cell, act, now, decision === 'retry' ? 'retried' : outcome, error);
  job.services.metrics.activationEnded(job, cell, act, now, outcome, decision === 'retry');
  if (job.wantsEvents) job.publish({ type: 'routine.failed', jobId: job.id, flowId: job.flowId, at: now, routineId: cell.id, attempt: act.attempt, error, decision });
  if (decision !== 'retry' || policyFailure) cell.current = undefined;
  // Fail the job before the routine leaves `active`: otherwise the supervisor could see a quiescent job and complete it.
  if (decision === 'stop') job.fail(new RoutineError(job.flowId, cell.id, job.id, error));
  else if (policyFailure && decision !== 'skip') {
    // The policy (not `run`) failed: nothing was consumed, so a retry has nothing to re-run; it asks the policy again.
    cell.policyAttempts = decision === 'retry' ? act.attempt + 1 : 0;
    if (decision === 'retry' && job.wantsEvents) job.publish({ type: 'routine.retrying', jobId: job.id, flowId: job.flowId, at: now, routineId: cell.id, attempt: act.attempt + 1, delayMs });
    job.policyFailed(cell, decision === 'retry' ? delayMs : undefined);
  } else job.sendRoutine(cell, { type: 'activation.failed', decision, error });
}

