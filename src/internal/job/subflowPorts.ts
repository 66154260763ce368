/**
 * subflowPorts: what subflows (`asRoutine`, in src/subflow) and the engine know of each other. The engine imports
 * nothing of src/subflow: a subflow routine reaches the job running its activation through the run context's
 * `ACTIVATION_HOST` getter, and hooks into jobs through a runner's `children` and `onEmitted`, typed here.
 */
import type { SupervisorStatus } from '../../../machines/index.js';
import type { FlowDefinition } from '../../flow/FlowDefinition.js';
import type { JobSnapshot } from '../../persistence/JobSnapshot.js';
import type { Payload } from '../../routine/index.js';
import type { JobStatus } from '../../types/JobStatus.js';

/** The key of the run context's getter subflow routines read (user code, without the symbol, never sees it). */
export const ACTIVATION_HOST = Symbol('slotflow.activationHost');

/** A parent job's children while its subflow activations run: they follow its status and ride in its snapshot. */
export interface ChildJobs {
  status(status: SupervisorStatus): void;
  /** The children's snapshots by job id, taken now (none: `undefined`). */
  snapshots(): Record<string, JobSnapshot> | undefined;
}

/** A child job as its subflow activation drives it (the public `Job` handle is one). */
export interface ChildJob {
  readonly id: string;
  readonly status: JobStatus;
  readonly error: Error | undefined;
  post(routineId: string, slot: string, payload: object): void;
  complete(): void;
  cancel(reason?: unknown): void;
  pause(): void;
  resume(): void;
  wait(): Promise<unknown>;
}

/** The runner behind a child job. */
export interface ChildRunner {
  onChange: (() => void) | undefined;
  /** Told of each emission of the child: its mapped events are its parent routine's. */
  onEmitted: ((routineId: string, event: string, payload: Payload) => void) | undefined;
  snapshot(): JobSnapshot;
}

/** `RuntimeServices.startChild`: starts (or, with `from`, restores) child job `jobId` of `parentId`. */
export type StartChild = (flow: FlowDefinition, jobId: string, parentId: string, from: JobSnapshot | undefined) => { readonly job: ChildJob; readonly runner: ChildRunner };
