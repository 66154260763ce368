import { describe, expectTypeOf, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Observable } from 'rxjs';
import { createFlow, defineRoutine, type JobStatus, type SerializedError } from 'slotflow';
import {
  createDistributedRuntime,
  createWorker,
  JobNotFoundError,
  JobStalledError,
  type DistributedJob,
  type DistributedRuntime,
  type DistributedWorker,
  type JobSummary,
  type RemoteJobEvent,
  type RemoteJobState,
  type WorkerStats,
} from 'slotflow/distributed';

const echo = defineRoutine({ name: 'echo', slots: ['input'], events: { said: ['text'] }, run() {} });
const flow = createFlow('gate').add('echo', echo);
const connection = 'redis://127.0.0.1:6379';

describe('createWorker', () => {
  it('takes a connection of three kinds and typed options', () => {
    const worker = createWorker({
      connection,
      queue: 'orders',
      flows: [flow],
      concurrency: 10,
      runtime: { concurrency: 20 },
      lockDurationMs: 5_000,
      stalledIntervalMs: 2_000,
      maxStalledCount: 5,
      connectTimeoutMs: 5_000,
      maxEvents: 10_000,
      retainFinishedMs: 86_400_000,
      prefix: 'bull',
      onError: (error) => {
        expectTypeOf(error).toEqualTypeOf<Error>();
      },
    });
    expectTypeOf(worker).toEqualTypeOf<DistributedWorker>();
    expectTypeOf(worker.ready()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(worker.close()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(worker.stats()).toEqualTypeOf<WorkerStats>();
    createWorker({ connection: { host: '127.0.0.1', port: 6379 }, flows: [flow.compile()] });
    createWorker({ connection: new Redis({ lazyConnect: true }), flows: [flow] });
  });

  it('rejects wrong options at compile time', () => {
    // @ts-expect-error -- flows are required
    createWorker({ connection });
    // @ts-expect-error -- connection is required
    createWorker({ flows: [flow] });
    // @ts-expect-error -- an unknown option
    createWorker({ connection, flows: [flow], concurency: 2 });
    // @ts-expect-error -- milliseconds are numbers
    createWorker({ connection, flows: [flow], retainFinishedMs: '1d' });
    // @ts-expect-error -- the worker's runtime store is its own
    createWorker({ connection, flows: [flow], runtime: { store: undefined } });
    // @ts-expect-error -- a connection is a URL, ioredis options or an IORedis instance
    createWorker({ connection: 6379, flows: [flow] });
  });
});

describe('createDistributedRuntime and the job handle', () => {
  it('types exec, the handle, listJobs and getJob', async () => {
    const runtime = createDistributedRuntime({ connection, queue: 'orders', flows: [flow], connectTimeoutMs: 5_000, prefix: 'bull' });
    expectTypeOf(runtime).toEqualTypeOf<DistributedRuntime>();
    const job = await runtime.exec('gate', { params: { text: 'hi' }, jobId: 'order-1', keepAlive: true, timeoutMs: 60_000 });
    await runtime.exec(flow);
    expectTypeOf(job).toEqualTypeOf<DistributedJob>();
    expectTypeOf(job.id).toEqualTypeOf<string>();
    expectTypeOf(job.flowId).toEqualTypeOf<string>();
    expectTypeOf(job.wait({ timeoutMs: 30_000 })).toEqualTypeOf<Promise<RemoteJobState>>();
    expectTypeOf(job.getState()).toEqualTypeOf<Promise<RemoteJobState | undefined>>();
    expectTypeOf(job.status()).toEqualTypeOf<Promise<JobStatus>>();
    expectTypeOf(job.post('echo', 'input', { text: 'x' })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(job.cancel('reason')).toEqualTypeOf<Promise<void>>();
    expectTypeOf(job.pause()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(job.resume()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(job.complete()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(job.events$).toEqualTypeOf<Observable<RemoteJobEvent>>();
    expectTypeOf(runtime.getJob('order-1')).toEqualTypeOf<Promise<DistributedJob | undefined>>();
    expectTypeOf(runtime.listJobs({ status: ['running', 'queued'] })).toEqualTypeOf<Promise<JobSummary[]>>();
    expectTypeOf(runtime.close()).toEqualTypeOf<Promise<void>>();
  });

  it('carries errors as data across processes', () => {
    expectTypeOf<RemoteJobState['error']>().toEqualTypeOf<SerializedError | undefined>();
    expectTypeOf<Extract<RemoteJobEvent, { type: 'job.failed' }>['error']>().toEqualTypeOf<SerializedError>();
    expectTypeOf(new JobStalledError('j', 'stalled').code).toEqualTypeOf<'JOB_STALLED'>();
    expectTypeOf(new JobNotFoundError('j', 'q').code).toEqualTypeOf<'JOB_NOT_FOUND'>();
  });

  it('rejects wrong calls at compile time', async () => {
    const runtime = createDistributedRuntime({ connection });
    // @ts-expect-error -- an unknown option
    createDistributedRuntime({ connection, concurrency: 4 });
    // @ts-expect-error -- params are an object
    await runtime.exec('gate', { params: 'hi' });
    // @ts-expect-error -- an unknown exec option
    await runtime.exec('gate', { retries: 3 });
    // @ts-expect-error -- keepAlive is a boolean
    await runtime.exec('gate', { keepAlive: 'yes' });
    const job = await runtime.exec('gate');
    // @ts-expect-error -- a payload is an object
    await job.post('echo', 'input', 'text');
    // @ts-expect-error -- wait takes an options object
    await job.wait(30_000);
    // @ts-expect-error -- not a status
    await runtime.listJobs({ status: 'done' });
  });
});
