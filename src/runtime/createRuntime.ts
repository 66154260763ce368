/**
 * Runtime: runs many jobs at once over one bounded scheduler (SPEC 3).
 */
import type { Observable } from 'rxjs';
import { v7 as uuidv7 } from 'uuid';
import type { InspectionEvent, Observer } from 'xstate';
import { systemClock, type Clock } from '../clock/index.js';
import { CheckpointError, FlowNotFoundError, FlowValidationError, InvalidOptionError, RuntimeClosedError, SnapshotError, WaitTimeoutError } from '../errors/index.js';
import { assertSlot, compileFlow, isFlow, type FlowBuilder, type FlowDefinition, type RoutineMap } from '../flow/index.js';
import type { OutputsOf } from '../flow/typedEdges.js';
import { isFinalStatus, Job, JobRunner, ActorPool, type JobEvent, type JobOptions, type JobState, type JobStatus, type RuntimeServices, type ValidationMode } from '../job/index.js';
import { MetricsCollector, type MetricsOptions, type RuntimeMetrics } from '../metrics/index.js';
import { Checkpointer, parseSnapshot, type CheckpointStore, type JobSnapshot } from '../persistence/index.js';
import type { Payload } from '../routine/index.js';
import { Scheduler } from '../scheduler/index.js';
import { assertDuration, assertLimit, assertNonNegativeInteger, assertPositiveInteger } from '../util/assertOption.js';
import { EventBus, type UnhandledErrorHandler } from './EventBus.js';
import { Resources, type ResourceMetrics, type ResourcesOption } from './Resources.js';
import { assertOverrides, restoreOverrides, type Overrides } from '../job/overrides.js';

/** Options of `createRuntime`. */
export interface RuntimeOptions {
  /** Max activations running at once across all jobs. @default 10 */
  readonly concurrency?: number;
  /** Max jobs running at once; more wait in `queued`. @default Infinity */
  readonly maxJobs?: number;
  /** An XState inspection observer, passed to every actor the runtime creates. @default none */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Schema validation of payloads: `'strict'` fails the activation, `'warn'` warns and delivers. @default 'warn' */
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
  /** A checkpoint failed to save or delete (the job goes on). @default a process warning */
  readonly onCheckpointError?: (error: CheckpointError) => void;
  /**
   * Things routines share across jobs (pools, clients), by name: `{ create, dispose? }` or just a factory. Each is
   * created on its first `ctx.resource(name)` and disposed by `shutdown()`, newest first. @default none
   */
  readonly resources?: ResourcesOption;
}

/** Options of `runtime.exec`; `TParams` is the entry slot's payload type where the flow's types say it. */
export interface ExecOptions<TParams = Payload> {
  /** Delivered as one payload to the flow's entry slot. @default no delivery */
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
   * Per-routine changes for this job only: `config` merged over the instance's, `policy`, `onError` and `timeoutMs`
   * replacing the instance's. Unknown routine ids or keys throw `InvalidOptionError`. With `from`, laid over the
   * snapshot's own overrides (a custom policy or a `retry.when` must be given again: snapshots cannot carry them).
   * @default none
   */
  readonly overrides?: Overrides;
}

type AnyFlow = FlowBuilder<RoutineMap> | FlowDefinition;

/** The entry slot's payload type of a typed flow builder (else any payload). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matching any routine map
export type ParamsOf<TFlow> = [TFlow] extends [never] ? Payload : [TFlow] extends [FlowBuilder<any, infer TParams>] ? TParams : Payload;
/** The job handle `exec` returns: its `state.outputs` typed per event for a typed flow builder. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matching any params type
export type JobOf<TFlow> = [TFlow] extends [never] ? Job : [TFlow] extends [FlowBuilder<infer TRoutines, any>] ? Job<OutputsOf<TRoutines>> : Job;

export class Runtime implements AsyncDisposable {
  readonly #flows = new Map<string, FlowDefinition>();
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

  /** Every event of every job. */
  readonly events$: Observable<JobEvent>;

  constructor(options: RuntimeOptions = {}) {
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
    const validation = options.validation ?? 'warn';
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
    const onCheckpointError =
      options.onCheckpointError ??
      ((error: CheckpointError) => {
        process.emitWarning(error.message, { code: 'SLOTFLOW_CHECKPOINT' });
      });
    this.#checkpointer = store ? new Checkpointer(store, retainFinished, onCheckpointError) : undefined;
    this.#migrate = options.migrateSnapshot;
    const bus = (this.#bus = new EventBus({ onUnhandledError: options.onUnhandledError, maxBufferedEvents: options.maxBufferedEvents }));
    this.events$ = bus.events$;
    this.#services = {
      scheduler: new Scheduler(concurrency),
      clock,
      inspect: options.inspect,
      actorPool: options.inspect || reuseActors === 0 ? undefined : new ActorPool(reuseActors),
      historyLimit,
      validation,
      metrics: new MetricsCollector(metrics, clock, clock === systemClock),
      resources: new Resources(options.resources),
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
    const reset = options.reset ?? false;
    if (typeof reset !== 'boolean') throw new InvalidOptionError('metrics({ reset })', 'a boolean', reset);
    return { ...this.#services.metrics.runtime(this.#runners.values(), this.#services.scheduler.running, reset), resources: this.#services.resources.metrics(reset) };
  }

  /** Registers a flow under its id (compiling it: an invalid flow throws `FlowValidationError`). */
  register(flow: AnyFlow): this {
    if (this.#closed) throw new RuntimeClosedError('register a flow');
    if (!isFlow(flow)) throw new InvalidOptionError('register(flow)', 'a flow from createFlow()', flow);
    this.#add(compileFlow(flow));
    return this;
  }

  /** Registers a compiled flow; the same flow again is fine, another flow under its id is not. */
  #add(compiled: FlowDefinition): FlowDefinition {
    const existing = this.#flows.get(compiled.id);
    if (existing && existing !== compiled)
      throw new FlowValidationError(compiled.id, [{ path: 'id', message: `another flow is already registered under id '${compiled.id}'; flow ids are unique per runtime` }]);
    this.#flows.set(compiled.id, compiled);
    return compiled;
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
    return this.#restore(snapshot, undefined, options);
  }

  #restore(value: unknown, flowOrId: string | AnyFlow | undefined, options: ExecOptions): Job {
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
    for (const [routineId, saved] of Object.entries(from.routines)) {
      const inst = flow.routines.get(routineId);
      if (!inst) throw new SnapshotError('flow', `routine '${routineId}' is not in flow '${flow.id}' (its saved data would be lost)`, from.jobId);
      const slots = new Set(inst.routine.slotNames);
      for (const slot of [...Object.keys(saved.queues), ...Object.keys(saved.inflight?.consumed ?? {})])
        if (!slots.has(slot)) throw new SnapshotError('flow', `routine '${routineId}' of flow '${flow.id}' has no slot '${slot}' (its saved data would be lost)`, from.jobId);
    }
    const overrides = restoreOverrides(flow, from.jobId, from.overrides, assertOverrides(flow, options.overrides));
    return this.#start(flow, { ...(overrides ? { overrides } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(from.params ? { params: from.params } : {}), jobId: from.jobId, keepAlive: from.keepAlive, ...(from.timeoutMs !== undefined ? { timeoutMs: from.timeoutMs } : {}) }, from.initial, from);
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
    let ids: string[];
    try {
      ids = await store.listUnfinished();
    } catch (error) {
      throw error instanceof CheckpointError ? error : new CheckpointError('list', undefined, error);
    }
    const jobs: Job[] = [];
    const skipped: { jobId: string; error: Error }[] = [];
    for (const jobId of ids) {
      if (this.#jobs.has(jobId)) {
        jobs.push(this.#jobs.get(jobId) as Job);
        continue;
      }
      try {
        let snapshot: JobSnapshot | undefined;
        try {
          snapshot = await store.load(jobId);
        } catch (error) {
          throw error instanceof SnapshotError || error instanceof CheckpointError ? error : new CheckpointError('load', jobId, error);
        }
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

  #start(flow: FlowDefinition, options: ExecOptions, initial: JobOptions['initial'], from?: JobSnapshot): Job {
    const { params, signal, timeoutMs } = options;
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
    const overrides = assertOverrides(flow, options.overrides);

    const runner = new JobRunner(jobId, flow, { params, keepAlive, timeoutMs, ...(initial ? { initial } : {}), ...(from ? { from } : {}), ...(overrides ? { overrides } : {}) }, this.#services);
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
    this.#jobs.set(jobId, job);
    this.#runners.set(jobId, runner);
    try {
      runner.open();
    } catch (error) {
      // Only a restored job's data can make this throw (a snapshot that passed the checks but not the restore):
      // nothing of the job is left behind.
      this.#jobs.delete(jobId);
      this.#runners.delete(jobId);
      runner.discard();
      throw from ? new SnapshotError('malformed', `it could not be restored: ${(error as Error).message}`, jobId, { cause: error }) : error;
    }
    this.#services.metrics.jobCreated(runner);
    // Events are built for the job's first tick (a subscriber in the same tick sees everything), then only while observed.
    queueMicrotask(() => {
      runner.wantEvents = false;
    });
    this.#checkpointer?.track(runner);
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
      if (this.#active < this.#maxJobs) this.#admit(runner);
      else this.#admission.push(runner);
    }
    return job;
  }

  /**
   * Posts into a running job (`jobId`), or starts a job of `flowId` and posts into it. Unknown routine or slot:
   * `UnknownSlotError`; a finished job: `JobFinishedError`.
   */
  post(flowId: string, routineId: string, slot: string, payload: object, options: { readonly jobId?: string } = {}): Job {
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

  /** Job handles in creation order, optionally filtered. */
  listJobs(filter: { readonly status?: JobStatus | readonly JobStatus[]; readonly flowId?: string } = {}): Job[] {
    const statuses = filter.status === undefined ? undefined : new Set(typeof filter.status === 'string' ? [filter.status] : filter.status);
    const out: Job[] = [];
    for (const job of this.#jobs.values()) {
      if (statuses && !statuses.has(job.status)) continue;
      if (filter.flowId !== undefined && job.flowId !== filter.flowId) continue;
      out.push(job);
    }
    return out;
  }

  /** Resolves with the final states once no job is unfinished (jobs started meanwhile included). */
  async waitForAll(options: { readonly timeoutMs?: number } = {}): Promise<JobState[]> {
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
    this.#closed = true;
    if (options.suspend) {
      const checkpointer = this.#checkpointer;
      if (!checkpointer) throw new InvalidOptionError('shutdown({ suspend })', 'a runtime created with a store (createRuntime({ store }))', true);
      const suspended = [...this.#runners.values()].map((runner) => {
        const saved = checkpointer.suspend(runner);
        runner.cancel('runtime suspended');
        return saved;
      });
      await Promise.all(suspended);
    } else if (!options.wait) this.cancelAll('runtime shut down');
    await this.waitForAll();
    await this.#checkpointer?.drain();
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
    while (this.#finished.length > this.#retain) this.#jobs.delete(this.#finished.shift() as string);
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

