/**
 * startJob: checks a job's options, builds its runner and handle, registers it and lets it run (or wait for a
 * `maxJobs` place). `exec`, `post` and `restore` all end here.
 */
import { v7 as uuidv7 } from 'uuid';
import type { FlowDefinition } from '../../flow/FlowDefinition.js';
import { InvalidOptionError, SnapshotError } from '../../errors/index.js';
import { breakpointRoutines } from '../job/breakpointRoutines.js';
import { Job, type JobPorts } from '../../job/Job.js';
import { JobRunner } from '../job/JobRunner.js';
import type { JobOptions } from '../job/JobOptions.js';
import { assertOverrides } from '../job/overrides.js';
import type { RuntimeServices } from '../job/RuntimeServices.js';
import type { Checkpointer } from '../../persistence/Checkpointer.js';
import type { JobSnapshot } from '../../persistence/JobSnapshot.js';
import type { EventBus } from '../../runtime/EventBus.js';
import type { ExecOptions } from '../../runtime/ExecOptions.js';
import { assertDuration } from '../../util/assertOption.js';
import { assertSubflowDepth } from '../../subflow/subflowDepth.js';
import type { Admission } from './Admission.js';
import type { FlowRegistry } from './FlowRegistry.js';
import type { JobTable } from './JobTable.js';

/** What starting a job needs of the runtime. */
export interface JobStarter {
  readonly services: RuntimeServices;
  readonly bus: EventBus;
  readonly checkpointer: Checkpointer | undefined;
  readonly table: JobTable;
  readonly flows: FlowRegistry;
  readonly admission: Admission<JobRunner>;
  readonly maxSubflowDepth: number;
}

/** `exec` options as the runtime passes them on, with the parent of a subflow's child job. */
export type StartOptions = ExecOptions & { readonly parentId?: string };

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Starts a job of `flow` and returns its handle; `initial` is a first post, `from` a snapshot the job continues. */
export function startJob(starter: JobStarter, flow: FlowDefinition, options: StartOptions, initial: JobOptions['initial'], from?: JobSnapshot): Job {
  const jobOptions = checkJobOptions(options);
  const { parentId } = options;
  // A child's depth was checked with its top-level job's flow.
  if (parentId === undefined) assertSubflowDepth(flow, starter.maxSubflowDepth);
  else jobOptions.parentId = parentId;
  const jobId = jobIdOf(starter.table, options.jobId);
  if (options.breakpoints !== undefined) breakpointRoutines(flow, 'exec({ breakpoints })', options.breakpoints);
  if (options.overrides !== undefined) {
    const overrides = assertOverrides(flow, options.overrides);
    if (overrides) jobOptions.overrides = overrides;
  }
  if (initial) jobOptions.initial = initial;
  if (from) jobOptions.from = from;
  const { services, checkpointer, table, flows } = starter;
  const runner = new JobRunner(jobId, flow, jobOptions, services);
  const job = new Job(runner, portsOf(starter));
  if (options.breakpoints !== undefined) runner.setBreakpoints(options.breakpoints, 'exec({ breakpoints })');
  table.add(job, runner);
  flows.jobAdded(flow.id);
  try {
    runner.open();
  } catch (error) {
    // Only a restored job's data can make this throw (a snapshot that passed the checks but not the restore):
    // nothing of the job is left behind.
    table.discard(jobId);
    flows.jobGone(flow.id);
    runner.discard();
    throw from ? new SnapshotError('malformed', `it could not be restored: ${(error as Error).message}`, jobId, { cause: error }) : error;
  }
  services.metrics.jobCreated(runner);
  // Events are built for the job's first tick (a subscriber in the same tick sees everything), then only while observed.
  firstTick(runner);
  // A subflow's child is checkpointed inside its parent's snapshot, not on its own.
  if (parentId === undefined) checkpointer?.track(runner);
  if (options.signal) cancelOnAbort(runner, options.signal);
  // A subflow's child runs in its parent's place: waiting for a place of its own could deadlock.
  if (parentId === undefined) starter.admission.enter(runner);
  else runner.admit();
  // A job admitted at once has left `queued` with its `start`; one waiting for its `maxJobs` place enters it now.
  runner.showQueued();
  return job;
}

const ports = new WeakMap<JobStarter, JobPorts>();

/** What the runtime's job handles ask of it: one object per runtime, not closures per job. */
function portsOf(starter: JobStarter): JobPorts {
  let made = ports.get(starter);
  if (made) return made;
  const { bus, checkpointer } = starter;
  made = {
    // The job's stream is made when first read (`job.events$`): most jobs are never watched.
    events$: (runner) =>
      bus.jobEvents$(
        runner.id,
        (delta) => {
          runner.jobObserved += delta;
        },
        () => runner.closed,
      ),
    flush: checkpointer ? (jobId) => checkpointer.flush(jobId) : () => Promise.resolve(),
  };
  ports.set(starter, made);
  return made;
}

/**
 * Jobs created since the last microtask (the first `freshCount` entries): one microtask ends the first tick of all of
 * them. The array is kept from tick to tick (its entries cleared), not made anew for every job created alone.
 */
const fresh: (JobRunner | undefined)[] = [];
let freshCount = 0;

function firstTick(runner: JobRunner): void {
  fresh[freshCount++] = runner;
  if (freshCount === 1) queueMicrotask(endFirstTick);
}

function endFirstTick(): void {
  // Jobs created by what this loop runs (nothing today: it only clears a flag) would get a tick of their own.
  const count = freshCount;
  freshCount = 0;
  for (let i = 0; i < count; i++) {
    (fresh[i] as JobRunner).wantEvents = false;
    fresh[i] = undefined;
  }
}

function jobIdOf(table: JobTable, given: string | undefined): string {
  // `null` too, as `??` always took it: a new id.
  if ((given as unknown) == null) return uuidv7();
  if (typeof given !== 'string' || given === '') throw new InvalidOptionError('exec({ jobId })', 'a non-empty string', given);
  if (table.has(given)) throw new InvalidOptionError('exec({ jobId })', 'an id no other job of this runtime has', given);
  return given;
}

/** Checks what JavaScript callers may get wrong (TypeScript callers cannot) and returns the runner's options. */
function checkJobOptions(options: ExecOptions): Writable<JobOptions> {
  const { params, signal, timeoutMs } = options;
  const keepAlive = options.keepAlive ?? false;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params)))
    throw new InvalidOptionError('exec({ params })', 'a plain object (the entry slot payload)', params);
  if (timeoutMs !== undefined) assertDuration('exec({ timeoutMs })', timeoutMs);
  if (typeof keepAlive !== 'boolean') throw new InvalidOptionError('exec({ keepAlive })', 'a boolean', keepAlive);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidOptionError('exec({ signal })', 'an AbortSignal', signal);
  return { params, keepAlive, timeoutMs };
}

/** Aborting `signal` cancels the job; the listener goes when the job finishes. */
function cancelOnAbort(runner: JobRunner, signal: AbortSignal): void {
  if (signal.aborted) {
    runner.cancel(signal.reason);
    return;
  }
  const onAbort = () => {
    runner.cancel(signal.reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  runner.onFinished(() => {
    signal.removeEventListener('abort', onAbort);
  });
}
