/**
 * The child jobs of each job with a subflow activation in flight: what the parent's pause and resume reach, and
 * what its snapshot carries.
 */
import type { Job } from '../job/Job.js';
import type { JobRunner } from '../job/JobRunner.js';
import type { JobStatus } from '../job/JobState.js';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';

interface Child {
  readonly job: Job;
  readonly runner: JobRunner;
}

/** Parent runner -> its children whose activation has not returned yet (finished children included until then). */
const children = new WeakMap<JobRunner, Map<string, Child>>();

export function addChild(parent: JobRunner, child: Child): void {
  let map = children.get(parent);
  if (!map) {
    const created = new Map<string, Child>();
    map = created;
    children.set(parent, created);
    parent.onStatus = (status) => {
      propagate(created, status);
    };
  }
  map.set(child.job.id, child);
  if (parent.status === 'paused') child.job.pause();
}

export function removeChild(parent: JobRunner, childId: string): void {
  children.get(parent)?.delete(childId);
}

/** The parent paused or went on: so do its running children (a child's own `pause()` from outside stays its own). */
function propagate(map: ReadonlyMap<string, Child>, status: JobStatus): void {
  for (const { job } of map.values()) {
    if (status === 'paused' && (job.status === 'running' || job.status === 'idle' || job.status === 'queued')) job.pause();
    else if (status === 'running' && job.status === 'paused') job.resume();
  }
}

/**
 * The parent's snapshot with its children's, taken at the same moment (one consistent cut of the whole tree; each
 * child's own snapshot carries its children in turn). A child whose activation has not returned yet is carried even
 * when finished, so a restored parent takes its outcome instead of running it again.
 */
export function withChildren(parent: JobRunner, snapshot: JobSnapshot): JobSnapshot {
  const map = children.get(parent);
  if (!map || map.size === 0) return snapshot;
  const saved: Record<string, JobSnapshot> = {};
  for (const [id, { runner }] of map) saved[id] = runner.snapshot();
  return { ...snapshot, children: saved };
}
