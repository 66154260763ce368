/**
 * ExecOptions: what `runtime.exec(flow, options)` takes, and the types that follow a typed flow builder through it.
 */
import type { FlowBuilder } from '../flow/createFlow.js';
import type { OutputsOf } from '../flow/typedEdges.js';
import type { Breakpoint } from '../types/Breakpoint.js';
import type { Job } from '../job/Job.js';
import type { Overrides } from '../types/Overrides.js';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';
import type { Payload } from '../routine/index.js';

/** Options of `runtime.exec`. */
export interface ExecOptions<TParams = Payload> {
  /** Delivered as one payload to the flow's entry slot. @default `{}` (a keepAlive job: no delivery, it waits for posts) */
  readonly params?: TParams;
  /** A unique job id. @default a UUID v7 (time-ordered) */
  readonly jobId?: string;
  /** Aborting it cancels the job. */
  readonly signal?: AbortSignal;
  /** Bounds the whole job: past it the job fails with `JobTimeoutError`. @default none */
  readonly timeoutMs?: number;
  /** Stay in `idle` when quiescent, waiting for posts, until `job.complete()`. @default false */
  readonly keepAlive?: boolean;
  /**
   * Continue the job of a snapshot (`job.snapshot()` or a store's) under its id, with its options (`params`,
   * `jobId`, `timeoutMs` and `keepAlive` come from the snapshot and must not be given). Same as `runtime.restore`.
   */
  readonly from?: JobSnapshot;
  /**
   * Pause before activating these routines (a debugger's breakpoints; see `job.setBreakpoints`, `job.step()`).
   * @default none
   */
  readonly breakpoints?: readonly Breakpoint[];
  /**
   * Per-routine changes for this job only: `config` merged over the instance's, `policy`, `onError` and `timeoutMs`
   * replacing the instance's. Unknown routine ids or keys throw `InvalidOptionError`. With `from`, laid over the
   * snapshot's own overrides (a custom policy or a `retry.when` must be given again: snapshots cannot carry them).
   * @default none
   */
  readonly overrides?: Overrides;
}

/** The entry slot's payload type of a typed flow builder (else any payload). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matching any routine map
export type ParamsOf<TFlow> = [TFlow] extends [never] ? Payload : [TFlow] extends [FlowBuilder<any, infer TParams>] ? TParams : Payload;
/** The job handle `exec` returns: its `state.outputs` typed per event for a typed flow builder. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matching any params type
export type JobOf<TFlow> = [TFlow] extends [never] ? Job : [TFlow] extends [FlowBuilder<infer TRoutines, any>] ? Job<OutputsOf<TRoutines>> : Job;
