/**
 * Runtime: runs many jobs at once over one bounded scheduler. This file is the public assembly: each method checks
 * its own arguments and hands over to one part in src/internal/runtime (settings, flows, the job table and its
 * retention, admission, starting, restoring and recovering jobs, stopping).
 */
import type { Observable } from 'rxjs';
import { InvalidOptionError, RuntimeClosedError } from '../errors/index.js';
import { assertSlot } from '../flow/assertSlot.js';
import type { FlowDefinition } from '../flow/FlowDefinition.js';
import type { Job } from '../job/Job.js';
import type { JobEvent } from '../types/JobEvent.js';
import type { JobRunner } from '../internal/job/JobRunner.js';
import type { JobState } from '../types/JobState.js';
import type { RuntimeServices } from '../internal/job/RuntimeServices.js';
import type { MetricsOptions, RuntimeMetrics } from '../metrics/RuntimeMetrics.js';
import type { Checkpointer } from '../persistence/Checkpointer.js';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';
import { JOB_STATUSES, type JobStatus } from '../types/JobStatus.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { assertDuration } from '../util/assertOption.js';
import { Admission } from '../internal/runtime/Admission.js';
import { createCheckpointer } from '../internal/runtime/createCheckpointer.js';
import { createServices } from '../internal/runtime/createServices.js';
import { FlowRegistry, type AnyFlow } from '../internal/runtime/FlowRegistry.js';
import { JobTable } from '../internal/runtime/JobTable.js';
import { recoverJobs } from '../internal/runtime/recoverJobs.js';
import { restoreJob } from '../internal/runtime/restoreJob.js';
import { resolveRuntimeSettings } from '../internal/runtime/runtimeSettings.js';
import { startJob, type JobStarter } from '../internal/runtime/startJob.js';
import { cancelAll, stopRuntime, waitForAll, type Stoppable } from '../internal/runtime/stopRuntime.js';
import { EventBus } from './EventBus.js';
import type { ExecOptions, JobOf, ParamsOf } from './ExecOptions.js';
import type { ResourceMetrics } from './Resources.js';
import type { RuntimeOptions } from './RuntimeOptions.js';

export type { ExecOptions, JobOf, ParamsOf } from './ExecOptions.js';
export type { RuntimeOptions } from './RuntimeOptions.js';

const EXEC_KEYS = ['params', 'jobId', 'signal', 'timeoutMs', 'keepAlive', 'from', 'breakpoints', 'overrides'] as const satisfies readonly (keyof ExecOptions)[];

export class Runtime implements AsyncDisposable {
  readonly #flows: FlowRegistry;
  readonly #table: JobTable;
  readonly #admission: Admission<JobRunner>;
  readonly #services: RuntimeServices;
  readonly #checkpointer: Checkpointer | undefined;
  readonly #migrate: ((snapshot: unknown) => unknown) | undefined;
  /** What starting, stopping and recovering jobs see of this runtime. */
  readonly #starter: JobStarter;
  readonly #stoppable: Stoppable;
  #closed = false;

  /** Every event of every job. */
  readonly events$: Observable<JobEvent>;

  constructor(options: RuntimeOptions = {}) {
    const settings = resolveRuntimeSettings(options);
    const bus = new EventBus({ onUnhandledError: settings.onUnhandledError, maxBufferedEvents: settings.maxBufferedEvents });
    this.events$ = bus.events$;
    this.#migrate = settings.migrateSnapshot;
    const checkpointer = (this.#checkpointer = createCheckpointer(settings));
    const services = (this.#services = createServices(
      settings,
      bus,
      (jobId) => {
        this.#onJobFinished(jobId);
      },
      (flow, jobId, parentId, from) => {
        const job = from ? restoreJob(this.#starter, this.#migrate, from, flow, { parentId }) : startJob(this.#starter, flow, { jobId, keepAlive: true, parentId }, undefined);
        return { job, runner: table.runner(job.id) as JobRunner };
      },
    ));
    const flows = (this.#flows = new FlowRegistry((flowId) => {
      services.metrics.forgetFlow(flowId);
    }));
    const table = (this.#table = new JobTable(settings.retain, (flowId) => {
      flows.jobGone(flowId);
    }));
    const admission = (this.#admission = new Admission(settings.maxJobs));
    this.#starter = { services, bus, checkpointer, table, flows, admission, maxSubflowDepth: settings.maxSubflowDepth };
    this.#stoppable = { services, checkpointer, live: () => table.live(), getJob: (jobId) => table.get(jobId) };
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
    const { metrics, scheduler, resources } = this.#services;
    return { ...metrics.runtime(this.#table.live(), scheduler.running, reset), resources: resources.metrics(reset) };
  }

  /** Registers a flow under its id (compiling it: an invalid flow throws `FlowValidationError`). */
  register(flow: AnyFlow): this {
    if (this.#closed) throw new RuntimeClosedError('register a flow');
    this.#flows.register(flow);
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
    for (const runner of this.#table.live()) if (runner.flowId === flowId && !runner.finished) unfinished++;
    if (unfinished > 0)
      throw new InvalidOptionError(
        'unregister(flowId)',
        `a flow with no unfinished jobs (flow '${flowId}' has ${unfinished}; cancel them or await them first)`,
        flowId,
      );
    this.#flows.unregister(flowId);
    return true;
  }

  /** A registered flow, compiled (its routines, connections and entry), or `undefined`. */
  getFlow(flowId: string): FlowDefinition | undefined {
    return this.#flows.get(flowId);
  }

  /** The registered flow ids. */
  get flowIds(): string[] {
    return this.#flows.ids;
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
    if (options.from !== undefined) return restoreJob(this.#starter, this.#migrate, options.from, flowOrId, options as ExecOptions) as JobOf<TFlow>;
    return startJob(this.#starter, this.#flows.resolve(flowOrId), options as ExecOptions, undefined) as JobOf<TFlow>;
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
    return restoreJob(this.#starter, this.#migrate, snapshot, undefined, options);
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
    return recoverJobs({
      checkpointer,
      getJob: (jobId) => this.#table.get(jobId),
      isClosed: () => this.#closed,
      restore: (snapshot) => restoreJob(this.#starter, this.#migrate, snapshot, undefined, {}),
    });
  }

  /**
   * Posts into a running job (`jobId`), or starts a job of `flowId` and posts into it. Unknown routine or slot:
   * `UnknownSlotError`; a finished job: `JobFinishedError`.
   */
  post(flowId: string, routineId: string, slot: string, payload: object, options: { readonly jobId?: string } = {}): Job {
    assertKnownKeys('post(options)', options, ['jobId']);
    if (options.jobId !== undefined) {
      const job = this.#table.get(options.jobId);
      if (!job) throw new InvalidOptionError('post({ jobId })', 'the id of a job of this runtime', options.jobId);
      if (job.flowId !== flowId) throw new InvalidOptionError('post({ jobId })', `a job of flow '${flowId}' (job '${job.id}' runs '${job.flowId}')`, options.jobId);
      job.post(routineId, slot, payload);
      return job;
    }
    if (this.#closed) throw new RuntimeClosedError('start a job with post()');
    const flow = this.#flows.resolve(flowId);
    assertSlot(flow, routineId, slot);
    return startJob(this.#starter, flow, {}, { routine: routineId, slot, payload });
  }

  /** The handle `exec` returned, while the job is running or retained. */
  getJob(jobId: string): Job | undefined {
    return this.#table.get(jobId);
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
    for (const job of this.#table.jobs()) {
      if (statuses && !statuses.has(job.status)) continue;
      if (filter.flowId !== undefined && job.flowId !== filter.flowId) continue;
      if (filter.parentId !== undefined && job.parentId !== filter.parentId) continue;
      out.push(job);
    }
    return out;
  }

  /**
   * Resolves with the final states once no job is unfinished (jobs started meanwhile included). `timeoutMs` counts on
   * the runtime's clock: past it, `WaitTimeoutError` (the jobs go on).
   */
  async waitForAll(options: { readonly timeoutMs?: number } = {}): Promise<JobState[]> {
    assertKnownKeys('waitForAll(options)', options, ['timeoutMs']);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) assertDuration('waitForAll({ timeoutMs })', timeoutMs);
    return waitForAll(this.#stoppable, timeoutMs);
  }

  /** Cancels every unfinished job (queued ones included). */
  cancelAll(reason?: unknown): void {
    cancelAll(this.#stoppable, reason);
  }

  /**
   * Stops taking jobs. `wait: true` lets running jobs finish; otherwise they are cancelled, and a store forgets them.
   * `suspend: true` (with a store) saves every unfinished job as it is and then stops it here without finishing it
   * in the store, so `recover()` in the next process continues it: a worker's clean stop (SIGTERM). Idempotent.
   */
  async shutdown(options: { readonly wait?: boolean; readonly suspend?: boolean } = {}): Promise<void> {
    assertKnownKeys('shutdown(options)', options, ['wait', 'suspend']);
    this.#closed = true;
    await stopRuntime(this.#stoppable, options);
  }

  /** `await using runtime = createRuntime()`: shuts down, letting running jobs finish. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  /** A job finished, its cleanups done: its `maxJobs` place goes to the next, and it joins the retained jobs. */
  #onJobFinished(jobId: string): void {
    const runner = this.#table.finish(jobId);
    if (runner) this.#admission.leave(runner);
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
