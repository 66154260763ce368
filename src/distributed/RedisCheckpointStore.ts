/**
 * RedisCheckpointStore: the checkpoint store of a worker's local runtime. Every save is one Lua call (one round
 * trip), fenced with the BullMQ lock token of the job it belongs to (see scripts.ts), which writes the snapshot, the
 * job's status, how many control messages the snapshot has applied (so a worker taking the job over applies each
 * message exactly once), and the job's events buffered since the last write. Remote readers derive the job's
 * `JobState` from the snapshot (`stateOfSnapshot`), so it is not serialised a second time on every save.
 */
import { CheckpointError, isFinalStatus, parseSnapshot, type CheckpointStore, type JobSnapshot } from 'slotflow';
import type { Keys } from './keys.js';
import { eventBatch, type FencedRedis } from './scripts.js';

/** What the store needs of a job a worker holds. */
export interface Holding {
  readonly token: string;
  /** Control messages applied so far. */
  readonly cursor: number;
  /** A checkpoint of the job is in Redis (it was restored from one, or saved here). */
  saved: boolean;
  /** The job's events (JSON-ready) not written yet; the caller writes them (read in the same tick as the snapshot). */
  takeEvents(): object[];
}

/** A save was refused: another worker holds the job now. */
export class LockLostError extends Error {
  constructor(readonly jobId: string) {
    super(`this worker no longer holds job '${jobId}' (its lock expired and another worker took it over)`);
    this.name = 'LockLostError';
  }
}

export class RedisCheckpointStore implements CheckpointStore {
  readonly #holdings = new Map<string, Holding>();
  constructor(
    readonly redis: FencedRedis,
    readonly keys: Keys,
    readonly maxEvents: number,
  ) {}

  hold(jobId: string, holding: Holding): void {
    this.#holdings.set(jobId, holding);
  }

  release(jobId: string): void {
    this.#holdings.delete(jobId);
  }

  async save(snapshot: JobSnapshot): Promise<void> {
    const { jobId } = snapshot;
    const holding = this.#holdings.get(jobId);
    if (!holding) throw new CheckpointError('save', jobId, new LockLostError(jobId));
    // Until an activation finished, a checkpoint holds nothing a restart from the job's params and its control list
    // would not rebuild: the first save (as the job starts) is skipped, its events go with the next write.
    if (!holding.saved && !progressed(snapshot)) return;
    holding.saved = true;
    // Both read now, before any await: they match the snapshot the runtime just took.
    const events = holding.takeEvents();
    const cursor = holding.cursor;
    const [cap, batch] = eventBatch(events, this.maxEvents);
    const written = await this.redis.slotflowSave(this.keys.lock(jobId), this.keys.job(jobId), this.keys.events(jobId), holding.token, cap, JSON.stringify(snapshot), snapshot.status, cursor, batch);
    if (written !== 1) throw new CheckpointError('save', jobId, new LockLostError(jobId));
  }

  async load(jobId: string): Promise<JobSnapshot | undefined> {
    const text = await this.redis.hget(this.keys.job(jobId), 'snapshot');
    return text === null ? undefined : parseSnapshot(JSON.parse(text));
  }

  async listUnfinished(): Promise<string[]> {
    const ids = await this.redis.zrange(this.keys.jobs, 0, -1);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.job(id), 'status');
    const statuses = (await pipeline.exec()) ?? [];
    return ids.filter((_, i) => {
      const status = statuses[i]?.[1];
      return typeof status === 'string' && !isFinalStatus(status as never);
    });
  }

  /** A finished job: its last state and final event are written by the worker in one fenced step instead. */
  async delete(): Promise<void> {
    // Nothing to do here; see above.
  }
}

/** True once an activation of the job finished (or failed). */
function progressed(snapshot: JobSnapshot): boolean {
  if (snapshot.history.length > 0) return true;
  for (const routine of Object.values(snapshot.routines)) if (routine.activations > 0 || routine.errors > 0) return true;
  return false;
}
