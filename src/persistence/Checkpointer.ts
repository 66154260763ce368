/**
 * Checkpointer: writes each job's snapshot to the runtime's store after the job changed.
 *
 * One writer per job: a job has at most one save in flight, and changes made meanwhile are coalesced into the next
 * save, which snapshots the job as it is then. Saves therefore never reorder, and a busy job costs one write per
 * store round trip rather than one per change. When the job finishes, its last snapshot is saved (`retainFinished`)
 * or the job is deleted from the store.
 */
import { CheckpointError } from '../errors/index.js';
import type { JobSnapshot } from './JobSnapshot.js';
import type { CheckpointStore } from './CheckpointStore.js';

/** What the checkpointer needs of a job. */
export interface Checkpointable {
  readonly id: string;
  readonly finished: boolean;
  snapshot(): JobSnapshot;
  onChange: (() => void) | undefined;
}

interface Entry {
  readonly job: Checkpointable;
  dirty: boolean;
  /** A write is scheduled or running. */
  busy: boolean;
  /** Resolved (or rejected, with the last failure) when the entry is next clean. */
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
  failure: CheckpointError | undefined;
}

export class Checkpointer {
  readonly #entries = new Map<string, Entry>();
  readonly #idle = new Set<() => void>();

  constructor(
    readonly store: CheckpointStore,
    readonly retainFinished: boolean,
    readonly report: (error: CheckpointError) => void,
  ) {}

  /** Starts checkpointing a job: a first save now, then one after every change. */
  track(job: Checkpointable): void {
    const entry: Entry = { job, dirty: false, busy: false, waiters: [], failure: undefined };
    this.#entries.set(job.id, entry);
    job.onChange = () => {
      this.#mark(entry);
    };
    this.#mark(entry);
  }

  /** Resolves once everything the job did so far is saved; rejects with the `CheckpointError` of a failed save. */
  flush(jobId: string): Promise<void> {
    const entry = this.#entries.get(jobId);
    if (!entry || (!entry.busy && !entry.dirty)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      entry.waiters.push({ resolve, reject });
    });
  }

  /** Resolves once no job has a save pending. */
  drain(): Promise<void> {
    if ([...this.#entries.values()].every((e) => !e.busy && !e.dirty)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle.add(resolve);
    });
  }

  #mark(entry: Entry): void {
    entry.dirty = true;
    if (entry.busy) return;
    entry.busy = true;
    // After the current step: the changes of one routing step (or one activation) make one snapshot.
    queueMicrotask(() => void this.#write(entry));
  }

  async #write(entry: Entry): Promise<void> {
    const { job } = entry;
    while (entry.dirty) {
      entry.dirty = false;
      const finished = job.finished;
      try {
        if (finished && !this.retainFinished) await this.store.delete(job.id);
        else await this.store.save(job.snapshot());
        entry.failure = undefined;
      } catch (error) {
        entry.failure = error instanceof CheckpointError ? error : new CheckpointError(finished && !this.retainFinished ? 'delete' : 'save', job.id, error);
        this.report(entry.failure);
      }
    }
    entry.busy = false;
    const waiters = entry.waiters.splice(0);
    for (const waiter of waiters) {
      if (entry.failure) waiter.reject(entry.failure);
      else waiter.resolve();
    }
    if (job.finished) {
      job.onChange = undefined;
      this.#entries.delete(job.id);
      if (this.#entries.size === 0) for (const resolve of [...this.#idle]) {
        this.#idle.delete(resolve);
        resolve();
      }
    } else if (this.#idle.size > 0 && [...this.#entries.values()].every((e) => !e.busy && !e.dirty)) {
      for (const resolve of [...this.#idle]) {
        this.#idle.delete(resolve);
        resolve();
      }
    }
  }
}
