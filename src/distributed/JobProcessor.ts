/**
 * JobProcessor: BullMQ's processor function of a worker. Takes one BullMQ job, restores or starts the slotflow job
 * in the worker's local runtime, waits for it, and writes its final state; a job of a closing worker is handed back
 * to the queue instead, and a job lost to another worker is given up without writing.
 */
import { WaitingError, type Job as BullJob } from 'bullmq';
import { CheckpointError, FlowNotFoundError, isFinalStatus, parseSnapshot, RuntimeClosedError, type Job, type JobState, type Runtime } from 'slotflow';
import type { ControlRelay } from './ControlRelay.js';
import { holdJob, type HeldJob } from './HeldJob.js';
import type { JobWriter } from './JobWriter.js';
import type { Keys } from './keys.js';
import { LockLostError, type RedisCheckpointStore } from './RedisCheckpointStore.js';
import type { FencedRedis } from './scripts.js';
import { errorData, finalStateJson, stateOfSnapshot, type QueuedJob } from './wire.js';

/** Counts of the jobs a worker ran (its `stats()` adds the running ones). */
export interface WorkerCounts {
  completed: number;
  failed: number;
  cancelled: number;
  released: number;
}

/** What the processor needs of its worker. */
export interface JobProcessorContext {
  readonly runtime: Runtime;
  readonly store: RedisCheckpointStore;
  readonly redis: FencedRedis;
  readonly keys: Keys;
  /** The jobs held now, by id: the control relay finds them here. */
  readonly holdings: Map<string, HeldJob>;
  readonly counts: WorkerCounts;
  readonly writer: JobWriter;
  readonly control: ControlRelay;
  readonly isClosing: () => boolean;
  readonly onError: (error: Error) => void;
}

export class JobProcessor {
  constructor(private readonly context: JobProcessorContext) {}

  /** The processor given to BullMQ: resolves with the job's final status. */
  readonly process = async (bullJob: BullJob<QueuedJob>, token?: string): Promise<string> => {
    const { runtime, store, holdings } = this.context;
    const id = bullJob.id as string;
    if (token === undefined) throw new Error('BullMQ gave no lock token');
    if (this.context.isClosing()) return this.handBack(bullJob, token);
    const held = holdJob(id, token);
    // Held from here: a control message published while the job is being read or created is not missed (`poked`).
    holdings.set(id, held);
    try {
      const { snapshot, status, cursor, sent } = await this.readCheckpoint(bullJob);
      // Finished by a worker that died before BullMQ recorded it.
      if (status && isFinalStatus(status as never)) return status;
      held.cursor = Number(cursor ?? 0);
      held.saved = snapshot !== null;
      const early = sent.slice(held.cursor);
      if (!runtime.flowIds.includes(bullJob.data.flowId)) return await this.fail(bullJob, token, new FlowNotFoundError(bullJob.data.flowId, runtime.flowIds));
      store.hold(id, held);
      return await this.run(bullJob, held, snapshot ?? undefined, early);
    } finally {
      holdings.delete(id);
      store.release(id);
    }
  };

  /**
   * What the job starts from, in one round trip (pipelined with the other commands of this turn). A job no worker
   * started before has no checkpoint: only its control list is read, so that the messages sent before it started
   * are applied, in order, as it starts (a job that ends within its first turn would otherwise end before them).
   * Else the checkpoint and the messages are read together.
   */
  private async readCheckpoint(bullJob: BullJob<QueuedJob>): Promise<{ snapshot: string | null; status: string | null; cursor: string | null; sent: string[] }> {
    const { redis, keys } = this.context;
    const id = bullJob.id as string;
    if (bullJob.attemptsStarted === 1 && bullJob.stalledCounter === 0) return { snapshot: null, status: null, cursor: null, sent: await redis.lrange(keys.control(id), 0, -1) };
    const [[snapshot, status, cursor], sent] = await Promise.all([redis.hmget(keys.job(id), 'snapshot', 'status', 'cursor'), redis.lrange(keys.control(id), 0, -1)]);
    return { snapshot: snapshot ?? null, status: status ?? null, cursor: cursor ?? null, sent };
  }

  /** Restores or starts the job, relays its events and control messages, and settles it once it ends. */
  private async run(bullJob: BullJob<QueuedJob>, held: HeldJob, snapshot: string | undefined, early: readonly string[]): Promise<string> {
    const { runtime, control } = this.context;
    const data = bullJob.data;
    let job: Job;
    try {
      job = snapshot ? runtime.restore(parseSnapshot(JSON.parse(snapshot))) : runtime.exec(data.flowId, { jobId: held.id, ...(data.params ? { params: data.params } : {}), ...(data.keepAlive ? { keepAlive: true } : {}), ...(data.timeoutMs !== undefined ? { timeoutMs: data.timeoutMs } : {}) });
    } catch (error) {
      if (error instanceof RuntimeClosedError) return await this.handBack(bullJob, held.token);
      // A checkpoint this release cannot restore (or a flow that changed under it): the job fails, typed.
      return await this.fail(bullJob, held.token, error as Error);
    }
    // Its events reach `writer.relay` through the worker's one subscription to the runtime's events (createWorker).
    held.job = job;
    // The messages read before the start, applied in the same tick as it (before any routine runs); those published
    // since the read (`poked`) are read again from the cursor on.
    control.apply(held, job, early);
    if (held.poked) void control.drain(held);
    return this.settle(bullJob, held, job, await job.wait());
  }

  /** The job ended here: hand it back (suspended by close), give it up (lost), or write its final state. */
  private async settle(bullJob: BullJob<QueuedJob>, held: HeldJob, job: Job, state: JobState): Promise<string> {
    const { writer, counts } = this.context;
    const { id, token } = held;
    if (held.suspended) {
      writer.flush(held);
      await held.appended;
      return await this.handBack(bullJob, token);
    }
    if (held.lost) {
      counts.released++;
      throw new LockLostError(id);
    }
    // No save of the finished job (its last write is this one), and no wait for saves or appends in flight: they
    // were sent first on the same connection, so Redis runs them first; the rest of the events go with this write.
    const final = held.final ?? { type: `job.${state.status}`, jobId: id, flowId: state.flowId, at: Date.now(), ...(state.error ? { error: errorData(state.error) } : {}) };
    // The final state as readers derive it from a snapshot: plain JSON, errors as data.
    const finalState = finalStateJson(state) ?? JSON.stringify(stateOfSnapshot(job.snapshot()));
    const status = state.status as 'completed' | 'failed' | 'cancelled';
    // Not awaited: BullMQ's own completion of the job goes out on the same connection right after this write (one
    // socket write, one round trip for both), and Redis runs them in that order. Both are fenced by the job's lock:
    // a worker that lost the job has this write refused and BullMQ's completion too (the job stays the new
    // holder's). A final write that lands without BullMQ's completion (the lock expired in between) is found by the
    // next worker to take the job, which sees the final status and completes it (`process`).
    writer.finish(id, token, finalState, status, [...held.takeEvents(), final]).then(
      (written) => {
        if (written) counts[status]++;
        else {
          counts.released++;
          this.context.onError(new LockLostError(id));
        }
      },
      (error: unknown) => {
        this.context.onError(new CheckpointError('save', id, error));
      },
    );
    return status;
  }

  /** A job that cannot run here (unknown flow, checkpoint not restorable) fails with a final state, fenced. */
  private async fail(bullJob: BullJob<QueuedJob>, token: string, error: Error): Promise<string> {
    const id = bullJob.id as string;
    const { flowId, params } = bullJob.data;
    const at = Date.now();
    const state = { jobId: id, flowId, status: 'failed', params, outputs: {}, routines: {}, shared: {}, log: [], history: [], cycles: {}, error: errorData(error), startedAt: at, finishedAt: at };
    if (!(await this.context.writer.finish(id, token, JSON.stringify(state), 'failed', [{ type: 'job.failed', jobId: id, flowId, at, error: errorData(error) }]))) throw new LockLostError(id);
    this.context.counts.failed++;
    return 'failed';
  }

  /** Back to the queue for another worker (this one is closing); BullMQ's `WaitingError` says it was not a failure. */
  private async handBack(bullJob: BullJob<QueuedJob>, token: string): Promise<never> {
    this.context.counts.released++;
    await bullJob.moveToWait(token);
    throw new WaitingError();
  }
}
