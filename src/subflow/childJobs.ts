/**
 * The child jobs of each job with a subflow activation in flight: what the parent's pause and resume reach, and
 * what its snapshot carries.
 */
import type { SupervisorStatus } from '../../machines/index.js';
import type { JobRunner } from '../internal/job/JobRunner.js';
import type { ChildJob, ChildJobs, ChildRunner } from '../internal/job/subflowPorts.js';
import type { JobSnapshot } from '../persistence/JobSnapshot.js';

interface Child {
  readonly job: ChildJob;
  readonly runner: ChildRunner;
}

/** A parent's children whose activation has not returned yet (finished children included until then). */
class ChildSet implements ChildJobs {
  readonly #children = new Map<string, Child>();

  add(child: Child): void {
    this.#children.set(child.job.id, child);
  }

  delete(childId: string): void {
    this.#children.delete(childId);
  }

  /** The parent paused or went on: so do its running children (a child's own `pause()` from outside stays its own). */
  status(status: SupervisorStatus): void {
    for (const { job } of this.#children.values()) {
      if (status === 'paused' && (job.status === 'running' || job.status === 'idle' || job.status === 'queued')) job.pause();
      else if (status === 'running' && job.status === 'paused') job.resume();
    }
  }

  /**
   * The children's snapshots, taken at the same moment as the parent's (one consistent cut of the whole tree; each
   * child's own snapshot carries its children in turn). A child whose activation has not returned yet is carried
   * even when finished, so a restored parent takes its outcome instead of running it again.
   */
  snapshots(): Record<string, JobSnapshot> | undefined {
    if (this.#children.size === 0) return undefined;
    const saved: Record<string, JobSnapshot> = {};
    for (const [id, { runner }] of this.#children) saved[id] = runner.snapshot();
    return saved;
  }
}

export function addChild(parent: JobRunner, child: Child): void {
  const children = parent.children instanceof ChildSet ? parent.children : (parent.children = new ChildSet());
  children.add(child);
  if (parent.status === 'paused') child.job.pause();
}

export function removeChild(parent: JobRunner, childId: string): void {
  if (parent.children instanceof ChildSet) parent.children.delete(childId);
}
