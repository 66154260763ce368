/**
 * createWorker: a process that runs slotflow jobs taken from a BullMQ queue, one slotflow job per BullMQ job.
 *
 * Each job runs in this process's local runtime, checkpointed into Redis after every change (fenced by the job's
 * BullMQ lock token), its events appended to the job's stream, and its control messages applied in order. A worker
 * that dies loses nothing: BullMQ's stalled check hands the job to another worker, which restores it from its last
 * checkpoint. `close()` suspends the running jobs (saved as they are) and hands them back to the queue.
 */
import { Worker as BullWorker } from 'bullmq';
import { CheckpointError, createRuntime, InvalidOptionError, type FlowBuilder, type FlowDefinition, type RoutineMap, type Runtime, type RuntimeOptions } from 'slotflow';
import { Connections, type RedisConnection } from './connections.js';
import { ControlRelay } from './ControlRelay.js';
import type { HeldJob } from './HeldJob.js';
import { JobProcessor, type WorkerCounts } from './JobProcessor.js';
import { JobWriter } from './JobWriter.js';
import { Keys } from './keys.js';
import { LockLostError, RedisCheckpointStore } from './RedisCheckpointStore.js';
import { withScripts, type FencedRedis } from './scripts.js';
import { assertOptions, DEFAULT_MAX_EVENTS, DEFAULT_RETAIN_FINISHED_MS } from './options.js';
import type { QueuedJob } from './wire.js';

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
  /**
   * Options of the local runtime that runs the jobs (its `store` is the worker's own). Its `retain` defaults to 0:
   * a worker's finished jobs are read from Redis (`getJob`, `listJobs`, `wait` on a producer), never from its
   * runtime, so keeping them there would only cost memory and garbage collection. @default { retain: 0 }
   */
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

const KNOWN = ['connection', 'queue', 'flows', 'concurrency', 'runtime', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'connectTimeoutMs', 'maxEvents', 'retainFinishedMs', 'prefix', 'onError'];

type CheckedOptions = ReturnType<typeof assertOptions>;

/** The parts of a worker, wired once by `createWorker`; `start` and `close` read them. */
interface WorkerParts {
  readonly o: CheckedOptions;
  readonly keys: Keys;
  readonly connections: Connections;
  readonly redis: FencedRedis;
  readonly runtime: Runtime;
  readonly holdings: Map<string, HeldJob>;
  readonly writer: JobWriter;
  readonly control: ControlRelay;
  readonly processor: JobProcessor;
  readonly retentionMs: number;
  readonly onError: (error: Error) => void;
  /** Set by `close()`; `bull` once `start` created BullMQ's worker. */
  readonly life: { closing: boolean; bull: BullWorker<QueuedJob> | undefined };
}

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
  const holdings = new Map<string, HeldJob>();
  const counts: WorkerCounts = { completed: 0, failed: 0, cancelled: 0, released: 0 };
  const life: WorkerParts['life'] = { closing: false, bull: undefined };

  // Another worker holds the job now: stop writing and stop running this copy.
  const abort = (held: HeldJob, why: Error): void => {
    if (held.lost) return;
    held.lost = true;
    store.release(held.id);
    onError(why);
    held.job?.cancel(why.message);
  };
  const runtime = localRuntime(options, store, holdings, abort, onError);
  const writer = new JobWriter({ redis, keys, maxEvents: o.maxEvents, retentionMs, onError, abort });
  // One subscription for all the jobs this worker runs (not one per job: subscribing costs more than routing an
  // event by id). Every job's events, from its first, reach its relay: the subscription exists before any job.
  const relaying = runtime.events$.subscribe((event) => {
    const held = holdings.get(event.jobId);
    if (held) writer.relay(held, event);
  });
  const control = new ControlRelay({ redis, keys, onError, buffer: (held, event) => { writer.buffer(held, event); } });
  const processor = new JobProcessor({ runtime, store, redis, keys, holdings, counts, writer, control, isClosing: () => life.closing, onError });
  const parts: WorkerParts = { o, keys, connections, redis, runtime, holdings, writer, control, processor, retentionMs, onError, life };
  let starting: Promise<void> | undefined;

  return {
    ready: () => (starting ??= start(parts)),
    async close() {
      if (life.closing) return;
      life.closing = true;
      await (starting ?? Promise.resolve()).catch(() => undefined);
      await close(parts);
      relaying.unsubscribe();
    },
    stats: () => ({ running: holdings.size, ...counts }),
  };
}

/**
 * The runtime that runs the worker's jobs, saving into Redis. A save refused for a lost lock aborts that job (it is
 * another worker's now); any other checkpoint failure is reported and the job goes on.
 */
function localRuntime(options: WorkerOptions, store: RedisCheckpointStore, holdings: ReadonlyMap<string, HeldJob>, abort: (held: HeldJob, why: Error) => void, onError: (error: Error) => void): Runtime {
  const runtime = createRuntime({
    retain: 0,
    ...options.runtime,
    store,
    onCheckpointError: (error: CheckpointError) => {
      const held = error.jobId === undefined ? undefined : holdings.get(error.jobId);
      if (held && error.cause instanceof LockLostError) abort(held, error.cause);
      else onError(error);
    },
  });
  for (const flow of options.flows) runtime.register(flow);
  return runtime;
}

/** Listens for control messages first (none is missed once a job is taken), then starts consuming the queue. */
async function start({ o, keys, connections, redis, holdings, control, processor, life, onError, writer, retentionMs }: WorkerParts): Promise<void> {
  await connections.ping(redis);
  const subscriber = connections.open();
  subscriber.on('message', (_channel: string, id: string) => {
    const held = holdings.get(id);
    if (held) control.poke(held);
  });
  await connections.bounded(subscriber.subscribe(keys.channel));
  if (life.closing) return;
  const bull = new BullWorker<QueuedJob>(o.queue, processor.process, {
    // slotflow's own connection: a job's final write and BullMQ's completion of it leave together, in this order
    // (see JobProcessor.settle). BullMQ blocks on a copy of it, never on it.
    connection: redis,
    prefix: o.prefix,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: o.stalledIntervalMs,
    maxStalledCount: o.maxStalledCount,
    // A completed job's record is slotflow's (its final state, kept retainFinishedMs): BullMQ's copy goes at once,
    // which also frees its id for a new job once slotflow's records expired. Failed ones stay a while, to look into.
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 5000, ...(retentionMs > 0 ? { age: Math.ceil(retentionMs / 1000) } : {}) },
    autorun: true,
  });
  life.bull = bull;
  // BullMQ failed a job itself (it stalled more than maxStalledCount times, or our processor threw): without a
  // final slotflow state, `wait()` on the producer would never settle.
  bull.on('failed', (bullJob, error) => {
    if (!bullJob?.id || error instanceof LockLostError) return;
    writer.finishFailed(bullJob.id, bullJob.data.flowId, bullJob.data.params, error).catch((failure: unknown) => {
      onError(failure as Error);
    });
  });
  bull.on('error', (error) => {
    // A stale worker's moveToFailed of a job another worker took over ends here, as do lost connections.
    if (!life.closing) onError(error);
  });
  await connections.bounded(bull.waitUntilReady());
}

/** Stop fetching first, then suspend what runs: each processor sees `suspended` and hands its job back. */
async function close({ life, holdings, runtime, connections, onError }: WorkerParts): Promise<void> {
  const stopped = life.bull?.close();
  for (const held of holdings.values()) held.suspended = true;
  try {
    await runtime.shutdown({ suspend: true });
  } catch (error) {
    onError(error as Error);
  }
  await stopped?.catch(() => undefined);
  await connections.closeAll();
}
