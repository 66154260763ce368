/**
 * JobOptions: how the runtime opens a job (`exec`, `post` without a job id, `restore`).
 */
import type { Overrides } from '../../types/Overrides.js';
import type { JobSnapshot } from '../../persistence/JobSnapshot.js';
import type { Payload } from '../../routine/index.js';

export interface JobOptions {
  readonly params: Payload | undefined;
  /** A first delivery other than params (`runtime.post` without a job id). */
  readonly initial?: { readonly routine: string; readonly slot: string; readonly payload: unknown };
  readonly keepAlive: boolean;
  readonly timeoutMs: number | undefined;
  /** A snapshot this job continues (`runtime.restore`). */
  readonly from?: JobSnapshot;
  /** Per-routine overrides for this job (`exec({ overrides })`), checked. */
  readonly overrides?: Overrides;
  /** Subflows: the job whose activation started this one (`asRoutine`); it takes no `maxJobs` place. */
  readonly parentId?: string;
}
