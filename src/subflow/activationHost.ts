/**
 * The narrow way in from a run context to the job running it, for subflow routines only (`asRoutine`): a
 * symbol-keyed getter of the context, invisible to user code that does not hold the symbol.
 */
import type { Activation } from '../internal/job/Activation.js';
import type { JobRunner } from '../internal/job/JobRunner.js';
import type { RoutineCell } from '../internal/job/RoutineCell.js';
import { ACTIVATION_HOST } from '../internal/job/subflowPorts.js';

/** The job, routine and activation a run context belongs to. */
export interface ActivationHost {
  readonly job: JobRunner;
  readonly cell: RoutineCell;
  readonly act: Activation;
}

/** The host of a run context, or `undefined` (a context copied to a worker thread has none). */
export function activationHostOf(ctx: object): ActivationHost | undefined {
  // The context's getter returns its job as the activation runner sees it; the object is the job's runner.
  return (ctx as Record<symbol, ActivationHost | undefined>)[ACTIVATION_HOST];
}
