/**
 * The job's own lifecycle events: its status changes and its end (with a warning for data no activation took).
 */
import type { SupervisorStatus } from '../../../machines/index.js';
import type { JobEvent } from '../../types/JobEvent.js';
import type { JobState, JobStatus } from '../../types/JobState.js';

/** What the announcements read of their job. */
export interface AnnouncedJob {
  readonly id: string;
  readonly flowId: string;
  readonly services: { readonly clock: { now(): number } };
  readonly data: { readonly snapshot: JobState };
  publish(event: JobEvent): void;
}

/** The supervisor entered `status` (from `previous`): `job.queued`, `job.started`, `job.resumed` or `job.paused`. */
export function announceStatus(job: AnnouncedJob, previous: JobStatus, status: SupervisorStatus): void {
  // The supervisor's first state is `queued`, the status a runner starts with: that entry is an event too.
  if (previous === status && status !== 'queued') return;
  // A keepAlive job going from `idle` back to `running` is not a new start.
  const type = status === 'queued' ? 'job.queued' : status === 'running' && previous !== 'idle' ? (previous === 'paused' ? 'job.resumed' : 'job.started') : status === 'paused' ? 'job.paused' : undefined;
  if (type) job.publish({ type, jobId: job.id, flowId: job.flowId, at: job.services.clock.now() });
}

/** The job's final event (after its cleanups). */
export function announceEnd(job: AnnouncedJob, status: 'completed' | 'failed' | 'cancelled', error: Error | undefined, at: number): void {
  const base = { jobId: job.id, flowId: job.flowId, at };
  if (status === 'completed') {
    warnPending(job, at);
    job.publish({ type: 'job.completed', ...base });
  } else if (status === 'failed') job.publish({ type: 'job.failed', ...base, error: error as Error });
  else job.publish({ type: 'job.cancelled', ...base, error: error as Error });
}

/** One `job.warning` for data no activation took in a completed job (it stays in the final state's `pending`). */
function warnPending(job: AnnouncedJob, at: number): void {
  const left: string[] = [];
  for (const [routineId, routine] of Object.entries(job.data.snapshot.routines))
    for (const [slot, items] of Object.entries(routine.pending)) left.push(`${routineId}.${slot} (${items.length})`);
  if (left.length === 0) return;
  job.publish({ type: 'job.warning', jobId: job.id, flowId: job.flowId, at, code: 'data.pending', message: `Job '${job.id}' of flow '${job.flowId}' completed with data no activation took: ${left.join(', ')}; it stays in the final state's pending` });
}
