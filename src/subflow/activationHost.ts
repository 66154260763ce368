/**
 * The narrow way in from a run context to the job running it, for subflow routines only (`asRoutine`): a
 * symbol-keyed getter of the context, invisible to user code that does not hold the symbol.
 */
import type { FlowDefinition } from '../flow/FlowDefinition.js';
import type { Job } from '../job/Job.js';
import type { Cell, JobRunner } from '../job/JobRunner.js';
import type { Activation } from '../job/runActivation.js';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';

export const ACTIVATION_HOST = Symbol('slotflow.activationHost');

/** The job, routine and activation a run context belongs to. */
export interface ActivationHost {
  readonly job: JobRunner;
  readonly cell: Cell;
  readonly act: Activation;
}

/**
 * What the runtime gives subflows (`RuntimeServices.startChild`): starts (or, with `from`, restores) a child job of
 * `parentId` under `jobId`. A child takes no `maxJobs` place and is checkpointed inside its parent's snapshot.
 */
export type StartChild = (flow: FlowDefinition, jobId: string, parentId: string, from: JobSnapshot | undefined) => { readonly job: Job; readonly runner: JobRunner };

/** The host of a run context, or `undefined` (a context copied to a worker thread has none). */
export function activationHostOf(ctx: object): ActivationHost | undefined {
  return (ctx as Record<symbol, ActivationHost | undefined>)[ACTIVATION_HOST];
}
