/**
 * The producer side against a real redis-server and an in-process worker: control messages sent before any worker
 * holds the job, events replayed to a late subscriber, checks at exec/post, listJobs/getJob, unknown flows.
 */
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowNotFoundError, InvalidOptionError, JobFinishedError, UnknownSlotError } from 'slotflow';
import { createDistributedRuntime, createWorker, JobNotFoundError } from 'slotflow/distributed';
import { useDistributedTest } from './useDistributedTest.js';

const dist = useDistributedTest('p');
const { server, opened } = dist;

describe('control messages', () => {
  it('sent before any worker holds the job are applied in order when one takes it', async () => {
    const { producer, worker } = dist.pair();
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
    const { producer, worker } = dist.pair();
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
    const { producer, worker } = dist.pair();
    await worker();
    const job = await producer.exec('gate', { keepAlive: true });
    await job.cancel('no longer needed');
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('cancelled');
    expect(state.error?.name).toBe('JobCancelledError');
    await expect(job.post('echo', 'input', { text: 'late' })).rejects.toBeInstanceOf(JobFinishedError);
  }, 45_000);
});

describe('control messages that fail on the worker', () => {
  it('reject the caller with the typed error the worker raised (no flows on the producer: no local check)', async () => {
    const { producer, worker } = dist.pair();
    await worker();
    const job = await producer.exec('gate', { keepAlive: true });
    const events = firstValueFrom(job.events$.pipe(toArray()));
    const unknownRoutine = await job.post('nobody', 'input', { text: 'x' }).catch((e: unknown) => e);
    expect(unknownRoutine).toBeInstanceOf(UnknownSlotError);
    expect(unknownRoutine).toMatchObject({ name: 'UnknownSlotError', code: 'UNKNOWN_SLOT' });
    expect((unknownRoutine as Error).message).toContain('nobody');
    const unknownSlot = await job.post('echo', 'output', { text: 'x' }).catch((e: unknown) => e);
    expect(unknownSlot).toBeInstanceOf(UnknownSlotError);
    expect((unknownSlot as Error).message).toMatch(/has no slot 'output'/);
    // The job goes on: a good message after the bad ones is applied, in order.
    await job.post('echo', 'input', { text: 'fine' });
    await job.pause();
    await job.resume();
    await job.complete();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.outputs['echo.said']).toEqual([{ text: 'fine' }]);
    // Nothing dropped silently: each failure is in the job's events too.
    const warnings = (await events).filter((e) => e.type === 'job.warning');
    expect(warnings.map((w) => (w as { code: string }).code)).toEqual(['control.failed', 'control.failed']);
  }, 45_000);

  it('to a finished job: post, complete, pause and resume reject JobFinishedError; cancel stays a no-op', async () => {
    const { producer, worker } = dist.pair();
    await worker();
    const job = await producer.exec('gate', { params: { text: 'once' } });
    expect((await job.wait({ timeoutMs: 30_000 })).status).toBe('completed');
    for (const send of [() => job.post('echo', 'input', { text: 'late' }), () => job.complete(), () => job.pause(), () => job.resume()]) {
      const error = await send().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobFinishedError);
      expect(error).toMatchObject({ jobId: job.id, status: 'completed' });
    }
    await expect(job.cancel('too late')).resolves.toBeUndefined();
    expect((await job.getState())?.status).toBe('completed');
  }, 45_000);

  it('sent while no worker holds the job resolve once stored; a failure when applied is in the job events', async () => {
    const { producer, worker } = dist.pair();
    const job = await producer.exec('gate', { keepAlive: true });
    await job.post('nobody', 'input', { text: 'x' });
    await job.complete();
    await worker();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('completed');
    const events = await firstValueFrom(job.events$.pipe(toArray()));
    const warning = events.find((e) => e.type === 'job.warning');
    expect(warning).toMatchObject({ code: 'control.failed' });
    expect((warning as { message: string }).message).toMatch(/UnknownSlotError/);
  }, 45_000);
});

describe('retention', () => {
  it("a finished job's keys expire after retainFinishedMs, and listJobs forgets it", async () => {
    const { producer, worker, queue } = dist.pair({ retainFinishedMs: 1_500 });
    const redis = new Redis(server.url);
    try {
      await worker();
      const job = await producer.exec('gate', { keepAlive: true });
      await job.post('echo', 'input', { text: 'kept a while' });
      await job.complete();
      expect((await job.wait({ timeoutMs: 30_000 })).status).toBe('completed');
      const keys = [`slotflow:${queue}:job:${job.id}`, `slotflow:${queue}:ev:${job.id}`, `slotflow:${queue}:ctl:${job.id}`, `slotflow:${queue}:re:${job.id}`];
      for (const key of keys) {
        const ttl = await redis.pttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(1_500);
      }
      // Redis expires them on its own clock: wait (generously) until they are gone.
      const deadline = Date.now() + 30_000;
      while ((await redis.exists(...keys)) > 0) {
        if (Date.now() > deadline) throw new Error('the keys did not expire');
        await sleep(200);
      }
      expect(await producer.getJob(job.id)).toBeUndefined();
      await expect(job.post('echo', 'input', { text: 'gone' })).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(job.wait({ timeoutMs: 20_000 })).rejects.toMatchObject({ name: 'JobNotFoundError', code: 'JOB_NOT_FOUND', jobId: job.id });
      // The next job to finish trims the queue's job list.
      const next = await producer.exec('gate', { params: { text: 'next' } });
      await next.wait({ timeoutMs: 30_000 });
      expect((await producer.listJobs()).map((j) => j.jobId)).toEqual([next.id]);
      expect(await redis.zscore(`slotflow:${queue}:jobs`, job.id)).toBeNull();
      // Its id is free again: a new job of that id runs, on the same worker, to its own end.
      const again = await producer.exec('gate', { jobId: job.id, params: { text: 'again' } });
      const state = await again.wait({ timeoutMs: 30_000 });
      expect(state.status).toBe('completed');
      expect(state.outputs['echo.said']).toEqual([{ text: 'again' }]);
    } finally {
      await redis.quit();
    }
  }, 60_000);

  it('retainFinishedMs is checked: a positive integer of ms, or Infinity', () => {
    for (const bad of [0, -1, 1.5, '1000', Number.NaN]) expect(() => createWorker({ connection: server.url, flows: dist.fixtures.flows, retainFinishedMs: bad as never })).toThrow(/retainFinishedMs.*positive integer of milliseconds, or Infinity/);
    const keep = createWorker({ connection: server.url, flows: dist.fixtures.flows, retainFinishedMs: Number.POSITIVE_INFINITY });
    opened.push(keep);
  });
});

describe('events$', () => {
  it('replays a finished job from its start, in order, to a late subscriber', async () => {
    const { producer, worker } = dist.pair();
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
    const { producer } = dist.pair({ flows: true });
    await expect(producer.exec('nope')).rejects.toBeInstanceOf(FlowNotFoundError);
    const job = await producer.exec('gate', { keepAlive: true });
    await expect(job.post('nobody', 'input', {})).rejects.toBeInstanceOf(UnknownSlotError);
    await expect(job.post('echo', 'output', {})).rejects.toThrow(/has no slot 'output'/);
    await expect(producer.exec('gate', { jobId: 'a:b' })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(producer.exec('gate', { jobId: job.id })).rejects.toThrow(/an id no other job/);
    await expect(producer.exec('gate', { retries: 3 } as never)).rejects.toThrow(/retries/);
  });

  it('a job whose flow no worker knows fails with FlowNotFoundError', async () => {
    const { producer, worker } = dist.pair();
    await worker();
    const job = await producer.exec('unknown_flow', { params: {} });
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('failed');
    expect(state.error).toMatchObject({ name: 'FlowNotFoundError', code: 'FLOW_NOT_FOUND' });
  }, 45_000);

  it('unknown options are rejected with the name of the option', () => {
    expect(() => createWorker({ connection: server.url, flows: dist.fixtures.flows, concurency: 2 } as never)).toThrow(InvalidOptionError);
    expect(() => createDistributedRuntime({ connection: server.url, queue: 'a:b' })).toThrow(/queue/);
  });
});

describe('exec', () => {
  it('calls made together are queued together, and each resolves or rejects on its own', async () => {
    const { producer, worker } = dist.pair();
    const taken = await producer.exec('gate', { params: { text: 'first' }, jobId: 'taken' });
    const texts = Array.from({ length: 40 }, (_, i) => `t${String(i)}`);
    const settled = await Promise.allSettled([
      ...texts.map((text) => producer.exec('gate', { params: { text } })),
      producer.exec('gate', { params: { text: 'twice' }, jobId: 'twice' }),
      producer.exec('gate', { params: { text: 'twice again' }, jobId: 'twice' }),
      producer.exec('gate', { params: { text: 'taken again' }, jobId: 'taken' }),
    ]);
    expect(settled.map((s) => s.status)).toEqual([...texts.map(() => 'fulfilled'), 'fulfilled', 'rejected', 'rejected']);
    for (const s of settled.slice(-2)) {
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(InvalidOptionError);
      expect(String((s as PromiseRejectedResult).reason)).toMatch(/an id no other job/);
    }
    const jobs = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
    await worker();
    const states = await Promise.all([taken, ...jobs].map((job) => job.wait({ timeoutMs: 30_000 })));
    // Every job ran once, with its own params (the refused calls changed nothing).
    expect(states.map((st) => st.outputs['echo.said'])).toEqual([[{ text: 'first' }], ...texts.map((text) => [{ text }]), [{ text: 'twice' }]]);
    expect((await producer.listJobs({ status: 'completed' })).length).toBe(42);
  }, 60_000);

  it('an id BullMQ still holds a job of (one it failed, kept after slotflow forgot it) is refused, not silently dropped', async () => {
    const { queue, producer } = dist.pair();
    const redis = new Redis(server.url);
    try {
      // BullMQ's record of a job 'kept' that slotflow has no record of (as a failed job's, after slotflow's expired).
      await redis.hset(`bull:${queue}:kept`, 'name', 'gate', 'data', '{}');
      await expect(producer.exec('gate', { jobId: 'kept' })).rejects.toThrow(/an id no other job of this queue has/);
      expect(await producer.getJob('kept')).toBeUndefined();
    } finally {
      await redis.quit();
    }
  }, 30_000);

  it('more calls at once than one batch holds are all queued, once each', async () => {
    const { queue, producer } = dist.pair();
    const jobs = await Promise.all(Array.from({ length: 1_100 }, (_, i) => producer.exec('gate', { params: { text: String(i) } })));
    expect(new Set(jobs.map((job) => job.id)).size).toBe(1_100);
    expect((await producer.listJobs()).map((job) => job.jobId).sort()).toEqual(jobs.map((job) => job.id).sort());
    // Every one is in BullMQ's queue too, waiting for a worker.
    const redis = new Redis(server.url);
    try {
      expect(await redis.llen(`bull:${queue}:wait`)).toBe(1_100);
    } finally {
      await redis.quit();
    }
  }, 60_000);
});

describe('listJobs and getJob', () => {
  it('read the queue from Redis', async () => {
    const { producer, worker } = dist.pair();
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
