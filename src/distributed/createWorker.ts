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
  parseSnapshot,
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
import { assertOptions, DEFAULT_MAX_EVENTS, DEFAULT_RETAIN_FINISHED_MS } from './options.js';
import { applyControl } from './applyControl.js';
import { JobStalledError } from './JobStalledError.js';
import { errorData, eventToWire, isFinalEvent, stateOfSnapshot, toWire, type ControlReply, type QueuedJob } from './wire.js';

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
  /**
   * How long a job's lock lasts without renewal (the worker renews it every half of this). A dead worker's jobs
   * are taken over at most `lockDurationMs + stalledIntervalMs` after its death. A worker whose event loop is
   * blocked for longer than half of this may lose its jobs to another worker (its copy is then aborted). @default 5000
   */
  readonly lockDurationMs?: number;
  /** How often the workers (one of them, in turn) look for jobs whose worker died. @default 2000 */
  readonly stalledIntervalMs?: number;
  /** A job whose worker died more than this many times fails (a job that crashes its process every time). @default 5 */
  readonly maxStalledCount?: number;
  /** `ready()` (and a lost server) reject with `ConnectionError` after this long. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Events kept per job stream (approximately; the oldest go first). @default 10000 */
  readonly maxEvents?: number;
  /**
   * How long a finished job's records (state, events, control messages) stay in Redis for `wait`, `getState`,
   * `events$` and `listJobs`; then they expire. `Infinity` keeps them. @default 86_400_000 (one day)
   */
  readonly retainFinishedMs?: number;
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
  saved: boolean;
  /** Another worker holds the job now: nothing more is written. */
  lost: boolean;
  /** Suspended by `close()`: handed back, not finished. */
  suspended: boolean;
  draining: boolean;
  again: boolean;
  /** A control message was published before the job was created: read the list again once it is. */
  poked: boolean;
  /** Events (wire JSON) not written yet: the next save carries them, or an append on the next turn. */
  buffer: string[];
  final: string | undefined;
  appended: Promise<unknown>;
  takeEvents(): string[];
}

const KNOWN = ['connection', 'queue', 'flows', 'concurrency', 'runtime', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'connectTimeoutMs', 'maxEvents', 'retainFinishedMs', 'prefix', 'onError'];

/**
 * Creates a worker; call `ready()` to learn whether it reached Redis.
 * @example
 * const worker = createWorker({ connection: 'redis://127.0.0.1:6379', queue: 'orders', flows: [orderFlow] });
 * await worker.ready();
 * process.on('SIGTERM', () => void worker.close());
 */
export function createWorker(options: WorkerOptions): DistributedWorker {
  const o = assertOptions('createWorker(options)', options, KNOWN, { concurrency: 10, lockDurationMs: 5_000, stalledIntervalMs: 2_000, maxStalledCount: 5, connectTimeoutMs: 5_000, maxEvents: DEFAULT_MAX_EVENTS, retainFinishedMs: DEFAULT_RETAIN_FINISHED_MS });
  if (!Array.isArray(options.flows) || options.flows.length === 0) throw new InvalidOptionError('createWorker({ flows })', 'a non-empty array of flows', options.flows);
  const onError = options.onError ?? ((error: Error) => { process.emitWarning(error.message, { code: 'SLOTFLOW_WORKER' }); });
  const keys = new Keys(o.queue, o.prefix);
  const connections = new Connections(options.connection, o.connectTimeoutMs);
  const redis: FencedRedis = withScripts(connections.open({ pipelined: true }));
  const store = new RedisCheckpointStore(redis, keys, o.maxEvents);
  const retentionMs = o.retainFinishedMs === Number.POSITIVE_INFINITY ? 0 : o.retainFinishedMs;
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
    // Until the first checkpoint the status is written here, so `listJobs` sees the job run (never a final one: the
    // final write sets that).
    const status = holding.job?.status;
    const shown = !holding.saved && status !== undefined && !isFinalStatus(status) ? status : '';
    holding.appended = redis.slotflowAppend(keys.lock(holding.id), keys.job(holding.id), keys.events(holding.id), holding.token, o.maxEvents, shown, ...events).then(
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
    const text = eventToWire(event);
    if (isFinalEvent(event)) {
      holding.final = text;
      return;
    }
    buffer(holding, text);
  };

  /** Usually the checkpoint of the same change takes the events along first; else one append per turn. */
  const buffer = (holding: Holding, text: string): void => {
    if (holding.buffer.push(text) === 1)
      setImmediate(() => {
        flush(holding);
      });
  };

  /** Applies messages in order; the replies go back to the callers (one write), failures into the job's events too. */
  const apply = (holding: Holding, job: Job, messages: readonly string[]): void => {
    const replies: ControlReply[] = [];
    for (const text of messages) {
      const { reply, warning } = applyControl(job, text);
      // With the message applied, in the same tick: the next checkpoint counts it as applied.
      holding.cursor++;
      if (reply) replies.push(reply);
      if (warning !== undefined) buffer(holding, warning);
    }
    if (replies.length === 0) return;
    const multi = redis.multi();
    for (const reply of replies) multi.hset(keys.replies(holding.id), reply.id, JSON.stringify(reply));
    multi.publish(keys.replyChannel, JSON.stringify(replies)).exec().catch((error: unknown) => {
      onError(error as Error);
    });
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
        apply(holding, job, messages);
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

  /**
   * Writes a job's final state, its last events and the final event in one step, and starts its retention. Fenced
   * by `token`; without one (a job BullMQ failed itself) only while no worker holds the job and it is not final.
   */
  const finish = async (id: string, token: string, state: string, status: string, events: readonly string[]): Promise<boolean> =>
    (await redis.slotflowFinish(keys.lock(id), keys.job(id), keys.events(id), keys.control(id), keys.replies(id), keys.jobs, keys.expiring, token, o.maxEvents, state, status, retentionMs, Date.now(), ...events)) === 1;

  /** A job BullMQ failed without our processor finishing it (stalled too often, a processor crash): final state. */
  const finishFailed = async (id: string, flowId: string, params: QueuedJob['params'], reason: Error): Promise<void> => {
    const [snapshot] = await redis.hmget(keys.job(id), 'snapshot');
    const error = errorData(reason.message === 'job stalled more than allowable limit' ? new JobStalledError(id, reason.message) : reason);
    const at = Date.now();
    const last = snapshot ? stateOfSnapshot(parseSnapshot(JSON.parse(snapshot))) : undefined;
    const state = last
      ? { ...last, status: 'failed', error, finishedAt: at }
      : { jobId: id, flowId, status: 'failed', params, outputs: {}, routines: {}, shared: {}, log: [], history: [], cycles: {}, error, startedAt: at, finishedAt: at };
    await finish(id, '', JSON.stringify(state), 'failed', [JSON.stringify({ type: 'job.failed', jobId: id, flowId, at, error })]);
  };

  const processJob = async (bullJob: BullJob<QueuedJob>, token?: string): Promise<string> => {
    const id = bullJob.id as string;
    if (token === undefined) throw new Error('BullMQ gave no lock token');
    if (closing) return handBack(bullJob, token);
    const data = bullJob.data;
    const holding: Holding = {
      id,
      token,
      cursor: 0,
      job: undefined,
      lost: false,
      suspended: false,
      draining: false,
      again: false,
      poked: false,
      saved: false,
      buffer: [],
      final: undefined,
      appended: Promise.resolve(),
      takeEvents: () => holding.buffer.splice(0),
    };
    // Held from here: a control message published while the job is being read or created is not missed (`poked`).
    holdings.set(id, holding);
    try {
      // A job no worker started before has no checkpoint: it starts at once, and its control messages (those sent
      // before it started too) are read while it runs. Else one round trip reads the checkpoint and the messages.
      const fresh = bullJob.attemptsStarted === 1 && bullJob.stalledCounter === 0;
      const [[snapshot, status, cursor], sent] = fresh
        ? [[null, null, null], undefined]
        : await Promise.all([redis.hmget(keys.job(id), 'snapshot', 'status', 'cursor'), redis.lrange(keys.control(id), 0, -1)]);
      // Finished by a worker that died before BullMQ recorded it.
      if (status && isFinalStatus(status as never)) return status;
      holding.cursor = Number(cursor ?? 0);
      holding.saved = snapshot !== null;
      const early = sent?.slice(holding.cursor);
      const fail = async (error: Error): Promise<string> => {
        const at = Date.now();
        const state = { jobId: id, flowId: data.flowId, status: 'failed', params: data.params, outputs: {}, routines: {}, shared: {}, log: [], history: [], cycles: {}, error: errorData(error), startedAt: at, finishedAt: at };
        if (!(await finish(id, token, JSON.stringify(state), 'failed', [JSON.stringify({ type: 'job.failed', jobId: id, flowId: data.flowId, at, error: errorData(error) })]))) throw new LockLostError(id);
        counts.failed++;
        return 'failed';
      };
      if (!runtime.flowIds.includes(data.flowId)) return await fail(new FlowNotFoundError(data.flowId, runtime.flowIds));
      store.hold(id, holding);
      return await run(bullJob, holding, snapshot ?? undefined, early, fail);
    } finally {
      holdings.delete(id);
      store.release(id);
    }
  };

  const run = async (bullJob: BullJob<QueuedJob>, holding: Holding, snapshot: string | undefined, early: string[] | undefined, fail: (error: Error) => Promise<string>): Promise<string> => {
    const { id, token } = holding;
    const data = bullJob.data;
    let job: Job;
    try {
      job = snapshot ? runtime.restore(parseSnapshot(JSON.parse(snapshot))) : runtime.exec(data.flowId, { jobId: id, ...(data.params ? { params: data.params } : {}), ...(data.keepAlive ? { keepAlive: true } : {}), ...(data.timeoutMs !== undefined ? { timeoutMs: data.timeoutMs } : {}) });
    } catch (error) {
      if (error instanceof RuntimeClosedError) return await handBack(bullJob, token);
      // A checkpoint this release cannot restore (or a flow that changed under it): the job fails, typed.
      return await fail(error as Error);
    }
    holding.job = job;
    job.events$.subscribe((event) => {
      relay(holding, event);
    });
    if (early) apply(holding, job, early);
    if (!early || holding.poked) void drain(holding);
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
    // No save of the finished job (its last write is this one), and no wait for saves or appends in flight: they
    // were sent first on the same connection, so Redis runs them first; the rest of the events go with this write.
    const final = holding.final ?? toWire({ type: `job.${state.status}`, jobId: id, flowId: state.flowId, at: Date.now(), ...(state.error ? { error: state.error } : {}) });
    // The final state as readers derive it from a snapshot: plain JSON (errors are data there already).
    const finalState = JSON.stringify(stateOfSnapshot(job.snapshot()));
    if (!(await finish(id, token, finalState, state.status, [...holding.takeEvents(), final]))) {
      counts.released++;
      throw new LockLostError(id);
    }
    counts[state.status as 'completed' | 'failed' | 'cancelled']++;
    return state.status;
  };

  let bull: BullWorker<QueuedJob> | undefined;
  let subscriber: ReturnType<Connections['open']> | undefined;
  let starting: Promise<void> | undefined;

  const start = async (): Promise<void> => {
    await connections.ping(redis);
    subscriber = connections.open();
    subscriber.on('message', (_channel: string, id: string) => {
      const holding = holdings.get(id);
      if (!holding) return;
      if (holding.job) void drain(holding);
      else holding.poked = true;
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
      // BullMQ's own records of finished jobs: a bounded number, for no longer than slotflow's.
      removeOnComplete: { count: 1000, ...(retentionMs > 0 ? { age: Math.ceil(retentionMs / 1000) } : {}) },
      removeOnFail: { count: 5000, ...(retentionMs > 0 ? { age: Math.ceil(retentionMs / 1000) } : {}) },
      autorun: true,
    });
    // BullMQ failed a job itself (it stalled more than maxStalledCount times, or our processor threw): without a
    // final slotflow state, `wait()` on the producer would never settle.
    bull.on('failed', (bullJob, error) => {
      if (!bullJob?.id || error instanceof LockLostError) return;
      finishFailed(bullJob.id, bullJob.data.flowId, bullJob.data.params, error).catch((failure: unknown) => {
        onError(failure as Error);
      });
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
      for (const holding of holdings.values()) holding.suspended = true;
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

