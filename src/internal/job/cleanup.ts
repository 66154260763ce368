/**
 * cleanup: a routine's `cleanup(ctx)` runs once per job it ran in (at least one activation started), when the job
 * has ended, whatever its final status, after that routine's last activation: every activation has returned, or
 * was cut short by the job's end and had its `signal` aborted first. A cut-short `run` is not waited for: one that
 * ignores its signal could otherwise hold the job (and `wait()`) forever, and a cleanup that closes what such a run
 * is blocked on (a connection, a driver) is precisely what unblocks it. Whatever it does after that is ignored.
 *
 * The job's end is held meanwhile: its final event (`job.completed` / `failed` / `cancelled`), `wait()`, its
 * `maxJobs` place and `shutdown()`'s disposal of resources all come after every cleanup settled. A cleanup that
 * throws or rejects is a `job.warning` event (code `cleanup.failed`) before the final event, never a changed status.
 */
import type { FlowDefinition } from '../../flow/index.js';
import type { ActivationJob } from './ActivationJob.js';
import type { RoutineCell } from './RoutineCell.js';

/** Cells whose cleanup will run. */
export type PendingCleanups = RoutineCell[];

const withCleanup = new WeakMap<FlowDefinition, boolean>();

/** The routines of `job` whose cleanup is due (called as the job ends, before running activations are cleared). */
export function pendingCleanups(job: ActivationJob): PendingCleanups | undefined {
  let any = withCleanup.get(job.flow);
  if (any === undefined) {
    any = [...job.flow.routines.values()].some((inst) => inst.routine.cleanup !== undefined);
    withCleanup.set(job.flow, any);
  }
  if (!any) return undefined;
  const pending = [...job.cells.values()].filter((cell) => cell.inst.routine.cleanup && cell.activations > 0);
  return pending.length ? pending : undefined;
}

/** Runs the cleanups, then `end` (the job's final event and callbacks). Never rejects. */
export async function runCleanups(job: ActivationJob, status: 'completed' | 'failed' | 'cancelled', pending: PendingCleanups, end: () => void): Promise<void> {
  const resources = job.services.resources;
  await Promise.all(
    pending.map(async (cell) => {
      const asker = { flowId: job.flowId, routineId: cell.id };
      try {
        await (cell.inst.routine.cleanup as NonNullable<typeof cell.inst.routine.cleanup>)({
          job: job.handleInfo,
          routineId: cell.id,
          status,
          state: cell.state,
          resource: ((name: string) => resources.get(name, asker)) as never,
        });
      } catch (error) {
        if (!job.wantsEvents) return;
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        job.publish({
          type: 'job.warning',
          jobId: job.id,
          flowId: job.flowId,
          at: job.services.clock.now(),
          code: 'cleanup.failed',
          message: `The cleanup of routine '${cell.id}' in job '${job.id}' of flow '${job.flowId}' threw (the job's status stays '${status}'): ${reason}`,
          routineId: cell.id,
        });
      }
    }),
  );
  end();
}
