/**
 * Runtime: runs many jobs at once over one bounded scheduler (SPEC 3).
 */
import type { Observable } from 'rxjs';
import { v7 as uuidv7 } from 'uuid';
import type { InspectionEvent, Observer } from 'xstate';
import { systemClock, type Clock } from '../clock/index.js';
import { CheckpointError, describeValue, FlowNotFoundError, FlowValidationError, InvalidOptionError, RuntimeClosedError, SnapshotError, WaitTimeoutError } from '../errors/index.js';
import { assertSlot, compileFlow, isFlow, type FlowBuilder, type FlowDefinition, type RoutineMap } from '../flow/index.js';
import type { OutputsOf } from '../flow/typedEdges.js';
import { breakpointRoutines, isFinalStatus, Job, JobRunner, ActorPool, type Breakpoint, type JobEvent, type JobOptions, type JobState, type JobStatus, type RuntimeServices, type ValidationMode } from '../job/index.js';
import { MetricsCollector, type MetricsOptions, type RuntimeMetrics } from '../metrics/index.js';
import { Checkpointer, parseSnapshot, type CheckpointStore, type JobSnapshot } from '../persistence/index.js';
import type { Payload } from '../routine/index.js';
import { Scheduler } from '../scheduler/index.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { assertDuration, assertLimit, assertNonNegativeInteger, assertPositiveInteger, assertPositiveNumber } from '../util/assertOption.js';
import { JOB_STATUSES } from '../job/JobState.js';
import { ThreadPools, type ThreadsOptions } from '../threads/index.js';
import { EventBus, type UnhandledErrorHandler } from './EventBus.js';
import { Resources, type ResourceMetrics, type ResourcesOption } from './Resources.js';
import { assertOverrides, restoreOverrides, type Overrides } from '../job/overrides.js';
import { assertSubflowDepth, DEFAULT_MAX_SUBFLOW_DEPTH } from '../subflow/subflowDepth.js';

/** Options of `createRuntime`. */
export interface RuntimeOptions {
  /** Max activations running at once across all jobs. @default 10 */
  readonly concurrency?: number;
  /** Max jobs running at once; more wait in `queued`. @default Infinity */
  readonly maxJobs?: number;
  /** An XState inspection observer, passed to every actor the runtime creates. @default none */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Payload checks on emit and delivery: `'strict'` fails the activation (or the post) on a missing declared field
   * or a schema failure; `'warn'` fails on a missing field but delivers a schema failure with a `job.warning`
   * event; `'off'` checks neither (only that a payload is a plain object). @default 'strict'
   */
  readonly validation?: ValidationMode;
  /** Time source for timers (windows, intervals, backoff, timeouts). @default the system clock */
  readonly clock?: Clock;
  /** Finished jobs kept for `getJob`/`listJobs`. @default 1000 */
  readonly retain?: number;
  /** History records kept per job. @default 1000 */
  readonly historyLimit?: number;
  /**
   * Idle routine actors kept per routine of a flow when jobs end, for the next jobs of that flow, and finished
   * supervisors kept for the next jobs of any flow (creating an actor costs several times more than resetting
   * one). Each holds ~3.5 KB; `0` turns reuse off. Never used with `inspect`. @default 1024
   */
  readonly reuseActors?: number;
  /**
   * Collect `runtime.metrics()` and `job.metrics` (counts, durations, queue waits): a few additions per activation.
   * `false` leaves only the gauges (jobs by status, activations running and waiting). @default true
   */
  readonly metrics?: boolean;
  /**
   * Receives what a subscriber to `events$` (or to a stream piped from it) threw; the job and the subscription go on.
   * @default RxJS's `config.onUnhandledError` when set, else a process warning (code `SLOTFLOW_SUBSCRIBER`), once per subscription
   */
  readonly onUnhandledError?: UnhandledErrorHandler;
  /**
   * Events held for delivery at once (those produced within one microtask). Past it, events are counted instead of
   * kept (never a job's final event) and each job that lost some gets an `events.dropped` event. @default 100000
   */
  readonly maxBufferedEvents?: number;
  /**
   * Where job snapshots are checkpointed after every change (coalesced: at most one save in flight per job), so
   * `recover()` can resume unfinished jobs after a crash. @default none
   */
  readonly store?: CheckpointStore;
  /** Keep a finished job's final snapshot in the store (else it is deleted when the job finishes). @default false */
  readonly retainFinished?: boolean;
  /** Runs on every snapshot before it is checked (restore and recover): for snapshots you transformed yourself. @default none */
  readonly migrateSnapshot?: (snapshot: unknown) => unknown;
  /**
   * A checkpoint failed to save or delete (the job goes on). What it throws is reported as a process warning (code
   * `SLOTFLOW_CHECKPOINT`), never as an unhandled rejection. @default a process warning
   */
  readonly onCheckpointError?: (error: CheckpointError) => void;
  /**
   * Bounds every call to the store (save, delete, load, list): past it the call counts as failed with a
   * `CheckpointError` (`reason: 'timeout'`), so `job.checkpoint()`, `recover()` and `shutdown()` always settle.
   * `Infinity` waits forever. @default 30000
   */
  readonly storeTimeoutMs?: number;
  /**
   * Worker threads for routines with `isolation: 'thread'`: `max` threads computing at once (across pools),
   * `idleTimeoutMs` before an idle thread ends, `abortGraceMs` before an aborted activation's thread is terminated.
   * The pool starts on the first threaded activation. @default { max: os.availableParallelism(), idleTimeoutMs: 30000, abortGraceMs: 100 }
   */
  readonly threads?: ThreadsOptions;
  /**
   * Things routines share across jobs (pools, clients), by name: `{ create, dispose? }` or just a factory. Each is
   * created on its first `ctx.resource(name)` and disposed by `shutdown()`, newest first. @default none
   */
  readonly resources?: ResourcesOption;
  /**
   * How deep subflows (`asRoutine`) may nest: a flow nesting deeper is refused by `exec` with `FlowValidationError`.
   * @default 8
   */
  readonly maxSubflowDepth?: number;
}

const RUNTIME_KEYS = [
  'concurrency',
  'maxJobs',
  'inspect',
  'validation',
  'clock',
  'retain',
  'historyLimit',
  'reuseActors',
  'metrics',
  'onUnhandledError',
  'maxBufferedEvents',
  'store',
  'retainFinished',
  'migrateSnapshot',
  'onCheckpointError',
  'storeTimeoutMs',
  'threads',
  'resources',
  'maxSubflowDepth',
] as const satisfies readonly (keyof RuntimeOptions)[];
const EXEC_KEYS = ['params', 'jobId', 'signal', 'timeoutMs', 'keepAlive', 'from', 'breakpoints', 'overrides'] as const satisfies readonly (keyof ExecOptions)[];

/** Options of `runtime.exec`. */
export interface ExecOptions<TParams = Payload> {
  /** Delivered as one payload to the flow's entry slot. @default `{}` (a keepAlive job: no delivery, it waits for posts) */
  readonly params?: TParams;
  /** A unique job id. @default a UUID v7 (time-ordered) */
  readonly jobId?: string;
  /** Aborting it cancels the job. */
  readonly signal?: AbortSignal;
  /** Bounds the whole job: past it the job fails with `JobTimeoutError`. @default none */
  readonly timeoutMs?: number;
  /** Stay in `idle` when quiescent, waiting for posts, until `job.complete()`. @default false */
  readonly keepAlive?: boolean;
  /**
   * Continue the job of a snapshot (`job.snapshot()` or a store's) under its id, with its options (`params`,
   * `jobId`, `timeoutMs` and `keepAlive` come from the snapshot and must not be given). Same as `runtime.restore`.
   */
  readonly from?: JobSnapshot;
  /**
   * Pause before activating these routines (a debugger's breakpoints; see `job.setBreakpoints`, `job.step()`).
   * @default none
   */
  readonly breakpoints?: readonly Breakpoint[];
  /**
   * Per-routine changes for this job only: `config` merged over the instance's, `policy`, `onError` and `timeoutMs`
   * replacing the instance's. Unknown routine ids or keys throw `InvalidOptionError`. With `from`, laid over the
   * snapshot's own overrides (a custom policy or a `retry.when` must be given again: snapshots cannot carry them).
   * @default none
   */
  readonly overrides?: Overrides;
}

type AnyFlow = FlowBuilder<RoutineMap> | FlowDefinition;
/** `exec` options as the runtime passes them on, with the parent of a subflow's child job. */
type StartOptions = ExecOptions & { readonly parentId?: string };

/** The default bound of one store call (`storeTimeoutMs`). */
export const DEFAULT_STORE_TIMEOUT_MS = 30_000;
/** The entry slot's payload type of a typed flow builder (else any payload). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matching any routine map
export type ParamsOf<TFlow> = [TFlow] extends [never] ? Payload : [TFlow] extends [FlowBuilder<any, infer TParams>] ? TParams : Payload;
/** The job handle `exec` returns: its `state.outputs` typed per event for a typed flow builder. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matching any params type
export type JobOf<TFlow> = [TFlow] extends [never] ? Job : [TFlow] extends [FlowBuilder<infer TRoutines, any>] ? Job<OutputsOf<TRoutines>> : Job;

export class Runtime implements AsyncDisposable {
  readonly #flows = new Map<string, FlowDefinition>();
  /** Ids of the flows `register`ed (kept until `unregister`); the others were passed to `exec` and are kept while jobs of theirs are. */
  readonly #registered = new Set<string>();
  /** Flow id -> how many of its jobs this runtime holds (unfinished or retained). */
  readonly #jobsOfFlow = new Map<string, number>();
  readonly #jobs = new Map<string, Job>();
  readonly #runners = new Map<string, JobRunner>();
  /** Finished job ids, oldest first, for retention. */
  readonly #finished: string[] = [];
  /** Jobs waiting for a `maxJobs` place, in exec order. */
  readonly #admission: JobRunner[] = [];
  readonly #admitted = new Set<JobRunner>();
  #active = 0;
  #admitScheduled = false;
  #closed = false;
  readonly #maxJobs: number;
  readonly #retain: number;
  readonly #bus: EventBus;
  readonly #services: RuntimeServices;
  readonly #checkpointer: Checkpointer | undefined;
  readonly #migrate: ((snapshot: unknown) => unknown) | undefined;
  readonly #maxSubflowDepth: number;

  /** Every event of every job. */
  readonly events$: Observable<JobEvent>;

  constructor(options: RuntimeOptions = {}) {
    assertKnownKeys('createRuntime(options)', options, RUNTIME_KEYS);
    const concurrency = options.concurrency ?? 10;
    assertPositiveInteger('concurrency', concurrency);
    this.#maxJobs = options.maxJobs ?? Number.POSITIVE_INFINITY;
    assertLimit('maxJobs', this.#maxJobs);
    this.#retain = options.retain ?? 1000;
    assertNonNegativeInteger('retain', this.#retain);
    const historyLimit = options.historyLimit ?? 1000;
    assertNonNegativeInteger('historyLimit', historyLimit);
    const reuseActors = options.reuseActors ?? 1024;
    assertNonNegativeInteger('reuseActors', reuseActors);
    const validation = options.validation ?? 'strict';
    if (!['strict', 'warn', 'off'].includes(validation)) throw new InvalidOptionError('validation', "'strict', 'warn' or 'off'", validation);
    const clock = options.clock ?? systemClock;
    if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function')
      throw new InvalidOptionError('clock', 'an object with now(), setTimeout() and clearTimeout()', clock);
    const metrics = options.metrics ?? true;
    if (typeof metrics !== 'boolean') throw new InvalidOptionError('metrics', 'a boolean', metrics);
    const { store } = options;
    if (store !== undefined && (typeof store !== 'object' || typeof store.save !== 'function' || typeof store.load !== 'function' || typeof store.listUnfinished !== 'function' || typeof store.delete !== 'function'))
      throw new InvalidOptionError('store', 'a CheckpointStore (save, load, listUnfinished, delete), e.g. createFileStore(dir)', store);
    const retainFinished = options.retainFinished ?? false;
    if (typeof retainFinished !== 'boolean') throw new InvalidOptionError('retainFinished', 'a boolean', retainFinished);
    const { onCheckpointError, migrateSnapshot, inspect } = options;
    if (onCheckpointError !== undefined && typeof onCheckpointError !== 'function')
      throw new InvalidOptionError('onCheckpointError', 'a function (error: CheckpointError) => void', onCheckpointError);
    if (migrateSnapshot !== undefined && typeof migrateSnapshot !== 'function')
      throw new InvalidOptionError('migrateSnapshot', 'a function (snapshot: unknown) => unknown', migrateSnapshot);
    if (inspect !== undefined && typeof inspect !== 'function' && (typeof inspect !== 'object' || (inspect as unknown) === null))
      throw new InvalidOptionError('inspect', 'a function or an XState inspection observer', inspect);
    const storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    if (storeTimeoutMs !== Number.POSITIVE_INFINITY) assertPositiveNumber('storeTimeoutMs', storeTimeoutMs);
    this.#migrate = migrateSnapshot;
    this.#maxSubflowDepth = options.maxSubflowDepth ?? DEFAULT_MAX_SUBFLOW_DEPTH;
    assertPositiveInteger('maxSubflowDepth', this.#maxSubflowDepth);
    const bus = (this.#bus = new EventBus({ onUnhandledError: options.onUnhandledError, maxBufferedEvents: options.maxBufferedEvents }));
    this.events$ = bus.events$;
    this.#checkpointer = store
      ? new Checkpointer(store, {
          retainFinished,
          timeoutMs: storeTimeoutMs,
          report: (error) => {
            if (onCheckpointError === undefined) {
              process.emitWarning(error.message, { code: 'SLOTFLOW_CHECKPOINT' });
              return;
            }
            try {
              onCheckpointError(error);
            } catch (thrown) {
              // A throwing handler must not become an unhandled rejection (the process would exit) nor leave
              // job.checkpoint() unsettled: it is reported and the job goes on.
              const detail = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
              process.emitWarning(`onCheckpointError threw while handling "${error.message}": ${thrown instanceof Error ? thrown.message : String(thrown)}; the job goes on`, {
                code: 'SLOTFLOW_CHECKPOINT',
                detail,
              });
            }
          },
        })
      : undefined;
    this.#services = {
      scheduler: new Scheduler(concurrency),
      clock,
      inspect: options.inspect,
      actorPool: options.inspect || reuseActors === 0 ? undefined : new ActorPool(reuseActors),
      historyLimit,
      validation,
      metrics: new MetricsCollector(metrics, clock, clock === systemClock),
      threads: new ThreadPools(options.threads),
      resources: new Resources(options.resources),
      startChild: (flow, jobId, parentId, from) => {
        const job = from ? this.#restore(from, flow, { parentId }) : this.#start(this.#add(flow), { jobId, keepAlive: true, parentId }, undefined);
        return { job, runner: this.#runners.get(job.id) as JobRunner };
      },
      runtimeObserved: () => bus.observed,
      publish: (event) => {
        bus.publish(event);
      },
      finished: (jobId) => {
        this.#onJobFinished(jobId);
      },
    };
  }

  /** Activations running now, across all jobs. */
  get running(): number {
    return this.#services.scheduler.running;
  }

  /**
   * Counts and durations since the runtime started (or the last `reset`): jobs, activations, and per flow and
   * routine the attempts, errors, retries, timeouts, durations and queue waits (p50/p95/p99/max). A new plain
   * JSON-ready object on every call.
   * @example
   * const { flows } = runtime.metrics();
   * console.log(flows.etl?.routines.fetch?.durationMs.p95);
   */
  metrics(options: MetricsOptions = {}): RuntimeMetrics & { readonly resources: Readonly<Record<string, ResourceMetrics>> } {
    assertKnownKeys('metrics(options)', options, ['reset']);
    const reset = options.reset ?? false;
    if (typeof reset !== 'boolean') throw new InvalidOptionError('metrics({ reset })', 'a boolean', reset);
    return { ...this.#services.metrics.runtime(this.#runners.values(), this.#services.scheduler.running, reset), resources: this.#services.resources.metrics(reset) };
  }

  /** Registers a flow under its id (compiling it: an invalid flow throws `FlowValidationError`). */
  register(flow: AnyFlow): this {
    if (this.#closed) throw new RuntimeClosedError('register a flow');
    if (!isFlow(flow)) throw new InvalidOptionError('register(flow)', 'a flow from createFlow()', flow);
    const compiled = this.#add(compileFlow(flow));
    this.#registered.add(compiled.id);
    return this;
  }

  /**
   * Forgets a registered flow: its id can be registered again (by another flow too), and `exec`/`post`/`restore` by
   * id no longer find it. Its finished jobs stay readable (`getJob`) and, with them, its metrics; once they have left
   * retention, its per-flow metrics are folded into the runtime's totals. Returns `false` when no flow has this id.
   * Throws `InvalidOptionError` while jobs of the flow are unfinished: cancel them or wait for them first.
   */
  unregister(flowId: string): boolean {
    if (typeof flowId !== 'string') throw new InvalidOptionError('unregister(flowId)', 'a flow id', flowId);
    if (!this.#flows.has(flowId)) return false;
    let unfinished = 0;
    for (const runner of this.#runners.values()) if (runner.flowId === flowId && !runner.finished) unfinished++;
    if (unfinished > 0)
      throw new InvalidOptionError(
        'unregister(flowId)',
        `a flow with no unfinished jobs (flow '${flowId}' has ${unfinished}; cancel them or await them first)`,
        flowId,
      );
    this.#registered.delete(flowId);
    this.#flows.delete(flowId);
    if (!this.#jobsOfFlow.has(flowId)) this.#services.metrics.forgetFlow(flowId);
    return true;
  }

  /** A job of `flowId` left this runtime (retention, or a failed restore): an unregistered flow goes with its last job. */
  #jobGone(flowId: string): void {
    const left = (this.#jobsOfFlow.get(flowId) ?? 1) - 1;
    if (left > 0) {
      this.#jobsOfFlow.set(flowId, left);
      return;
    }
    this.#jobsOfFlow.delete(flowId);
    if (this.#registered.has(flowId)) return;
    this.#flows.delete(flowId);
    this.#services.metrics.forgetFlow(flowId);
  }

  /** Registers a compiled flow; the same flow again is fine, another flow under its id is not. */
  #add(compiled: FlowDefinition): FlowDefinition {
    const existing = this.#flows.get(compiled.id);
    if (existing && existing !== compiled)
      throw new FlowValidationError(compiled.id, [{ path: 'id', message: `another flow is already registered under id '${compiled.id}'; flow ids are unique per runtime` }]);
    this.#flows.set(compiled.id, compiled);
    return compiled;
  }

  /** A registered flow, compiled (its routines, connections and entry), or `undefined`. */
  getFlow(flowId: string): FlowDefinition | undefined {
    return this.#flows.get(flowId);
  }

  /** The registered flow ids. */
  get flowIds(): string[] {
    return [...this.#flows.keys()];
  }

  /**
   * Starts a job and returns its handle at once (status `running`, or `queued` past `maxJobs`).
   * @example
   * const job = runtime.exec('fetch_flow', { params: { url } });
   * const state = await job.wait();
   */
  exec<TFlow extends string | AnyFlow>(flowOrId: TFlow, options: ExecOptions<ParamsOf<TFlow>> = {}): JobOf<TFlow> {
    if (this.#closed) throw new RuntimeClosedError('exec a job');
    assertKnownKeys('exec(options)', options, EXEC_KEYS);
    if (options.from !== undefined) return this.#restore(options.from, flowOrId, options as ExecOptions) as JobOf<TFlow>;
    return this.#start(this.#resolve(flowOrId), options as ExecOptions, undefined) as JobOf<TFlow>;
  }

  /**
   * Continues a job from its snapshot under the same id and returns its handle at once. Queued data is delivered,
   * in-flight activations run again (at-least-once), finished ones do not; a paused job stays paused, a keepAlive
   * job stays alive, timers (windows, intervals, retry backoff, the job deadline) keep their due times.
   * Throws `SnapshotError` for a malformed snapshot, an unknown format version, an unregistered or different flow,
   * a finished job, or a job id this runtime already has.
   */
  restore(snapshot: JobSnapshot | string, options: Pick<ExecOptions, 'signal'> = {}): Job {
    if (this.#closed) throw new RuntimeClosedError('restore a job');
    assertKnownKeys('restore(options)', options, ['signal']);
    return this.#restore(snapshot, undefined, options);
  }

  #restore(value: unknown, flowOrId: string | AnyFlow | undefined, options: StartOptions): Job {
    for (const key of ['params', 'jobId', 'timeoutMs', 'keepAlive'] as const)
      if (options[key] !== undefined) throw new InvalidOptionError(`exec({ from, ${key} })`, `no '${key}' with 'from' (the snapshot's own is used)`, options[key]);
    const from = parseSnapshot(value, this.#migrate);
    if (isFinalStatus(from.status))
      throw new SnapshotError('finished', `the job already ${from.status === 'completed' ? 'completed' : from.status === 'failed' ? 'failed' : 'was cancelled'}; there is nothing to continue`, from.jobId);
    if (this.#jobs.has(from.jobId)) throw new SnapshotError('duplicate', 'this runtime already has a job with this id', from.jobId);
    let flow: FlowDefinition;
    if (flowOrId === undefined) {
      const registered = this.#flows.get(from.flowId);
      if (!registered) throw new SnapshotError('flow', `its flow '${from.flowId}' is not registered; expected one of ${this.flowIds.map((id) => `'${id}'`).join(', ') || '(none registered)'}`, from.jobId);
      flow = registered;
    } else flow = this.#resolve(flowOrId);
    if (flow.id !== from.flowId) throw new SnapshotError('flow', `it is a job of flow '${from.flowId}', not '${flow.id}'`, from.jobId);
    if (from.initial && !flow.routines.get(from.initial.routine)?.routine.slotNames.includes(from.initial.slot))
      throw new SnapshotError('flow', `flow '${flow.id}' has no slot '${from.initial.routine}.${from.initial.slot}' for the job's first post`, from.jobId);
    for (const key of Object.keys(from.outputs)) {
      const [routineId = '', event = ''] = key.split('.');
      if (!flow.routines.get(routineId)?.routine.eventNames.includes(event))
        throw new SnapshotError('flow', `its outputs hold '${key}', which is not an event of flow '${flow.id}'`, from.jobId);
    }
    for (const [routineId, saved] of Object.entries(from.routines)) {
      const inst = flow.routines.get(routineId);
      if (!inst) throw new SnapshotError('flow', `routine '${routineId}' is not in flow '${flow.id}' (its saved data would be lost)`, from.jobId);
      const slots = new Set(inst.routine.slotNames);
      for (const slot of [...Object.keys(saved.queues), ...Object.keys(saved.inflight?.consumed ?? {})])
        if (!slots.has(slot)) throw new SnapshotError('flow', `routine '${routineId}' of flow '${flow.id}' has no slot '${slot}' (its saved data would be lost)`, from.jobId);
    }
    const overrides = restoreOverrides(flow, from.jobId, from.overrides, assertOverrides(flow, options.overrides));
    return this.#start(flow, { ...(overrides ? { overrides } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.breakpoints ? { breakpoints: options.breakpoints } : {}), ...(options.parentId !== undefined ? { parentId: options.parentId } : {}), ...(from.params ? { params: from.params } : {}), jobId: from.jobId, keepAlive: from.keepAlive, ...(from.timeoutMs !== undefined ? { timeoutMs: from.timeoutMs } : {}) }, from.initial, from);
  }

  /**
   * Resumes every unfinished job the store holds (after a crash) and returns their handles. Jobs this runtime
   * already runs are returned as they are. A job that cannot be restored (its flow is not registered, its snapshot
   * is unreadable) stays in the store and is listed in `skipped` with its `SnapshotError`.
   */
  async recover(): Promise<Job[] & { readonly skipped: readonly { readonly jobId: string; readonly error: Error }[] }> {
    if (this.#closed) throw new RuntimeClosedError('recover jobs');
    const checkpointer = this.#checkpointer;
    if (!checkpointer) throw new InvalidOptionError('recover()', 'a runtime created with a store (createRuntime({ store }))', undefined);
    const { store } = checkpointer;
    const ids = await checkpointer.call('list', undefined, () => store.listUnfinished());
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
      throw new CheckpointError('list', undefined, new Error(`listUnfinished() must return an array of job ids, got ${describeValue(ids)}`));
    const jobs: Job[] = [];
    const skipped: { jobId: string; error: Error }[] = [];
    for (const jobId of ids) {
      if (this.#jobs.has(jobId)) {
        jobs.push(this.#jobs.get(jobId) as Job);
        continue;
      }
      try {
        const snapshot = await checkpointer.call('load', jobId, () => store.load(jobId));
        if (snapshot === undefined) continue;
        // Another recover() may have restored it while this one was loading.
        const live = this.#jobs.get(jobId);
        if (live) {
          jobs.push(live);
          continue;
        }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- shutdown() may run while load() awaits
        if (this.#closed) throw new RuntimeClosedError('recover jobs');
        jobs.push(this.#restore(snapshot, undefined, {}));
      } catch (error) {
        if (error instanceof RuntimeClosedError) throw error;
        skipped.push({ jobId, error: error as Error });
      }
    }
    return Object.assign(jobs, { skipped });
  }

  #start(flow: FlowDefinition, options: StartOptions, initial: JobOptions['initial'], from?: JobSnapshot): Job {
    const { params, signal, timeoutMs, parentId } = options;
    if (parentId === undefined) assertSubflowDepth(flow, this.#maxSubflowDepth);
    const keepAlive = options.keepAlive ?? false;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params)))
      throw new InvalidOptionError('exec({ params })', 'a plain object (the entry slot payload)', params);
    if (timeoutMs !== undefined) assertDuration('exec({ timeoutMs })', timeoutMs);
    if (typeof keepAlive !== 'boolean') throw new InvalidOptionError('exec({ keepAlive })', 'a boolean', keepAlive);
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidOptionError('exec({ signal })', 'an AbortSignal', signal);
    const jobId = options.jobId ?? uuidv7();
    if (typeof jobId !== 'string' || jobId === '') throw new InvalidOptionError('exec({ jobId })', 'a non-empty string', jobId);
    if (this.#jobs.has(jobId)) throw new InvalidOptionError('exec({ jobId })', 'an id no other job of this runtime has', jobId);
    if (options.breakpoints !== undefined) breakpointRoutines(flow, 'exec({ breakpoints })', options.breakpoints);
    const overrides = assertOverrides(flow, options.overrides);

    const runner = new JobRunner(jobId, flow, { params, keepAlive, timeoutMs, ...(initial ? { initial } : {}), ...(from ? { from } : {}), ...(overrides ? { overrides } : {}), ...(parentId !== undefined ? { parentId } : {}) }, this.#services);
    const checkpointer = this.#checkpointer;
    const job = new Job(
      runner,
      checkpointer ? () => checkpointer.flush(jobId) : undefined,
      this.#bus.jobEvents$(
        jobId,
        (delta) => {
          runner.jobObserved += delta;
        },
        () => runner.closed,
      ),
    );
    if (options.breakpoints !== undefined) runner.setBreakpoints(options.breakpoints, 'exec({ breakpoints })');
    this.#jobs.set(jobId, job);
    this.#jobsOfFlow.set(flow.id, (this.#jobsOfFlow.get(flow.id) ?? 0) + 1);
    this.#runners.set(jobId, runner);
    try {
      runner.open();
    } catch (error) {
      // Only a restored job's data can make this throw (a snapshot that passed the checks but not the restore):
      // nothing of the job is left behind.
      this.#jobs.delete(jobId);
      this.#runners.delete(jobId);
      this.#jobGone(flow.id);
      runner.discard();
      throw from ? new SnapshotError('malformed', `it could not be restored: ${(error as Error).message}`, jobId, { cause: error }) : error;
    }
    this.#services.metrics.jobCreated(runner);
    // Events are built for the job's first tick (a subscriber in the same tick sees everything), then only while observed.
    queueMicrotask(() => {
      runner.wantEvents = false;
    });
    // A subflow's child is checkpointed inside its parent's snapshot (see src/subflow/runChild.ts), not on its own.
    if (parentId === undefined) this.#checkpointer?.track(runner);
    if (signal) {
      if (signal.aborted) runner.cancel(signal.reason);
      else {
        const onAbort = () => {
          runner.cancel(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        runner.onFinished(() => {
          signal.removeEventListener('abort', onAbort);
        });
      }
    }
    if (!runner.finished) {
      // A subflow's child runs inside its parent's place: waiting for a place of its own could deadlock.
      if (parentId !== undefined) runner.admit();
      else if (this.#active < this.#maxJobs) this.#admit(runner);
      else this.#admission.push(runner);
    }
    return job;
  }

  /**
   * Posts into a running job (`jobId`), or starts a job of `flowId` and posts into it. Unknown routine or slot:
   * `UnknownSlotError`; a finished job: `JobFinishedError`.
   */
  post(flowId: string, routineId: string, slot: string, payload: object, options: { readonly jobId?: string } = {}): Job {
    assertKnownKeys('post(options)', options, ['jobId']);
    if (options.jobId !== undefined) {
      const job = this.#jobs.get(options.jobId);
      if (!job) throw new InvalidOptionError('post({ jobId })', 'the id of a job of this runtime', options.jobId);
      if (job.flowId !== flowId) throw new InvalidOptionError('post({ jobId })', `a job of flow '${flowId}' (job '${job.id}' runs '${job.flowId}')`, options.jobId);
      job.post(routineId, slot, payload);
      return job;
    }
    if (this.#closed) throw new RuntimeClosedError('start a job with post()');
    const flow = this.#resolve(flowId);
    assertSlot(flow, routineId, slot);
    return this.#start(flow, {}, { routine: routineId, slot, payload });
  }

  /** The handle `exec` returned, while the job is running or retained. */
  getJob(jobId: string): Job | undefined {
    return this.#jobs.get(jobId);
  }

  /** Job handles in creation order, optionally filtered (`parentId`: the direct children of a job's subflows). */
  listJobs(filter: { readonly status?: JobStatus | readonly JobStatus[]; readonly flowId?: string; readonly parentId?: string } = {}): Job[] {
    assertKnownKeys('listJobs(filter)', filter, ['status', 'flowId', 'parentId']);
    if (filter.parentId !== undefined && typeof filter.parentId !== 'string') throw new InvalidOptionError('listJobs({ parentId })', 'a job id', filter.parentId);
    const wanted: unknown = filter.status;
    const list: unknown[] | undefined = wanted === undefined ? undefined : Array.isArray(wanted) ? wanted : [wanted];
    for (const status of list ?? [])
      if (typeof status !== 'string' || !(JOB_STATUSES as readonly string[]).includes(status))
        throw new InvalidOptionError('listJobs({ status })', `a job status or a list of them (${JOB_STATUSES.map((status) => `'${status}'`).join(', ')})`, wanted);
    if (filter.flowId !== undefined && typeof filter.flowId !== 'string') throw new InvalidOptionError('listJobs({ flowId })', 'a flow id', filter.flowId);
    const statuses = list === undefined ? undefined : new Set(list);
    const out: Job[] = [];
    for (const job of this.#jobs.values()) {
      if (statuses && !statuses.has(job.status)) continue;
      if (filter.flowId !== undefined && job.flowId !== filter.flowId) continue;
      if (filter.parentId !== undefined && job.parentId !== filter.parentId) continue;
      out.push(job);
    }
    return out;
  }

  /** Resolves with the final states once no job is unfinished (jobs started meanwhile included). */
  async waitForAll(options: { readonly timeoutMs?: number } = {}): Promise<JobState[]> {
    assertKnownKeys('waitForAll(options)', options, ['timeoutMs']);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) assertDuration('waitForAll({ timeoutMs })', timeoutMs);
    const all = async () => {
      const states = new Map<string, JobState>();
      for (;;) {
        // A finished job whose cleanups still run is not done yet (`wait()` resolves after them).
        const open = [...this.#runners.values()].filter((r) => !r.closed);
        if (open.length === 0) break;
        for (const state of await Promise.all(open.map((r) => (this.#jobs.get(r.id) as Job).wait()))) states.set(state.jobId, state);
      }
      return [...states.values()];
    };
    if (timeoutMs === undefined) return all();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        all(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new WaitTimeoutError(undefined, timeoutMs));
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cancels every unfinished job (queued ones included). */
  cancelAll(reason?: unknown): void {
    for (const runner of [...this.#runners.values()]) runner.cancel(reason);
  }

  /**
   * Stops taking jobs. `wait: true` lets running jobs finish; otherwise they are cancelled, and a store forgets them.
   * `suspend: true` (with a store) saves every unfinished job as it is and then stops it here without finishing it
   * in the store, so `recover()` in the next process continues it: a worker's clean stop (SIGTERM). Idempotent.
   */
  async shutdown(options: { readonly wait?: boolean; readonly suspend?: boolean } = {}): Promise<void> {
    assertKnownKeys('shutdown(options)', options, ['wait', 'suspend']);
    this.#closed = true;
    if (options.suspend) {
      const checkpointer = this.#checkpointer;
      if (!checkpointer) throw new InvalidOptionError('shutdown({ suspend })', 'a runtime created with a store (createRuntime({ store }))', true);
      // Children are saved inside their parents' snapshots.
      const suspended = [...this.#runners.values()].filter((runner) => runner.options.parentId === undefined).map((runner) => {
        const saved = checkpointer.suspend(runner);
        runner.cancel('runtime suspended');
        return saved;
      });
      await Promise.all(suspended);
    } else if (!options.wait) this.cancelAll('runtime shut down');
    await this.waitForAll();
    await this.#checkpointer?.drain();
    await this.#services.threads.close();
    // Last: every job and its cleanups are done with them.
    await this.#services.resources.dispose();
  }

  /** `await using runtime = createRuntime()`: shuts down, letting running jobs finish. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  #resolve(flowOrId: string | AnyFlow): FlowDefinition {
    if (typeof flowOrId === 'string') {
      const flow = this.#flows.get(flowOrId);
      if (!flow) throw new FlowNotFoundError(flowOrId, [...this.#flows.keys()]);
      return flow;
    }
    if (!isFlow(flowOrId)) throw new InvalidOptionError('exec(flow)', 'a flow id or a flow from createFlow()', flowOrId);
    return this.#add(compileFlow(flowOrId));
  }

  readonly #admitWaiting = (): void => {
    this.#admitScheduled = false;
    while (this.#active < this.#maxJobs && this.#admission.length > 0) this.#admit(this.#admission.shift() as JobRunner);
  };

  #admit(runner: JobRunner): void {
    this.#active++;
    this.#admitted.add(runner);
    runner.admit();
  }

  #onJobFinished(jobId: string): void {
    const runner = this.#runners.get(jobId);
    if (!runner) return;
    this.#runners.delete(jobId);
    if (this.#admitted.delete(runner)) this.#active--;
    else {
      const waiting = this.#admission.indexOf(runner);
      if (waiting >= 0) this.#admission.splice(waiting, 1);
    }
    // Admit waiting jobs after this step: it runs inside the finishing job's supervisor transition.
    if (this.#admission.length > 0 && !this.#admitScheduled) {
      this.#admitScheduled = true;
      queueMicrotask(this.#admitWaiting);
    }
    this.#finished.push(jobId);
    while (this.#finished.length > this.#retain) {
      const id = this.#finished.shift() as string;
      const gone = this.#jobs.get(id);
      this.#jobs.delete(id);
      if (gone) this.#jobGone(gone.flowId);
    }
  }
}

/**
 * Creates a runtime.
 * @example
 * await using runtime = createRuntime({ concurrency: 10 });
 * const job = runtime.exec(flow, { params: { data: 'test' } });
 * const state = await job.wait({ timeoutMs: 10_000 });
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new Runtime(options);
}

