/**
 * ProgressTally: what `slotflow run`'s progress counts, apart from how it is shown (a live bar or plain lines, see
 * Progress.ts): jobs ended by outcome, activations done and running, and the fraction routines report of their work.
 */
import type { JobEvent, JobState } from 'slotflow';

export interface ProgressCounts {
  completed: number;
  failed: number;
  cancelled: number;
  /** Stopped by Ctrl-C or SIGTERM with a store: kept there, unfinished, for the next run. */
  suspended: number;
}

/** How a job ended for this run: its final status, or `suspended` (kept in the store). */
export type JobOutcome = 'completed' | 'failed' | 'cancelled' | 'suspended';

export interface ProgressTally {
  /** Jobs ended, by outcome: the same object throughout, so the caller's view stays current. */
  readonly counts: ProgressCounts;
  /** Activations that ended (completed or failed). */
  readonly activations: number;
  /** Activations running now, across all jobs. */
  readonly running: number;
  /** Jobs with an activation running now. */
  readonly runningJobs: number;
  /** Jobs expected: the announced total, raised when more end (resumed ones). */
  readonly total: number;
  /** Jobs ended for this run. */
  readonly done: () => number;
  /** Activations ended per second since the tally was created. */
  readonly rate: () => number;
  /** Jobs ended plus, for each running job, the mean reported fraction of its running activations. */
  readonly value: () => number;
  /** An event of the runtime: activations and their reported progress. */
  readonly event: (event: JobEvent) => void;
  /** Counts a job that ended for this run; true when more jobs ended than were announced (the total rose). */
  readonly endJob: (state: JobState, outcome: JobOutcome) => boolean;
}

export function createProgressTally(announced: number): ProgressTally {
  const counts: ProgressCounts = { completed: 0, failed: 0, cancelled: 0, suspended: 0 };
  const started = performance.now();
  let activations = 0;
  const running = new RunningActivations();
  let total = announced;
  const done = () => counts.completed + counts.failed + counts.cancelled + counts.suspended;
  return {
    counts,
    get activations() {
      return activations;
    },
    get running() {
      return running.count;
    },
    get runningJobs() {
      return running.jobs;
    },
    get total() {
      return total;
    },
    done,
    rate: () => {
      const seconds = (performance.now() - started) / 1000;
      return seconds > 0 ? Math.round(activations / seconds) : 0;
    },
    value: () => Math.min(total, done() + running.partial()),
    event: (event) => {
      // Matched by type string: `routine.progress` may come from a newer runtime than this CLI knows.
      const type: string = event.type;
      const { jobId } = event;
      const routineId = (event as { routineId?: unknown }).routineId;
      if (typeof routineId !== 'string') {
        if (type === 'job.completed' || type === 'job.failed' || type === 'job.cancelled') running.dropJob(jobId);
      } else if (type === 'routine.started') running.started(jobId, routineId);
      else if (type === 'routine.completed' || type === 'routine.failed') {
        activations++;
        running.ended(jobId, routineId);
      } else if (type === 'routine.progress') running.reported(jobId, routineId, fractionOf(event));
    },
    endJob: (state, outcome) => {
      running.dropJob(state.jobId);
      counts[outcome]++;
      if (done() <= total) return false;
      total = done();
      return true;
    },
  };
}

/** Running activations per job (`jobId` -> `routineId` -> reported fraction, 0 until one is reported). */
class RunningActivations {
  private readonly byJob = new Map<string, Map<string, number>>();
  /** Activations running, across all jobs: kept as a count so a redraw does not walk every job. */
  count = 0;

  get jobs(): number {
    return this.byJob.size;
  }

  started(jobId: string, routineId: string): void {
    let routines = this.byJob.get(jobId);
    if (!routines) this.byJob.set(jobId, (routines = new Map<string, number>()));
    if (!routines.has(routineId)) this.count++;
    routines.set(routineId, 0);
  }

  ended(jobId: string, routineId: string): void {
    const routines = this.byJob.get(jobId);
    if (routines?.delete(routineId)) this.count--;
    if (routines?.size === 0) this.byJob.delete(jobId);
  }

  /** A fraction reported for an activation not (or no longer) running is dropped: it would outlive the activation. */
  reported(jobId: string, routineId: string, fraction: number | undefined): void {
    const routines = this.byJob.get(jobId);
    if (fraction !== undefined && routines?.has(routineId)) routines.set(routineId, fraction);
  }

  /** A job ended: whatever it still had running is gone with it. */
  dropJob(jobId: string): void {
    this.count -= this.byJob.get(jobId)?.size ?? 0;
    this.byJob.delete(jobId);
  }

  /** For each running job, the mean reported fraction of its running activations, summed. */
  partial(): number {
    let partial = 0;
    for (const routines of this.byJob.values()) {
      if (routines.size === 0) continue;
      let sum = 0;
      for (const fraction of routines.values()) sum += fraction;
      partial += sum / routines.size;
    }
    return partial;
  }
}

/** `done / total` of a `routine.progress` event, between 0 and 1; undefined when the event does not carry one. */
function fractionOf(event: unknown): number | undefined {
  const { done, total } = event as { done?: unknown; total?: unknown };
  if (typeof done !== 'number' || typeof total !== 'number' || !Number.isFinite(done) || !Number.isFinite(total) || total <= 0) return undefined;
  return Math.min(1, Math.max(0, done / total));
}
