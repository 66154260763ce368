/**
 * JobWriter: a worker's writes of a job's events and of its final state into Redis. Every write is fenced by the
 * job's lock token, so a worker that lost the job to another one cannot overwrite what the new holder writes.
 */
import { CheckpointError, isFinalStatus, parseSnapshot, type JobEvent } from 'slotflow';
import type { HeldJob } from './HeldJob.js';
import { JobStalledError } from './JobStalledError.js';
import type { Keys } from './keys.js';
import { LockLostError } from './RedisCheckpointStore.js';
import { eventBatch, type FencedRedis } from './scripts.js';
import { errorData, eventToData, isFinalEvent, stateOfSnapshot, type QueuedJob, type WireEvent } from './wire.js';

/** What the writer needs of its worker. */
export interface JobWriterContext {
  readonly redis: FencedRedis;
  readonly keys: Keys;
  readonly maxEvents: number;
  /** How long a finished job's records stay; 0 keeps them. */
  readonly retentionMs: number;
  readonly onError: (error: Error) => void;
  /** Called when a fenced write was refused: the job is another worker's now. */
  readonly abort: (held: HeldJob, why: Error) => void;
}

export class JobWriter {
  constructor(private readonly context: JobWriterContext) {}

  /** Takes one of the job's events: the final one is kept for the final write, the others are buffered. */
  relay(held: HeldJob, event: JobEvent): void {
    if (held.lost || held.suspended) return;
    const data = eventToData(event);
    if (isFinalEvent(event)) {
      held.final = data;
      return;
    }
    this.buffer(held, data);
  }

  /** Usually the checkpoint of the same change takes the events along first; else one append per turn. */
  buffer(held: HeldJob, event: WireEvent): void {
    if (held.buffer.push(event) === 1)
      setImmediate(() => {
        this.flush(held);
      });
  }

  /** Appends the buffered events now (fenced); a refused append means the lock was lost. */
  flush(held: HeldJob): void {
    if (held.buffer.length === 0 || held.lost) return;
    const { redis, keys, maxEvents, onError, abort } = this.context;
    const events = held.buffer.splice(0);
    // Until the first checkpoint the status is written here, so `listJobs` sees the job run (never a final one: the
    // final write sets that).
    const status = held.job?.status;
    const shown = !held.saved && status !== undefined && !isFinalStatus(status) ? status : '';
    const [cap, batch] = eventBatch(events, maxEvents);
    held.appended = redis.slotflowAppend(keys.lock(held.id), keys.job(held.id), keys.events(held.id), held.token, cap, shown, batch).then(
      (written) => {
        if (written !== 1) abort(held, new LockLostError(held.id));
      },
      (error: unknown) => {
        onError(new CheckpointError('save', held.id, error));
      },
    );
  }

  /**
   * Writes a job's final state, its last events and the final event in one step, and starts its retention. Fenced
   * by `token`; without one (a job BullMQ failed itself) only while no worker holds the job and it is not final.
   */
  async finish(id: string, token: string, state: string, status: string, events: readonly WireEvent[]): Promise<boolean> {
    const { redis, keys, maxEvents, retentionMs } = this.context;
    const [cap, batch] = eventBatch(events, maxEvents);
    return (await redis.slotflowFinish(keys.lock(id), keys.job(id), keys.events(id), keys.control(id), keys.replies(id), keys.jobs, keys.expiring, token, cap, state, status, retentionMs, Date.now(), batch)) === 1;
  }

  /** A job BullMQ failed without our processor finishing it (stalled too often, a processor crash): final state. */
  async finishFailed(id: string, flowId: string, params: QueuedJob['params'], reason: Error): Promise<void> {
    const [snapshot] = await this.context.redis.hmget(this.context.keys.job(id), 'snapshot');
    const error = errorData(reason.message === 'job stalled more than allowable limit' ? new JobStalledError(id, reason.message) : reason);
    const at = Date.now();
    const last = snapshot ? stateOfSnapshot(parseSnapshot(JSON.parse(snapshot))) : undefined;
    const state = last
      ? { ...last, status: 'failed', error, finishedAt: at }
      : { jobId: id, flowId, status: 'failed', params, outputs: {}, routines: {}, shared: {}, log: [], history: [], cycles: {}, error, startedAt: at, finishedAt: at };
    await this.finish(id, '', JSON.stringify(state), 'failed', [{ type: 'job.failed', jobId: id, flowId, at, error }]);
  }
}
