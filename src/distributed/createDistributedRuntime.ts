/**
 * createDistributedRuntime: the producer side. Queues jobs for the workers of a queue and watches and drives any
 * job of that queue, from any process.
 */
import { Queue } from 'bullmq';
import { v7 as uuidv7 } from 'uuid';
import { ConnectionError, FlowNotFoundError, InvalidOptionError, RuntimeClosedError, SlotflowError, UnknownSlotError, type FlowBuilder, type FlowDefinition, type JobStatus, type Payload, type RoutineMap } from 'slotflow';
import { Connections, type RedisConnection } from './connections.js';
import { DistributedJob, type JobContext } from './DistributedJob.js';
import { ExecBatcher } from './ExecBatcher.js';
import { Keys } from './keys.js';
import { assertOptions } from './options.js';
import { Replies } from './Replies.js';
import { withProducerScripts } from './scripts.js';
import type { QueuedJob } from './wire.js';

/** Options of `createDistributedRuntime`. */
export interface DistributedRuntimeOptions {
  /** A `redis://` URL, ioredis options, or an IORedis instance (slotflow never closes one you give). */
  readonly connection: RedisConnection;
  /** The BullMQ queue name the workers consume. @default 'slotflow' */
  readonly queue?: string;
  /** When given, `exec` and `post` check flow ids, routines and slots here, at once. @default no checks */
  readonly flows?: readonly (FlowBuilder<RoutineMap> | FlowDefinition)[];
  /** `ready()`/`exec()` reject with `ConnectionError` when Redis does not answer within this. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** BullMQ's key prefix (the same as the workers'). @default 'bull' */
  readonly prefix?: string;
}

/** Options of `exec`. */
export interface DistributedExecOptions {
  /** Delivered as one payload to the flow's entry slot. */
  readonly params?: Payload;
  /** A unique job id (no ':'). @default a UUID v7 */
  readonly jobId?: string;
  /** Stay alive when idle, waiting for posts, until `job.complete()`. @default false */
  readonly keepAlive?: boolean;
  /** Bounds the whole job (the clock runs on the worker). @default none */
  readonly timeoutMs?: number;
}

/** One job as `listJobs` sees it. */
export interface JobSummary {
  readonly jobId: string;
  readonly flowId: string;
  readonly status: JobStatus;
  readonly createdAt: number;
}

export interface DistributedRuntime {
  /** Resolves once Redis answers; rejects with `ConnectionError` after `connectTimeoutMs`. */
  ready(): Promise<void>;
  /**
   * Queues a job; resolves once it is stored in Redis. Calls made together (`Promise.all` over many jobs) are sent
   * as one batch, two round trips in all, and each still resolves or rejects on its own.
   */
  exec(flow: string | FlowBuilder<RoutineMap> | FlowDefinition, options?: DistributedExecOptions): Promise<DistributedJob>;
  /** The job's handle, or `undefined` when the queue has no job with this id. */
  getJob(jobId: string): Promise<DistributedJob | undefined>;
  /** The queue's jobs, oldest first. */
  listJobs(filter?: { readonly status?: JobStatus | readonly JobStatus[] }): Promise<JobSummary[]>;
  /** Closes every connection this runtime opened (none it was given). Jobs go on in the workers. */
  close(): Promise<void>;
}

const KNOWN = ['connection', 'queue', 'flows', 'connectTimeoutMs', 'prefix'];
const EXEC_KNOWN = ['params', 'jobId', 'keepAlive', 'timeoutMs'];

/**
 * Creates the producer side of a queue.
 * @example
 * const runtime = createDistributedRuntime({ connection: 'redis://127.0.0.1:6379', queue: 'orders' });
 * const job = await runtime.exec('order_flow', { params: { orderId: 7 } });
 * const state = await job.wait({ timeoutMs: 30_000 });
 */
export function createDistributedRuntime(options: DistributedRuntimeOptions): DistributedRuntime {
  const o = assertOptions('createDistributedRuntime(options)', options, KNOWN, { concurrency: 1, lockDurationMs: 1, stalledIntervalMs: 1, maxStalledCount: 0, connectTimeoutMs: 5_000, maxEvents: 1, retainFinishedMs: 1 });
  const flows = compileFlows(options.flows);
  const keys = new Keys(o.queue, o.prefix);
  const connections = new Connections(options.connection, o.connectTimeoutMs);
  // Auto-pipelined: the commands of one turn leave in one write (`exec`s of one turn are batched besides).
  const redis = withProducerScripts(connections.open({ pipelined: true }));
  const replies = new Replies(connections, keys.replyChannel);
  let queue: Queue<QueuedJob> | undefined;
  let closed = false;
  let starting: Promise<void> | undefined;
  const assertOpen = (action: string): void => {
    if (closed) throw new RuntimeClosedError(action);
  };
  const whileOpen = <T>(action: string, call: () => Promise<T>): Promise<T> => whileOpenOf(() => closed, ready, action, call);
  const context: JobContext = { redis, keys, connections, replies, flows, assertOpen };
  const batcher = new ExecBatcher(redis, keys, connections, () => queue as Queue<QueuedJob>);

  const ready = (): Promise<void> =>
    (starting ??= (async () => {
      await connections.ping(redis);
      queue = new Queue<QueuedJob>(o.queue, { connection: redis, prefix: o.prefix });
      queue.on('error', () => undefined);
    })());

  return {
    ready,
    async exec(flow, execOptions = {}) {
      assertOpen('exec a job');
      const { flowId, jobId, data } = checkExec(flow, execOptions, flows);
      return whileOpen('exec a job', async () => {
        // Our record of the job (refused when the id is taken), then BullMQ's: with the other calls of this turn.
        await batcher.add(jobId, data);
        return new DistributedJob(jobId, flowId, context);
      });
    },
    getJob(jobId) {
      return whileOpen('get a job', async () => {
        const flowId = await connections.bounded(redis.hget(keys.job(jobId), 'flowId'));
        return flowId === null ? undefined : new DistributedJob(jobId, flowId, context);
      });
    },
    listJobs(filter = {}) {
      return whileOpen('list jobs', () => listSummaries(context, filter));
    },
    async close() {
      if (closed) return;
      closed = true;
      await (starting ?? Promise.resolve()).catch(() => undefined);
      // The `exec` calls already batched end with their jobs queued (or their own error), not cut off halfway.
      await batcher.idle();
      await queue?.close().catch(() => undefined);
      await connections.closeAll();
    },
  };
}

/**
 * Runs a call of the runtime's API once connected. One that `close()` overtook rejects with `RuntimeClosedError`,
 * not with what the closed connection said (ioredis's "Connection is closed", or a `ConnectionError`): while still
 * connecting, nothing of it is sent; once sent, `close()` waits for it (see its `batcher.idle()`). Its own errors
 * (an id taken, a bad argument) stay as they are.
 */
async function whileOpenOf<T>(isClosed: () => boolean, ready: () => Promise<void>, action: string, call: () => Promise<T>): Promise<T> {
  if (isClosed()) throw new RuntimeClosedError(action);
  try {
    await ready();
    if (isClosed()) throw new RuntimeClosedError(action);
    return await call();
  } catch (error) {
    if (isClosed() && (!(error instanceof SlotflowError) || error instanceof ConnectionError)) throw new RuntimeClosedError(action);
    throw error;
  }
}

/** The `flows` option compiled once, by id: what `exec` checks flow ids, entries and slots against. */
function compileFlows(given: DistributedRuntimeOptions['flows']): Map<string, FlowDefinition> {
  const flows = new Map<string, FlowDefinition>();
  if (given === undefined) return flows;
  if (!Array.isArray(given)) throw new InvalidOptionError('createDistributedRuntime({ flows })', 'an array of flows', given);
  for (const flow of given as readonly (FlowBuilder<RoutineMap> | FlowDefinition)[]) {
    const compiled = 'compile' in flow ? flow.compile() : flow;
    flows.set(compiled.id, compiled);
  }
  return flows;
}

/**
 * Checks `exec`'s arguments before anything reaches Redis (a bad job is refused in the caller's process, not found
 * failed in a worker later) and returns what is queued.
 */
function checkExec(flow: unknown, execOptions: DistributedExecOptions, flows: ReadonlyMap<string, FlowDefinition>): { flowId: string; jobId: string; data: QueuedJob } {
  const flowId = typeof flow === 'string' ? flow : (flow as { id?: unknown }).id;
  if (typeof flowId !== 'string' || flowId === '') throw new InvalidOptionError('exec(flow)', 'a flow id or a flow', flow);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
  if (typeof execOptions !== 'object' || execOptions === null) throw new InvalidOptionError('exec(options)', 'an options object', execOptions);
  for (const key of Object.keys(execOptions)) if (!EXEC_KNOWN.includes(key)) throw new InvalidOptionError(`exec(options).${key}`, `a known option (one of ${EXEC_KNOWN.map((k) => `'${k}'`).join(', ')})`, (execOptions as Record<string, unknown>)[key]);
  const { params, keepAlive, timeoutMs } = execOptions;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) throw new InvalidOptionError('exec({ params })', 'a plain object', params);
  if (keepAlive !== undefined && typeof keepAlive !== 'boolean') throw new InvalidOptionError('exec({ keepAlive })', 'a boolean', keepAlive);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0))) throw new InvalidOptionError('exec({ timeoutMs })', 'a positive number of milliseconds', timeoutMs);
  const jobId = execOptions.jobId ?? uuidv7();
  if (typeof jobId !== 'string' || jobId === '' || jobId.includes(':') || /^\d+$/.test(jobId)) throw new InvalidOptionError('exec({ jobId })', "a non-empty string without ':' that is not a number", jobId);
  if (flows.size > 0) {
    const known = flows.get(flowId);
    if (!known) throw new FlowNotFoundError(flowId, [...flows.keys()]);
    if (params !== undefined && !known.entry) throw new UnknownSlotError(flowId, '(entry)', '(entry)', [...known.routines.keys()], 'routine');
  }
  const data: QueuedJob = { flowId, ...(params ? { params } : {}), ...(keepAlive ? { keepAlive } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
  return { flowId, jobId, data };
}

/** The queue's jobs, oldest first: one read of the index, then one pipelined read of every job's record. */
async function listSummaries({ redis, keys, connections }: JobContext, filter: { readonly status?: JobStatus | readonly JobStatus[] }): Promise<JobSummary[]> {
  const wanted = filter.status === undefined ? undefined : new Set<string>(typeof filter.status === 'string' ? [filter.status] : filter.status);
  const ids = await connections.bounded(redis.zrange(keys.jobs, 0, -1));
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(keys.job(id), 'flowId', 'status', 'createdAt');
  const rows = (await connections.bounded(pipeline.exec())) ?? [];
  const out: JobSummary[] = [];
  ids.forEach((jobId, i) => {
    const [flowId, status, createdAt] = (rows[i]?.[1] ?? []) as (string | null)[];
    if (!flowId) return;
    const summary = { jobId, flowId, status: (status ?? 'queued') as JobStatus, createdAt: Number(createdAt ?? 0) };
    if (!wanted || wanted.has(summary.status)) out.push(summary);
  });
  return out;
}
