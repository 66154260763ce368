/**
 * ActivationContext: what a routine's `run` receives (`ctx`), bound to one activation of one routine in one job.
 */
import { ActivationEndedError, JobFinishedError, PayloadError, UnknownEventError } from '../../errors/index.js';
import type { ProgressUpdate } from '../../types/ProgressUpdate.js';
import type { Payload, RunContext, Updater } from '../../routine/index.js';
import { deepFreeze } from '../../util/deepFreeze.js';
import { countEmission, signalOf, type Activation } from './Activation.js';
import type { ActivationJob } from './ActivationJob.js';
import { produce } from './immer.js';
import { reportProgress } from './progress.js';
import type { RoutineCell } from './RoutineCell.js';
import { payloadIssues } from './validatePayload.js';
import { ACTIVATION_HOST } from './subflowPorts.js';

const JOB = Symbol('job');
const CELL = Symbol('cell');
const ACT = Symbol('activation');
const GUARD_LIVE = Symbol('guardLive');

/**
 * What `run` receives. A class, not an object literal with getters: a context built as a literal with accessors
 * measured ~1.5-2 µs more per activation (15-20% of a cycle iteration). `emit`, `setState`, `setShared` and `log` are
 * own properties (arrow functions), so they can be destructured; `state`, `shared` and `signal` are getters on the
 * prototype (always the latest value; the signal is created on first use): destructuring reads them, a spread copy
 * (`{ ...ctx }`) does not have them. The internals are symbol-keyed, not `#private`, so a Proxy around the
 * context works.
 */
export class ActivationContext implements RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown> {
  readonly slots: Record<string, readonly Payload[]>;
  readonly config: Readonly<Record<string, unknown>>;
  readonly trigger: RunContext<unknown, unknown, unknown, unknown>['trigger'];
  readonly job: { readonly id: string; readonly flowId: string };
  readonly routineId: string;
  readonly attempt: number;
  readonly [JOB]: ActivationJob;
  readonly [CELL]: RoutineCell;
  readonly [ACT]: Activation;

  constructor(job: ActivationJob, cell: RoutineCell, act: Activation) {
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

  [GUARD_LIVE](call: string, event?: string): void {
    // The activation first: a job that ended settled its activations, and the error then names the routine and the call.
    // `emit` passes its event apart: the call's text is only built for the error, not on every emission.
    if (this[ACT].settled) throw new ActivationEndedError(this[CELL].id, event === undefined ? call : `${call}('${event}')`);
    const job = this[JOB];
    if (job.finished) throw new JobFinishedError(job.id, job.status);
  }

  readonly emit = (event: string, payload: Payload): void => {
    const job = this[JOB];
    const cell = this[CELL];
    const act = this[ACT];
    this[GUARD_LIVE]('emit', event);
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
    act.emitted = countEmission(routine, act.emitted, event);
    // Deterministic replay: this emission was delivered before the snapshot the job was restored from. It counts in
    // the activation's record (as in the uninterrupted run) but is not routed, output or announced again.
    if (act.emits++ < act.replay) return;
    if (job.wantsEvents) job.publish({ type: 'event.emitted', jobId: job.id, flowId: job.flowId, at: job.services.clock.now(), routineId: cell.id, event, payload });
    const failure = job.emitted(cell.id, event, payload);
    if (failure) throw (act.poison ??= failure);
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
  get [ACTIVATION_HOST](): { readonly job: ActivationJob; readonly cell: RoutineCell; readonly act: Activation } {
    return { job: this[JOB], cell: this[CELL], act: this[ACT] };
  }

  get resource(): RunContext<unknown, unknown, unknown, unknown>['resource'] {
    const job = this[JOB];
    const asker = { flowId: job.flowId, routineId: this[CELL].id };
    return ((name: string) => job.services.resources.get(name, asker)) as RunContext<unknown, unknown, unknown, unknown>['resource'];
  }
}
