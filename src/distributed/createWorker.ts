/**
 * createWorker: a process that runs slotflow jobs taken from a BullMQ queue, one slotflow job per BullMQ job.
 *
 * Each job runs in this process's local runtime, checkpointed into Redis after every change (fenced by the job's
 * BullMQ lock token), its events appended to the job's stream, and its control messages applied in order. A worker
 * that dies loses nothing: BullMQ's stalled check hands the job to another worker, which restores it from its last
 * checkpoint. `close()` suspends the running jobs (saved as they are) and hands them back to the queue.
 */
import { Worker as BullWorker, WaitingError, type Job as BullJob } from 'bullmq';
import {
  CheckpointError,
  createRuntime,
  FlowNotFoundError,
  InvalidOptionError,
  isFinalStatus,
  RuntimeClosedError,
  type FlowBuilder,
  type FlowDefinition,
  type Job,
  type JobEvent,
  type RoutineMap,
  type RuntimeOptions,
} from 'slotflow';
import { Connections, type RedisConnection } from './connections.js';
import { Keys } from './keys.js';
import { LockLostError, RedisCheckpointStore } from './RedisCheckpointStore.js';
import { withScripts, type FencedRedis } from './scripts.js';
import { assertOptions, DEFAULT_MAX_EVENTS } from './options.js';
import { errorData, isFinalEvent, toWire, type ControlMessage, type QueuedJob } from './wire.js';

/** Options of `createWorker`. */
export interface WorkerOptions {
  /** A `redis://` URL, ioredis options, or an IORedis instance (slotflow never closes one you give). */
  readonly connection: RedisConnection;
  /** The BullMQ queue name; producers use the same. @default 'slotflow' */
  readonly queue?: string;
  /** The flows this worker runs; a job of any other flow fails with `FlowNotFoundError`. */
  readonly flows: readonly (FlowBuilder<RoutineMap> | FlowDefinition)[];
  /** Jobs this worker holds at once. @default 10 */
  readonly concurrency?: number;
  /** Options of the local runtime that runs the jobs (its `store` is the worker's own). @default {} */
  readonly runtime?: Omit<RuntimeOptions, 'store' | 'retainFinished'>;
  /** How long a job's lock lasts without renewal: a dead worker's jobs are taken over after about this plus twice `stalledIntervalMs`. @default 5000 */
  readonly lockDurationMs?: number;
  /** How often workers look for jobs whose worker died. @default 5000 */
  readonly stalledIntervalMs?: number;
  /** A job whose worker died more than this many times fails (a job that crashes its process every time). @default 5 */
  readonly maxStalledCount?: number;
  /** `ready()` (and a lost server) reject with `ConnectionError` after this long. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Events kept per job stream (approximately; the oldest go first). @default 10000 */
  readonly maxEvents?: number;
  /** BullMQ's key prefix. @default 'bull' */
  readonly prefix?: string;
  /** Problems that do not stop the worker (a control message that could not be applied, a lost lock). @default a process warning */
  readonly onError?: (error: Error) => void;
}

/** Counts of the jobs this worker ran. */
export interface WorkerStats {
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Jobs handed back to the queue (close) or lost to another worker (lock expired). */
  readonly released: number;
}

/** The handle `createWorker` returns. */
export interface DistributedWorker {
  /** Resolves once the worker consumes jobs; rejects with `ConnectionError` when Redis cannot be reached in time. */
  ready(): Promise<void>;
  /** Stops taking jobs, checkpoints the running ones and hands them back to the queue, then closes its connections. */
  close(): Promise<void>;
  stats(): WorkerStats;
}

/** One job this worker holds. */
interface Holding {
  readonly id: string;
  readonly token: string;
  cursor: number;
  job: Job | undefined;
  /** Another worker holds the job now: nothing more is written. */
  lost: boolean;
  /** Suspended by `close()`: handed back, not finished. */
  suspended: boolean;
  draining: boolean;
  again: boolean;
  buffer: string[];
  final: string | undefined;
  appended: Promise<unknown>;
  /** The state as it was when `close()` suspended the job (its last save is of that moment, not of the cancel after). */
  frozen: string | undefined;
  state(): string;
}

const KNOWN = ['connection', 'queue', 'flows', 'concurrency', 'runtime', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'connectTimeoutMs', 'maxEvents', 'prefix', 'onError'];

/**
 * Creates a worker; call `ready()` to learn whether it reached Redis.
 * @example
 * const worker = createWorker({ connection: 'redis://127.0.0.1:6379', queue: 'orders', flows: [orderFlow] });
 * await worker.ready();
 * process.on('SIGTERM', () => void worker.close());
 */
export function createWorker(options: WorkerOptions): DistributedWorker {
  const o = assertOptions('createWorker(options)', options, KNOWN, { concurrency: 10, lockDurationMs: 5_000, stalledIntervalMs: 5_000, maxStalledCount: 5, connectTimeoutMs: 5_000, maxEvents: DEFAULT_MAX_EVENTS });
  if (!Array.isArray(options.flows) || options.flows.length === 0) throw new InvalidOptionError('createWorker({ flows })', 'a non-empty array of flows', options.flows);
  const onError = options.onError ?? ((error: Error) => { process.emitWarning(error.message, { code: 'SLOTFLOW_WORKER' }); });
  const keys = new Keys(o.queue, o.prefix);
  const connections = new Connections(options.connection, o.connectTimeoutMs);
  const redis: FencedRedis = withScripts(connections.open());
  const store = new RedisCheckpointStore(redis, keys);
  const holdings = new Map<string, Holding>();
  const counts = { completed: 0, failed: 0, cancelled: 0, released: 0 };
  let closing = false;

  const abort = (holding: Holding, why: Error): void => {
    if (holding.lost) return;
    holding.lost = true;
    store.release(holding.id);
    onError(why);
    holding.job?.cancel(why.message);
  };

  const runtime = createRuntime({
    ...options.runtime,
    store,
    onCheckpointError: (error: CheckpointError) => {
      const holding = error.jobId === undefined ? undefined : holdings.get(error.jobId);
      if (holding && error.cause instanceof LockLostError) abort(holding, error.cause);
      else onError(error);
    },
  });
  for (const flow of options.flows as readonly (FlowBuilder<RoutineMap> | FlowDefinition)[]) runtime.register(flow);

  const flush = (holding: Holding): void => {
    if (holding.buffer.length === 0 || holding.lost) return;
    const events = holding.buffer.splice(0);
    holding.appended = redis.slotflowAppend(keys.lock(holding.id), keys.events(holding.id), holding.token, o.maxEvents, ...events).then(
      (written) => {
        if (written !== 1) abort(holding, new LockLostError(holding.id));
      },
      (error: unknown) => {
        onError(new CheckpointError('save', holding.id, error));
      },
    );
  };

  const relay = (holding: Holding, event: JobEvent): void => {
    if (holding.lost || holding.suspended) return;
    const text = toWire(event);
    if (isFinalEvent(event)) {
      holding.final = text;
      return;
    }
    // One append per turn of the event loop: the events of several activations share one round trip.
    if (holding.buffer.push(text) === 1)
      setImmediate(() => {
        flush(holding);
      });
  };

  const apply = (holding: Holding, job: Job, text: string): void => {
    try {
      const message = JSON.parse(text) as ControlMessage;
      if (message.op === 'post') job.post(message.routineId, message.slot, message.payload);
      else if (message.op === 'cancel') job.cancel(message.reason);
      else if (message.op === 'pause') job.pause();
      else if (message.op === 'resume') job.resume();
      else job.complete();
    } catch (error) {
      onError(new Error(`A control message to job '${holding.id}' could not be applied: ${(error as Error).message}`, { cause: error }));
    }
  };

  /** Applies the job's control messages from its cursor on, in order (one drain at a time per job). */
  const drain = async (holding: Holding): Promise<void> => {
    if (holding.draining) {
      holding.again = true;
      return;
    }
    holding.draining = true;
    try {
      do {
        holding.again = false;
        const messages = await redis.lrange(keys.control(holding.id), holding.cursor, -1);
        const job = holding.job;
        if (!job || holding.lost || holding.suspended) return;
        for (const text of messages) {
          apply(holding, job, text);
          // With the message applied, in the same tick: the next checkpoint counts it as applied.
          holding.cursor++;
        }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by a drain() call while lrange waits
      } while (holding.again);
    } catch (error) {
      onError(error as Error);
    } finally {
      holding.draining = false;
    }
  };

  const handBack = async (bullJob: BullJob<QueuedJob>, token: string): Promise<never> => {
    counts.released++;
    await bullJob.moveToWait(token);
    throw new WaitingError();
  };

  /** Writes a job's final state and event in one fenced step. */
  const finish = async (holding: Holding, state: string, status: string, event: string): Promise<void> => {
    await holding.appended;
    const written = await redis.slotflowFinish(keys.lock(holding.id), keys.job(holding.id), keys.events(holding.id), holding.token, o.maxEvents, state, status, event);
    if (written !== 1) throw new LockLostError(holding.id);
  };

  const processJob = async (bullJob: BullJob<QueuedJob>, token?: string): Promise<string> => {
    const id = bullJob.id as string;
    if (token === undefined) throw new Error('BullMQ gave no lock token');
    if (closing) return handBack(bullJob, token);
    const data = bullJob.data;
    const [snapshot, status, cursor] = await redis.hmget(keys.job(id), 'snapshot', 'status', 'cursor');
    // Finished by a worker that died before BullMQ recorded it.
    if (status && isFinalStatus(status as never)) return status;
    const holding: Holding = {
      id,
      token,
      cursor: Number(cursor ?? 0),
      job: undefined,
      lost: false,
      suspended: false,
      draining: false,
      again: false,
      buffer: [],
      final: undefined,
      appended: Promise.resolve(),
      frozen: undefined,
      state: () => holding.frozen ?? toWire(holding.job?.state),
    };
    if (!runtime.flowIds.includes(data.flowId)) {
      const error = new FlowNotFoundError(data.flowId, runtime.flowIds);
      const at = Date.now();
      const state = { jobId: id, flowId: data.flowId, status: 'failed', params: data.params, outputs: {}, routines: {}, shared: {}, log: [], history: [], cycles: {}, error: errorData(error), startedAt: at, finishedAt: at };
      await finish(holding, JSON.stringify(state), 'failed', JSON.stringify({ type: 'job.failed', jobId: id, flowId: data.flowId, at, error: errorData(error) }));
      counts.failed++;
      return 'failed';
    }
    holdings.set(id, holding);
    store.hold(id, holding);
    try {
      let job: Job;
      try {
        job = snapshot ? runtime.restore(JSON.parse(snapshot) as never) : runtime.exec(data.flowId, { jobId: id, ...(data.params ? { params: data.params } : {}), ...(data.keepAlive ? { keepAlive: true } : {}), ...(data.timeoutMs !== undefined ? { timeoutMs: data.timeoutMs } : {}) });
      } catch (error) {
        if (error instanceof RuntimeClosedError) return await handBack(bullJob, token);
        throw error;
      }
      holding.job = job;
      job.events$.subscribe((event) => {
        relay(holding, event);
      });
      await drain(holding);
      const state = await job.wait();
      if (holding.suspended) {
        flush(holding);
        await holding.appended;
        return await handBack(bullJob, token);
      }
      if (holding.lost) {
        counts.released++;
        throw new LockLostError(id);
      }
      flush(holding);
      await job.checkpoint().catch(() => undefined);
      const final = holding.final ?? toWire({ type: `job.${state.status}`, jobId: id, flowId: state.flowId, at: Date.now(), ...(state.error ? { error: state.error } : {}) });
      await finish(holding, toWire(state), state.status, final);
      counts[state.status as 'completed' | 'failed' | 'cancelled']++;
      return state.status;
    } finally {
      holdings.delete(id);
      store.release(id);
    }
  };

  let bull: BullWorker<QueuedJob> | undefined;
  let subscriber: ReturnType<Connections['open']> | undefined;
  let starting: Promise<void> | undefined;

  const start = async (): Promise<void> => {
    await connections.ping(redis);
    subscriber = connections.open();
    subscriber.on('message', (_channel: string, id: string) => {
      const holding = holdings.get(id);
      if (holding) void drain(holding);
    });
    await connections.bounded(subscriber.subscribe(keys.channel));
    if (closing) return;
    bull = new BullWorker<QueuedJob>(o.queue, processJob, {
      connection: connections.open(),
      prefix: o.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs,
      maxStalledCount: o.maxStalledCount,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
      autorun: true,
    });
    bull.on('error', (error) => {
      // A stale worker's moveToFailed of a job another worker took over ends here, as do lost connections.
      if (!closing) onError(error);
    });
    await connections.bounded(bull.waitUntilReady());
  };

  return {
    ready: () => (starting ??= start()),
    async close() {
      if (closing) return;
      closing = true;
      await (starting ?? Promise.resolve()).catch(() => undefined);
      // Stop fetching first, then suspend what runs: each processor sees `suspended` and hands its job back.
      const stopped = bull?.close();
      for (const holding of holdings.values()) {
        holding.suspended = true;
        // The runtime snapshots each job in this same tick, then cancels it here; the save must carry this state.
        holding.frozen = toWire(holding.job?.state);
      }
      try {
        await runtime.shutdown({ suspend: true });
      } catch (error) {
        onError(error as Error);
      }
      await stopped?.catch(() => undefined);
      await connections.closeAll();
    },
    stats: () => ({ running: holdings.size, ...counts }),
  };
}

