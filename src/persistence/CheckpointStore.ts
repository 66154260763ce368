/**
 * CheckpointStore: where a runtime with a `store` saves job snapshots, and `runtime.recover()` finds the jobs a
 * crashed process left unfinished.
 *
 * The runtime calls `save` for one job at a time (never two saves of the same job at once, never reordered), with
 * the latest snapshot only: intermediate ones are coalesced. A store may be shared by several processes (a Redis
 * store) as long as each job has one writer.
 */
import type { JobSnapshot } from './JobSnapshot.js';

export interface CheckpointStore {
  /** Durably saves the job's snapshot, replacing the previous one (atomically: a crash leaves one or the other). */
  save(snapshot: JobSnapshot): Promise<void>;
  /** The job's last saved snapshot, or `undefined` when the store has none. */
  load(jobId: string): Promise<JobSnapshot | undefined>;
  /** Ids of the jobs whose last snapshot is unfinished (not completed, failed or cancelled). */
  listUnfinished(): Promise<string[]>;
  /** Forgets the job (no error when the store has none). */
  delete(jobId: string): Promise<void>;
  /** Releases what the store holds open (files, connections). */
  close?(): Promise<void>;
}
