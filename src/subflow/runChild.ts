/**
 * runChild: one activation of a subflow routine (`asRoutine`) runs one child job of its flow.
 *
 * - The child is a job of the same runtime, `<parentJobId>/<routineId>/<n>` (`n`: the routine's activation count in
 *   the parent job, so a retry runs a new child), listed by `listJobs({ parentId })`. It takes no `maxJobs` place,
 *   and its activations share the runtime's `concurrency` with everyone; while the parent's activation waits for
 *   it, that activation gives its scheduler permit back (so `concurrency: 1` cannot deadlock either).
 * - It gets what the activation consumed, in order, on the mapped slots, then completes once it has nothing left
 *   to do. What it emits on a mapped event is emitted by the parent routine at the same moment (synchronously:
 *   any snapshot sees the child's emission and the parent's together).
 * - The parent's cancel (or failure, or the activation's timeout) cancels it; the parent's pause and resume pause
 *   and resume it. Its failure is the activation's failure (`SubflowError`, `cause`: the child's error).
 * - Snapshots: the parent's snapshot carries the child's, taken at the same moment. A restored parent re-runs the
 *   activation, which takes the child back from that snapshot (its finished activations do not run again, and the
 *   emissions it made before the cut are not emitted again) or, for a child that had already ended, its outcome.
 */
import { InvalidOptionError, SubflowError } from '../errors/index.js';
import { isFinalStatus } from '../types/JobStatus.js';
import type { Payload, RunContext } from '../routine/index.js';
import { TaskQueue, type Scheduler } from '../scheduler/index.js';
import type { ChildJob } from '../internal/job/subflowPorts.js';
import type { SerializedError } from '../persistence/JobSnapshot.js';
import { activationHostOf } from './activationHost.js';
import { addChild, removeChild } from './childJobs.js';
import type { Subflow } from './subflowOf.js';

type Context = RunContext<Record<string, Payload>, Record<string, Payload>, unknown, unknown>;

export async function runChild(ctx: Context, subflow: Subflow): Promise<void> {
  const host = activationHostOf(ctx);
  if (!host) throw new InvalidOptionError(`routine '${ctx.routineId}' isolation`, "'inline' (a subflow runs its child job on the runtime itself)", 'thread');
  const { job: parent, cell, act } = host;
  const { flow } = subflow;
  const childId = `${parent.id}/${cell.id}/${cell.activations}`;
  const saved = parent.options.from?.children?.[childId];
  if (saved && isFinalStatus(saved.status)) {
    // It ended before the cut (its emissions are downstream already): its outcome, without running it again.
    if (saved.status === 'completed') return;
    throw savedFailure(parent.flowId, cell.id, childId, flow.id, saved.status, saved.error);
  }
  const { job, runner } = parent.services.startChild(flow, childId, parent.id, saved);
  if (saved) {
    // Taken back at the parent's cut: what it emitted before is downstream already, and it will not emit it again,
    // so the re-run skips nothing of what it emits from now on (and counts on from there for the next snapshot).
    act.emits = Math.max(act.emits, act.replay);
    (act as { replay: number }).replay = 0;
  }
  // The parent's checkpoints carry the child: a change of the child is a change of the parent.
  runner.onChange = () => parent.onChange?.();
  let failure: Error | undefined;
  runner.onEmitted = (routineId, event, payload) => {
    const targets = subflow.events.get(`${routineId}.${event}`);
    if (!targets || failure !== undefined) return;
    try {
      for (const target of targets) ctx.emit(target, payload);
    } catch (error) {
      // The parent could not take it (an invalid payload, a full queue, the activation already over).
      failure = error instanceof Error ? error : new Error(String(error));
      job.cancel(failure);
    }
  };
  addChild(parent, { job, runner });
  const { signal } = ctx;
  const onAbort = () => {
    job.cancel(signal.reason);
  };
  const { scheduler } = parent.services;
  try {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    if (!saved) feedChild(ctx, subflow, job);
    await waitWithoutPermit(scheduler, job);
  } finally {
    signal.removeEventListener('abort', onAbort);
    runner.onEmitted = undefined;
    removeChild(parent, childId);
  }
  if (failure !== undefined) throw failure;
  const status = job.status;
  if (status === 'completed') return;
  throw new SubflowError(parent.flowId, cell.id, childId, flow.id, status === 'failed' ? 'failed' : 'cancelled', job.error);
}

/** The error a child that failed or was cancelled before the parent's cut (its snapshot says so) fails with again. */
function savedFailure(flowId: string, routineId: string, childId: string, childFlowId: string, status: 'failed' | 'cancelled', error: Pick<SerializedError, 'name' | 'message'> | undefined): SubflowError {
  const cause = Object.assign(new Error(error?.message ?? status), { name: error?.name ?? 'Error' });
  return new SubflowError(flowId, routineId, childId, childFlowId, status, cause);
}

/** Posts what the activation consumed to the child's mapped slots, then completes it; cancels it if a post throws. */
function feedChild(ctx: Context, subflow: Subflow, job: ChildJob): void {
  try {
    const consumed: Readonly<Record<string, readonly Payload[] | undefined>> = ctx.slots;
    for (const [slot, ref] of subflow.slots) for (const payload of consumed[slot] ?? []) job.post(ref.routine, ref.name, payload);
    job.complete();
  } catch (error) {
    job.cancel(error);
    throw error;
  }
}

/**
 * Waits for the child's end. The permit goes back while the child runs, and is taken again (behind whoever waits for
 * one) before `run` returns: the activation's end gives back exactly one permit, as for any routine.
 */
async function waitWithoutPermit(scheduler: Scheduler, job: ChildJob): Promise<void> {
  scheduler.release();
  try {
    await job.wait();
  } finally {
    await new Promise<void>((resolve) => {
      scheduler.enqueue(new TaskQueue(), resolve);
    });
  }
}
