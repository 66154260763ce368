/**
 * recoverJobs: after a crash, resumes every unfinished job a store holds. A job that cannot be restored stays in
 * the store and is listed in `skipped` with its error; jobs the runtime already runs are returned as they are.
 */
import { CheckpointError, describeValue, RuntimeClosedError } from '../../errors/index.js';
import type { Job } from '../../job/Job.js';
import type { Checkpointer } from '../../persistence/Checkpointer.js';

export type Recovered = Job[] & { readonly skipped: readonly { readonly jobId: string; readonly error: Error }[] };

/** What recovering needs of the runtime: its jobs, whether it closed meanwhile, and how to restore a snapshot. */
export interface Recoverer {
  readonly checkpointer: Checkpointer;
  getJob(jobId: string): Job | undefined;
  /** `shutdown()` may run while a snapshot loads. */
  isClosed(): boolean;
  restore(snapshot: unknown): Job;
}

export async function recoverJobs(recoverer: Recoverer): Promise<Recovered> {
  const { checkpointer } = recoverer;
  const { store } = checkpointer;
  const ids = await checkpointer.call('list', undefined, () => store.listUnfinished());
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
    throw new CheckpointError('list', undefined, new Error(`listUnfinished() must return an array of job ids, got ${describeValue(ids)}`));
  const jobs: Job[] = [];
  const skipped: { jobId: string; error: Error }[] = [];
  for (const jobId of ids) {
    const held = recoverer.getJob(jobId);
    if (held) {
      jobs.push(held);
      continue;
    }
    try {
      const job = await recoverOne(recoverer, jobId);
      if (job) jobs.push(job);
    } catch (error) {
      if (error instanceof RuntimeClosedError) throw error;
      skipped.push({ jobId, error: error as Error });
    }
  }
  return Object.assign(jobs, { skipped });
}

async function recoverOne(recoverer: Recoverer, jobId: string): Promise<Job | undefined> {
  const { checkpointer } = recoverer;
  const snapshot = await checkpointer.call('load', jobId, () => checkpointer.store.load(jobId));
  if (snapshot === undefined) return undefined;
  // Another recover() may have restored it while this one was loading.
  const live = recoverer.getJob(jobId);
  if (live) return live;
  if (recoverer.isClosed()) throw new RuntimeClosedError('recover jobs');
  return recoverer.restore(snapshot);
}
