/**
 * The producer side against a real redis-server and an in-process worker: control messages sent before any worker
 * holds the job, events replayed to a late subscriber, checks at exec/post, listJobs/getJob, unknown flows.
 */
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlowNotFoundError, InvalidOptionError, JobFinishedError, UnknownSlotError } from 'slotflow';
import { createDistributedRuntime, createWorker, type DistributedRuntime, type DistributedWorker } from 'slotflow/distributed';
import { startRedis, type RedisServer } from './redisServer.js';
import { testFlows } from './fixtures/flows.js';

let server: RedisServer;
let fixtures: ReturnType<typeof testFlows>;
const opened: { close(): Promise<void> }[] = [];
let queueNo = 0;

beforeAll(async () => {
  server = await startRedis();
  fixtures = testFlows(server.url, 5);
}, 30_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

afterAll(async () => {
  await fixtures.close();
  await server.stop();
}, 30_000);

function setup(options: { flows?: boolean } = {}): { queue: string; producer: DistributedRuntime; worker: () => Promise<DistributedWorker> } {
  const queue = `p${String(++queueNo)}`;
  const producer = createDistributedRuntime({ connection: server.url, queue, ...(options.flows ? { flows: fixtures.flows } : {}) });
  opened.push(producer);
  return {
    queue,
    producer,
    worker: async () => {
      const worker = createWorker({ connection: server.url, queue, flows: fixtures.flows, lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
      opened.push(worker);
      await worker.ready();
      return worker;
    },
  };
}

describe('control messages', () => {
  it('sent before any worker holds the job are applied in order when one takes it', async () => {
    const { producer, worker } = setup();
    const job = await producer.exec('gate', { keepAlive: true });
    await job.post('echo', 'input', { text: 'a' });
    await job.pause();
    await job.post('echo', 'input', { text: 'b' });
    await job.resume();
    await job.complete();
    expect(await job.status()).toBe('queued');
    await worker();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('completed');
    expect(state.outputs['echo.said']).toEqual([{ text: 'a' }, { text: 'b' }]);
  }, 45_000);

  it('reach the worker that holds the job, live', async () => {
    const { producer, worker } = setup();
    await worker();
    const job = await producer.exec('gate', { keepAlive: true });
    const events = job.events$;
    const said = firstValueFrom(events.pipe(toArray()));
    await job.post('echo', 'input', { text: 'live' });
    await job.complete();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.outputs['echo.said']).toEqual([{ text: 'live' }]);
    const seen = await said;
    expect(seen.at(-1)?.type).toBe('job.completed');
    expect(seen.some((e) => e.type === 'event.emitted')).toBe(true);
  }, 45_000);

  it('cancel ends a running job cancelled; post to it afterwards rejects JobFinishedError', async () => {
    const { producer, worker } = setup();
    await worker();
    const job = await producer.exec('gate', { keepAlive: true });
    await job.cancel('no longer needed');
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('cancelled');
    expect(state.error?.name).toBe('JobCancelledError');
    await expect(job.post('echo', 'input', { text: 'late' })).rejects.toBeInstanceOf(JobFinishedError);
  }, 45_000);
});

describe('events$', () => {
  it('replays a finished job from its start, in order, to a late subscriber', async () => {
    const { producer, worker } = setup();
    await worker();
    const job = await producer.exec('chain', { params: { n: 1 } });
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('completed');
    const events = await firstValueFrom(job.events$.pipe(toArray()));
    expect(events.slice(0, 2).map((e) => e.type)).toEqual(['job.queued', 'job.started']);
    expect(events.at(-1)?.type).toBe('job.completed');
    const started = events.filter((e) => e.type === 'routine.started').map((e) => (e as { routineId: string }).routineId);
    expect(started).toEqual([...Array<string>(10).fill('step'), 'done']);
    const times = events.map((e) => e.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, 45_000);
});

describe('checks', () => {
  it('with flows given, exec and post reject unknown flows, routines and slots at once', async () => {
    const { producer } = setup({ flows: true });
    await expect(producer.exec('nope')).rejects.toBeInstanceOf(FlowNotFoundError);
    const job = await producer.exec('gate', { keepAlive: true });
    await expect(job.post('nobody', 'input', {})).rejects.toBeInstanceOf(UnknownSlotError);
    await expect(job.post('echo', 'output', {})).rejects.toThrow(/has no slot 'output'/);
    await expect(producer.exec('gate', { jobId: 'a:b' })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(producer.exec('gate', { jobId: job.id })).rejects.toThrow(/an id no other job/);
    await expect(producer.exec('gate', { retries: 3 } as never)).rejects.toThrow(/retries/);
  });

  it('a job whose flow no worker knows fails with FlowNotFoundError', async () => {
    const { producer, worker } = setup();
    await worker();
    const job = await producer.exec('unknown_flow', { params: {} });
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('failed');
    expect(state.error).toMatchObject({ name: 'FlowNotFoundError', code: 'FLOW_NOT_FOUND' });
  }, 45_000);

  it('unknown options are rejected with the name of the option', () => {
    expect(() => createWorker({ connection: server.url, flows: fixtures.flows, concurency: 2 } as never)).toThrow(InvalidOptionError);
    expect(() => createDistributedRuntime({ connection: server.url, queue: 'a:b' })).toThrow(/queue/);
  });
});

describe('listJobs and getJob', () => {
  it('read the queue from Redis', async () => {
    const { producer, worker } = setup();
    const done = await producer.exec('gate', { params: { text: 'x' } });
    const open = await producer.exec('gate', { keepAlive: true });
    await worker();
    await done.wait({ timeoutMs: 30_000 });
    expect((await producer.listJobs()).map((j) => j.jobId)).toEqual([done.id, open.id]);
    expect((await producer.listJobs({ status: 'completed' })).map((j) => j.jobId)).toEqual([done.id]);
    const again = await producer.getJob(open.id);
    expect(again?.flowId).toBe('gate');
    expect(await producer.getJob('missing')).toBeUndefined();
    await again?.complete();
    expect((await open.wait({ timeoutMs: 30_000 })).status).toBe('completed');
  }, 45_000);
});
