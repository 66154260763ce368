/**
 * runActivation: one attempt of a routine's `run`, outside any machine. It builds the run context, enforces the
 * activation timeout, and reports the outcome to the routine actor as `activation.done` / `activation.failed`.
 */
import type { Inflight } from '../../machines/index.js';
import { ActivationEndedError, ActivationTimeoutError, JobFinishedError, NonErrorThrownError, PayloadError, UnknownEventError } from '../errors/index.js';
import type { Payload, RunContext, Updater } from '../routine/index.js';
import type { TimerHandle } from '../clock/index.js';
import { runInThread } from '../threads/index.js';
import { decideFailure } from './decideFailure.js';
import type { Cell, JobRunner } from './JobRunner.js';
import { produce } from './immer.js';
import { deepFreeze } from '../util/deepFreeze.js';
import { payloadIssues } from './validatePayload.js';
import { dict } from '../util/dict.js';
import { flushProgress, reportProgress, type ProgressUpdate } from './progress.js';
import { ACTIVATION_HOST, type ActivationHost } from '../subflow/activationHost.js';

export interface Activation {
  readonly attempt: number;
  /** Metrics clock (`services.metrics.stamp()`): when the routine's policy took the data and the activation waited for the scheduler. */
  readonly queuedAt: number;
  /** Metrics clock: when `run` was called. */
  readonly runAt: number;
  readonly inflight: Inflight;
  /** Created on first use of `signal`: most activations never look at it. */
  controller: AbortController | undefined;
  readonly startedAt: number;
  readonly emitted: Record<string, number>;
  settled: boolean;
  timeout: TimerHandle;
  /** A delivery failure (full queue, failed cycle bound) fails the activation even if `run` caught it. */
  poison: Error | undefined;
  /** Set when the failure decision is `retry`. */
  retryDelayMs: number;
  /** The user's `run` has not returned or settled yet: the activation holds its scheduler permit until it does. */
  running: boolean;
  /** Given up on (timed out, or its job ended) while `run` was still running: the permit goes back when it settles. */
  holding: boolean;
  /** `holding`, and `run` never read its `signal`: nothing can have told it to stop (reported as `abandoned`). */
  abandoned: boolean;
  /** Why it was aborted, if it was before anyone asked for the signal. */
  aborted?: { readonly reason: unknown };
  /** `ctx.progress()` was called: a held update goes out before the activation's end event. */
  progressed?: boolean;
  /** The routine's state when `run` was called: a snapshot taken while it runs saves this one (see `takeSnapshot`). */
  readonly stateAtStart: unknown;
  /** Emissions that passed validation so far (delivered or, in a replay, skipped). */
  emits: number;
  /** A restored activation's re-run: its first `replay` emissions were delivered before the snapshot. */
  readonly replay: number;
}

const JOB = Symbol('job');
const CELL = Symbol('cell');
const ACT = Symbol('activation');
const GUARD_LIVE = Symbol('guardLive');

function signalOf(act: Activation): AbortSignal {
  if (!act.controller) {
    act.controller = new AbortController();
    if (act.aborted) act.controller.abort(act.aborted.reason);
  }
  return act.controller.signal;
}

/** Aborts the activation's signal (or records why, for a signal not created yet). */
export function abortActivation(act: Activation, reason: unknown): void {
  if (act.controller) act.controller.abort(reason);
  else act.aborted = { reason };
}

export function runActivation(job: JobRunner, cell: Cell, inflight: Inflight, attempt: number, queuedAt: number): void {
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
  const act: Activation = { attempt, queuedAt, inflight, controller: undefined, startedAt, runAt: job.services.metrics.stamp(startedAt), emitted: dict<number>(), settled: false, timeout: undefined, poison: undefined, retryDelayMs: 0, running: false, holding: false, abandoned: false, stateAtStart: cell.state, emits: 0, replay: replay?.delivered ?? 0 };
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
    const ctx = context(job, cell, act);
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

/** The user's `run` returned or settled: an abandoned activation gives its permit back only now. */
function returned(job: JobRunner, act: Activation): void {
  act.running = false;
  if (act.holding) job.services.scheduler.release();
}

/**
 * The activation is over for the job (settled, timed out, or cut short by the job's end). Its permit goes back
 * now unless the user's code still runs (it ignored its signal): then it is `abandoned`, and the permit is held
 * until that code settles, so `concurrency` bounds user code actually running, not only activations the job awaits.
 */
export function releaseOrAbandon(job: JobRunner, cell: Cell, act: Activation): void {
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

function runThreaded(job: JobRunner, cell: Cell, ctx: RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown>): Promise<void> {
  const { inst } = cell;
  const target = { flowId: job.flowId, routineId: cell.id, name: inst.routine.name, module: inst.routine.module ?? '', resourceLimits: inst.resourceLimits };
  return runInThread(job.services.threads, ctx, target, (error) => {
    job.fail(error);
  });
}

function settle(job: JobRunner, cell: Cell, act: Activation, thrown: unknown, outcome: 'ok' | 'error' | 'timeout'): void {
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
    job.sendRoutine(cell, { type: 'activation.done' });
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
  if (decision === 'stop') job.fail(job.routineError(cell, error));
  else if (policyFailure && decision !== 'skip') {
    // The policy (not `run`) failed: nothing was consumed, so a retry has nothing to re-run; it asks the policy again.
    cell.policyAttempts = decision === 'retry' ? act.attempt + 1 : 0;
    if (decision === 'retry' && job.wantsEvents) job.publish({ type: 'routine.retrying', jobId: job.id, flowId: job.flowId, at: now, routineId: cell.id, attempt: act.attempt + 1, delayMs });
    job.policyFailed(cell, decision === 'retry' ? delayMs : undefined);
  } else job.sendRoutine(cell, { type: 'activation.failed', decision, error });
}

function context(job: JobRunner, cell: Cell, act: Activation): RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown> {
  return new ActivationContext(job, cell, act);
}

/**
 * What `run` receives. A class, not an object literal with getters: a context built as a literal with accessors
 * measured ~1.5-2 µs more per activation (15-20% of a cycle iteration). `emit`, `setState`, `setShared` and `log` are
 * own properties (arrow functions), so they can be destructured; `state`, `shared` and `signal` are getters on the
 * prototype (always the latest value; the signal is created on first use): destructuring reads them, a spread copy
 * (`{ ...ctx }`) does not have them. The internals are symbol-keyed, not `#private`, so a Proxy around the
 * context works.
 */
class ActivationContext implements RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown> {
  readonly slots: Record<string, readonly Payload[]>;
  readonly config: Readonly<Record<string, unknown>>;
  readonly trigger: RunContext<unknown, unknown, unknown, unknown>['trigger'];
  readonly job: { readonly id: string; readonly flowId: string };
  readonly routineId: string;
  readonly attempt: number;
  readonly [JOB]: JobRunner;
  readonly [CELL]: Cell;
  readonly [ACT]: Activation;

  constructor(job: JobRunner, cell: Cell, act: Activation) {
    this[JOB] = job;
    this[CELL] = cell;
    this[ACT] = act;
    this.slots = act.inflight.consumed as Record<string, readonly Payload[]>;
    this.config = cell.inst.config;
    this.trigger = { policy: cell.inst.policy.name, message: act.inflight.message };
    this.job = job.handleInfo;
    this.routineId = cell.id;
    this.attempt = act.attempt;
  }

  get state(): unknown {
    return this[CELL].state;
  }

  get shared(): Readonly<Record<string, unknown>> {
    return this[JOB].data.shared;
  }

  get signal(): AbortSignal {
    return signalOf(this[ACT]);
  }

  [GUARD_LIVE](call: string): void {
    // The activation first: a job that ended settled its activations, and the error then names the routine and the call.
    if (this[ACT].settled) throw new ActivationEndedError(this[CELL].id, call);
    const job = this[JOB];
    if (job.finished) throw new JobFinishedError(job.id, job.status);
  }

  readonly emit = (event: string, payload: Payload): void => {
    const job = this[JOB];
    const cell = this[CELL];
    const act = this[ACT];
    this[GUARD_LIVE](`emit('${event}')`);
    // Frozen once, at its entry into the job: every routine it reaches, the outputs and the history see the same data.
    deepFreeze(payload);
    const routine = cell.inst.routine;
    const spec = routine.eventSpecs[event];
    if (spec === undefined) throw (act.poison ??= new UnknownEventError(job.flowId, cell.id, event, routine.eventNames));
    const { issues, bySchema } = payloadIssues(payload, spec, job.services.validation);
    if (issues.length) {
      const error = new PayloadError(job.flowId, cell.id, `event '${event}'`, issues);
      // A missing field always fails the activation; a schema failure only in 'strict' mode ('warn' delivers).
      if (!bySchema || job.services.validation === 'strict') throw (act.poison ??= error);
      if (job.wantsEvents) job.publish({ type: 'job.warning', jobId: job.id, flowId: job.flowId, at: job.services.clock.now(), code: 'payload.invalid', message: error.message, routineId: cell.id });
    }
    act.emitted[event] = (act.emitted[event] ?? 0) + 1;
    // Deterministic replay: this emission was delivered before the snapshot the job was restored from. It counts in
    // the activation's record (as in the uninterrupted run) but is not routed, output or announced again.
    if (act.emits++ < act.replay) return;
    if (job.wantsEvents) job.publish({ type: 'event.emitted', jobId: job.id, flowId: job.flowId, at: job.services.clock.now(), routineId: cell.id, event, payload });
    job.emitted(cell.id, event, payload);
    const failure = job.routeError;
    if (failure) {
      job.routeError = undefined;
      throw (act.poison ??= failure);
    }
  };

  readonly setState = (update: Updater<unknown>): void => {
    this[GUARD_LIVE]('setState()');
    const cell = this[CELL];
    // immer freezes what a recipe produced; a replacement value is frozen here (in place: it is the job's now).
    cell.state = typeof update === 'function' ? produce(cell.state, update as (draft: unknown) => unknown) : deepFreeze(update);
    cell.version++;
    this[JOB].data.touch();
  };

  readonly setShared = (update: Updater<Record<string, unknown>>): void => {
    this[GUARD_LIVE]('setShared()');
    const data = this[JOB].data;
    data.setShared(typeof update === 'function' ? produce(data.shared, update as (draft: unknown) => unknown) : update);
  };

  readonly log = (entry: unknown): void => {
    this[GUARD_LIVE]('log()');
    this[JOB].data.appendLog(entry);
  };

  // `progress` and `resource` are getters returning a new function: no cost for the activations that never use them.
  get progress(): (update: ProgressUpdate) => void {
    return (update) => {
      this[GUARD_LIVE]('progress()');
      reportProgress(this[JOB], this[CELL], update);
    };
  }

  /** Subflows (`asRoutine`) reach the job running this activation through this key. */
  get [ACTIVATION_HOST](): ActivationHost {
    return { job: this[JOB], cell: this[CELL], act: this[ACT] };
  }

  get resource(): RunContext<unknown, unknown, unknown, unknown>['resource'] {
    const job = this[JOB];
    const asker = { flowId: job.flowId, routineId: this[CELL].id };
    return ((name: string) => job.services.resources.get(name, asker)) as RunContext<unknown, unknown, unknown, unknown>['resource'];
  }
}
