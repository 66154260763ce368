/**
 * Checkpointer: writes each job's snapshot to the runtime's store after each turn of the event loop in which the job
 * changed.
 *
 * A turn's changes make one save, taken as the turn ends (in the check phase, after every microtask of the turn):
 * activations that run back to back within one turn cost one snapshot instead of one each, and a job that finishes
 * within the turn it started in is deleted (or saved, `retainFinished`) once and never saved unfinished. A save
 * starts at most one turn later than a save per change would have; after a crash, what ran before the last save
 * that reached the store never runs again, as before.
 *
 * One writer per job id: a job has at most one store call in flight, and changes made meanwhile are coalesced into
 * the next save (at the end of the turn in which that call answers), which snapshots the job as it is then. Saves
 * therefore never reorder. A job id used again (a new job after `retain` dropped the old one) waits for the old
 * job's last write.
 */
import { CheckpointError, SnapshotError } from '../errors/index.js';
import { macrotask } from '../util/macrotask.js';
import { withTimeout } from '../util/withTimeout.js';
import { assertSnapshotJson } from './assertSnapshotJson.js';
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
  /** The store calls of this job id, in order (the previous job of the same id first). */
  chain: Promise<void>;
  /** Resolved (or rejected, with the last failure) when the entry is next clean. */
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
  failure: CheckpointError | undefined;
}

export interface CheckpointerOptions {
  /** Keep a finished job's last snapshot (else delete it). */
  readonly retainFinished: boolean;
  /** Bound of one store call in real milliseconds (`Infinity`: none). */
  readonly timeoutMs: number;
  /** Told about every failed save or delete; must not throw. */
  readonly report: (error: CheckpointError) => void;
}

type Operation = 'save' | 'load' | 'list' | 'delete';

export class Checkpointer {
  readonly #entries = new Map<string, Entry>();
  readonly retainFinished: boolean;
  readonly #timeoutMs: number;
  readonly #report: (error: CheckpointError) => void;
  /** Settles at the end of the current turn; one per turn, shared by every job that changed in it. */
  #turnEnd: Promise<void> | undefined;

  constructor(
    readonly store: CheckpointStore,
    options: CheckpointerOptions,
  ) {
    this.retainFinished = options.retainFinished;
    this.#timeoutMs = options.timeoutMs;
    this.#report = options.report;
  }

  /**
   * One store call, bounded by the store timeout. A call that does not answer in time is abandoned (its late result
   * is ignored) and fails with `CheckpointError` (`reason: 'timeout'`); any other failure becomes a `CheckpointError`
   * too (a `SnapshotError` from `load` is kept as it is).
   */
  async call<T>(operation: Operation, jobId: string | undefined, call: () => Promise<T>): Promise<T> {
    const timeoutMs = this.#timeoutMs;
    try {
      return await withTimeout(
        Promise.resolve().then(call),
        timeoutMs,
        () => new CheckpointError(operation, jobId, new Error(`the store did not answer within ${timeoutMs} ms (storeTimeoutMs)`), 'timeout'),
      );
    } catch (error) {
      if (error instanceof CheckpointError || error instanceof SnapshotError) throw error;
      throw new CheckpointError(operation, jobId, error);
    }
  }

  /** Starts checkpointing a job: a first save as this turn ends, then one after each turn in which it changed. */
  track(job: Checkpointable): void {
    const previous = this.#entries.get(job.id);
    const entry: Entry = { job, dirty: false, busy: false, chain: previous?.chain ?? Promise.resolve(), waiters: [], failure: undefined };
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

  /**
   * Stops checkpointing a job and saves it as it is now (unfinished), after its pending writes: what the job does
   * from here on (being cancelled, say) never reaches the store. `runtime.shutdown({ suspend: true })`.
   */
  async suspend(job: Checkpointable): Promise<void> {
    const entry = this.#entries.get(job.id);
    if (entry?.job !== job) return;
    const snapshot = job.snapshot();
    job.onChange = undefined;
    entry.dirty = false;
    this.#entries.delete(job.id);
    entry.chain = entry.chain.then(() => this.#call(entry, 'save', () => this.store.save(assertSnapshotJson(snapshot))));
    await entry.chain;
    this.#settle(entry);
  }

  /** Resolves once no job has a save pending. */
  async drain(): Promise<void> {
    while ([...this.#entries.values()].some((e) => e.busy || e.dirty)) await Promise.all([...this.#entries.values()].map((e) => e.chain));
  }

  #mark(entry: Entry): void {
    entry.dirty = true;
    if (entry.busy) return;
    entry.busy = true;
    entry.chain = entry.chain.then(() => this.#write(entry));
  }

  /** The end of the current turn of the event loop (the host's own, so faked timers never stall saves). */
  #endOfTurn(): Promise<void> {
    return (this.#turnEnd ??= macrotask().then(() => {
      this.#turnEnd = undefined;
    }));
  }

  async #write(entry: Entry): Promise<void> {
    const { job } = entry;
    while (entry.dirty) {
      // Every change of this turn goes into the one save.
      await this.#endOfTurn();
      // Suspended meanwhile: `suspend` saves it.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `suspend` clears it during the await
      if (!entry.dirty) break;
      entry.dirty = false;
      if (job.finished && !this.retainFinished) await this.#call(entry, 'delete', () => this.store.delete(job.id));
      else await this.#call(entry, 'save', () => this.store.save(assertSnapshotJson(job.snapshot())));
    }
    entry.busy = false;
    this.#settle(entry);
    if (job.finished) {
      job.onChange = undefined;
      if (this.#entries.get(job.id) === entry) this.#entries.delete(job.id);
    }
  }

  async #call(entry: Entry, operation: 'save' | 'delete', call: () => Promise<void>): Promise<void> {
    try {
      await this.call(operation, entry.job.id, call);
      entry.failure = undefined;
    } catch (error) {
      entry.failure = error instanceof CheckpointError ? error : new CheckpointError(operation, entry.job.id, error);
      try {
        this.#report(entry.failure);
      } catch {
        // The runtime's report never throws; this keeps a write chain from ever rejecting (an unhandled rejection).
      }
    }
  }

  #settle(entry: Entry): void {
    for (const waiter of entry.waiters.splice(0)) {
      if (entry.failure) waiter.reject(entry.failure);
      else waiter.resolve();
    }
  }
}
