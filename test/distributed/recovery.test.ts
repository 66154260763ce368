/**
 * Workers in real processes on a real redis-server: a SIGKILLed worker's job finishes on another worker from its
 * last checkpoint; a frozen worker that lost its lock cannot overwrite the new owner's work; close() hands jobs over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDistributedRuntime, type DistributedRuntime } from 'slotflow/distributed';
import { useRedisServer } from './useRedisServer.js';
import { forkWorker, killAll } from './workers.js';
import { STEPS } from './fixtures/flows.js';

const server = useRedisServer();
let redis: Redis;
let producer: DistributedRuntime;
let queueNo = 0;

beforeAll(() => {
  redis = new Redis(server.url);
});

afterEach(async () => {
  await producer.close();
  await killAll();
});

afterAll(async () => {
  await redis.quit();
});

function queue(): string {
  producer = createDistributedRuntime({ connection: server.url, queue: `q${String(++queueNo)}` });
  return `q${String(queueNo)}`;
}

/** Activation counts of one job, by step. */
async function counts(jobId: string): Promise<Record<string, number>> {
  const raw = await redis.hgetall(`sfx:${jobId}`);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/** Waits (generously) until `step` of the job has started. */
async function untilStarted(jobId: string, step: string, budgetMs = 45_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while ((await redis.hget(`sfx:${jobId}`, step)) === null) {
    if (Date.now() > deadline) throw new Error(`${step} of job ${jobId} never started`);
    await sleep(20);
  }
}

/** Every step ran, once; only the activation in flight at the interruption may have run twice. */
/** Until the job's stored checkpoint holds `activations` finished steps. */
async function untilCheckpointed(job: { getState(): Promise<{ routines: Record<string, { activations: number } | undefined> } | undefined> }, activations: number, budgetMs = 45_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (((await job.getState())?.routines.step?.activations ?? 0) < activations) {
    if (Date.now() > deadline) throw new Error(`the checkpoint never held ${activations} activations`);
    await sleep(20);
  }
}

function expectOnceExceptInFlight(seen: Record<string, number>): void {
  for (let n = 1; n <= STEPS; n++) expect(seen[`step${String(n)}`], `step${String(n)}`).toBeGreaterThanOrEqual(1);
  const twice = Object.entries(seen).filter(([, count]) => count > 1);
  expect(twice.length, JSON.stringify(seen)).toBeLessThanOrEqual(1);
  for (const [, count] of twice) expect(count).toBe(2);
  expect(seen.done).toBe(1);
}

describe('a worker killed with SIGKILL', () => {
  it('loses nothing: another worker finishes the job from its checkpoint, finished steps not run again', async () => {
    const q = queue();
    const a = forkWorker(server.url, q, 250);
    await a.ready;
    const job = await producer.exec('chain', { params: { n: 1 } });
    await untilStarted(job.id, 'step4');
    await sleep(100);
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    const b = forkWorker(server.url, q, 250);
    await b.ready;
    const state = await job.wait({ timeoutMs: 60_000 });
    expect(state.status).toBe('completed');
    expect(state.outputs['done.result']).toEqual([{ steps: STEPS }]);
    const seen = await counts(job.id);
    expectOnceExceptInFlight(seen);
    // Steps 1-3 finished (and were checkpointed) before the kill: never again.
    for (const n of [1, 2, 3]) expect(seen[`step${String(n)}`]).toBe(1);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 90_000);
});

describe('a worker that stalls past its lock', () => {
  it('cannot overwrite the new owner: its copy is aborted and the job completes once', async () => {
    const q = queue();
    const a = forkWorker(server.url, q, 250);
    await a.ready;
    const job = await producer.exec('chain', { params: { n: 1 } });
    await untilStarted(job.id, 'step3');
    // Frozen: its lock (2 s) expires; the stalled check of the other worker takes the job over.
    a.child.kill('SIGSTOP');
    const b = forkWorker(server.url, q, 250);
    await b.ready;
    await untilStarted(job.id, 'step5');
    a.child.kill('SIGCONT');
    const state = await job.wait({ timeoutMs: 60_000 });
    expect(state.status).toBe('completed');
    expect(state.outputs['done.result']).toEqual([{ steps: STEPS }]);
    // The stale worker's writes were fenced: the stream has one final event, the stored state is the new owner's.
    const events: { type: string }[] = [];
    job.events$.subscribe((e) => events.push(e));
    await job.wait({ timeoutMs: 10_000 });
    await sleep(200);
    expect(events.filter((e) => e.type === 'job.completed')).toHaveLength(1);
    expect((await counts(job.id)).done).toBe(1);
    a.child.send('close');
    const stats = await a.closed;
    expect(stats.completed).toBe(0);
    expect(stats.released).toBeGreaterThanOrEqual(1);
    b.child.send('close');
    await Promise.all([a.exited, b.exited]);
  }, 90_000);
});

describe('worker.close()', () => {
  it('checkpoints its running job and hands it over: completed once, no step lost', async () => {
    const q = queue();
    const a = forkWorker(server.url, q, 250);
    await a.ready;
    const job = await producer.exec('chain', { params: { n: 1 } });
    await untilStarted(job.id, 'step4');
    a.child.send('close');
    const stats = await a.closed;
    expect(stats.released).toBeGreaterThanOrEqual(1);
    expect(await a.exited).toBe(0);
    expect((await job.getState())?.status).toBe('running');
    const b = forkWorker(server.url, q, 250);
    await b.ready;
    const state = await job.wait({ timeoutMs: 60_000 });
    expect(state.status).toBe('completed');
    expect(state.outputs['done.result']).toEqual([{ steps: STEPS }]);
    expectOnceExceptInFlight(await counts(job.id));
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 90_000);
});

describe('a job whose workers die more often than maxStalledCount', () => {
  it('fails with JobStalledError: wait, getState and events$ settle', async () => {
    const q = queue();
    const a = forkWorker(server.url, q, 250);
    await a.ready;
    const job = await producer.exec('chain', { params: { n: 1 } });
    await untilStarted(job.id, 'step3');
    // step3 starting says step2 ended, not that its checkpoint reached Redis yet (another connection writes it).
    await untilCheckpointed(job, 2);
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    // No take-over allowed: BullMQ fails the job at its first stall, and the worker that finds it writes its end.
    const b = forkWorker(server.url, q, 250, { maxStalledCount: 0 });
    await b.ready;
    const events: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      job.events$.subscribe({ next: (e) => events.push(e.type), complete: resolve, error: reject });
    });
    const state = await job.wait({ timeoutMs: 60_000 });
    expect(state.status).toBe('failed');
    expect(state.error).toMatchObject({ name: 'JobStalledError', code: 'JOB_STALLED' });
    expect(state.error?.message).toContain('maxStalledCount');
    // The state is the last checkpoint's, ended: the steps that finished before the kill are in it.
    expect(state.routines.step?.activations).toBeGreaterThanOrEqual(2);
    expect((await job.getState())?.status).toBe('failed');
    expect(await job.status()).toBe('failed');
    await ended;
    expect(events.at(-1)).toBe('job.failed');
    // Never run again after the kill: the job was not handed to b.
    expect((await counts(job.id)).step4).toBeUndefined();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 90_000);
});
