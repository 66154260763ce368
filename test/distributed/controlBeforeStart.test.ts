/**
 * Control messages sent before any worker holds the job, to a job that would end within its first turn: the worker
 * that takes it applies them, in order, as the job starts, before any routine runs (a real redis-server, an
 * in-process worker). `gate` with params runs `echo` once at start and completes at once.
 */
import { filter, firstValueFrom, toArray } from 'rxjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useDistributedTest } from './useDistributedTest.js';

const dist = useDistributedTest('early');

describe('control messages sent before any worker holds a job that ends at once', () => {
  it('cancel: the job ends cancelled and its first routine never ran', async () => {
    const { producer, worker } = dist.pair();
    const job = await producer.exec('gate', { params: { text: 'never' } });
    await job.cancel('called off before start');
    expect(await job.status()).toBe('queued');
    await worker();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('cancelled');
    expect(state.error).toMatchObject({ name: 'JobCancelledError' });
    expect(state.outputs['echo.said']).toBeUndefined();
    expect(state.history).toEqual([]);
    expect(state.routines.echo?.activations ?? 0).toBe(0);
  }, 45_000);

  it('pause: the job stays paused, having run nothing, until resume()', async () => {
    const { producer, worker } = dist.pair();
    const job = await producer.exec('gate', { params: { text: 'held' } });
    await job.pause();
    const paused = firstValueFrom(job.events$.pipe(filter((e) => e.type === 'job.paused')));
    await worker();
    await paused;
    // Its event can be written before its status: wait for that too (no time limit but the test's).
    while ((await job.status()) !== 'paused') await sleep(20);
    // Nothing ran, so nothing was checkpointed yet: there is no state to read, only the stored status.
    expect(await job.getState()).toBeUndefined();
    await job.resume();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('completed');
    expect(state.outputs['echo.said']).toEqual([{ text: 'held' }]);
    expect(state.history.map((h) => h.routineId)).toEqual(['echo']);
    // Paused before anything ran, resumed once: no routine ran in between.
    const types = (await firstValueFrom(job.events$.pipe(toArray()))).map((e) => e.type);
    const at = (type: (typeof types)[number]): number => types.indexOf(type);
    expect(at('job.paused')).toBeGreaterThan(-1);
    expect(at('job.paused')).toBeLessThan(at('job.resumed'));
    expect(types.slice(0, at('job.resumed')).some((t) => t.startsWith('routine.') || t === 'event.emitted')).toBe(false);
    expect(types.filter((t) => t === 'job.warning')).toEqual([]);
  }, 45_000);

  it('post: the posted payloads are consumed, in order, after the params', async () => {
    const { producer, worker } = dist.pair();
    const job = await producer.exec('gate', { params: { text: 'params' } });
    await job.post('echo', 'input', { text: 'first post' });
    await job.post('echo', 'input', { text: 'second post' });
    await worker();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe('completed');
    expect(state.outputs['echo.said']).toEqual([{ text: 'params' }, { text: 'first post' }, { text: 'second post' }]);
    const events = await firstValueFrom(job.events$.pipe(toArray()));
    expect(events.filter((e) => e.type === 'job.warning')).toEqual([]);
  }, 45_000);
});
