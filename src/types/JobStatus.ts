/**
 * JobStatus: where a job is in its lifecycle. A neutral home (it imports nothing), so the engine, metrics and
 * persistence can all read it without importing each other.
 */

export type JobStatus = 'queued' | 'running' | 'paused' | 'idle' | 'completed' | 'failed' | 'cancelled';

/** Every job status, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'paused', 'idle', 'completed', 'failed', 'cancelled'];

/** The statuses a job never leaves. */
export type FinalStatus = 'completed' | 'failed' | 'cancelled';

const FINAL: ReadonlySet<string> = new Set<FinalStatus>(['completed', 'failed', 'cancelled']);

/** True for `completed`, `failed` and `cancelled`: the job is over. */
export function isFinalStatus(status: JobStatus): status is FinalStatus {
  return FINAL.has(status);
}
