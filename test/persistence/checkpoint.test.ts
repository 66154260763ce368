/**
 * A runtime with a `store` checkpoints every job after it changes, and `recover()` resumes what a crashed process
 * left unfinished (SPEC 5).
 */
import { describe, expect, it, vi } from 'vitest';
import { CheckpointError, createFlow, createMemoryStore, defineRoutine, InvalidOptionError, type CheckpointStore, type JobSnapshot } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { chain } from './chainFlow.js';

const runtime = useRuntimes();

describe('checkpointing', () => {
  it('saves a job as it runs and deletes it when it finishes', async () => {
    const { flow, holds } = chain();
    const gate = deferred();
    holds.set('b', gate);
    const store = createMemoryStore();
    const rt = runtime({ store });
    const job = rt.exec(flow, { params: { n: 1 } });
    await job.checkpoint();
    const saved = (await store.load(job.id)) as JobSnapshot;
    expect(saved.status).toBe('running');
    expect(saved.routines.b).toMatchObject({ machine: 'running', inflight: { consumed: { in: [{ n: 2 }] } } });
    expect(saved.history.map((h) => h.routineId)).toEqual(['a']);
    expect(await store.listUnfinished()).toEqual([job.id]);
    gate.resolve();
    await job.wait();
    await job.checkpoint();
    expect(store.size).toBe(0);
  });

  it('coalesces changes: one save per step, never one per change', async () => {
    const burst = defineRoutine({
      name: 'burst',
      slots: ['in'],
      events: { out: ['i'] },
      run({ emit }) {
        for (let i = 0; i < 100; i++) emit('out', { i });
      },
    });
    const sink = defineRoutine({ name: 'sink', slots: ['in'], run: () => undefined });
    const flow = createFlow('burst').add('burst', burst).add('sink', sink, { maxQueue: 1_000 }).connect('burst.out', 'sink.in');
    const store = createMemoryStore();
    const rt = runtime({ store, retainFinished: true });
    const job = rt.exec(flow, { params: {} });
    await job.wait();
    await job.checkpoint();
    expect(store.saves).toBeLessThan(10);
    expect(((await store.load(job.id)) as JobSnapshot).status).toBe('completed');
  });

  it('keeps the final snapshot with retainFinished, out of listUnfinished', async () => {
    const { flow } = chain();
    const store = createMemoryStore();
    const rt = runtime({ store, retainFinished: true });
    const job = rt.exec(flow, { params: { n: 1 } });
    await job.wait();
    await job.checkpoint();
    const saved = (await store.load(job.id)) as JobSnapshot;
    expect(saved).toMatchObject({ status: 'completed', outputs: { 'c.out': [{ n: 4 }] } });
    expect(await store.listUnfinished()).toEqual([]);
  });

  it('reports a failing store and goes on; checkpoint() rejects with the CheckpointError', async () => {
    const { flow } = chain();
    const failing: CheckpointStore = {
      save: () => Promise.reject(new Error('disk full')),
      load: () => Promise.resolve(undefined),
      listUnfinished: () => Promise.resolve([]),
      delete: () => Promise.resolve(),
    };
    const onCheckpointError = vi.fn();
    const rt = runtime({ store: failing, onCheckpointError });
    const job = rt.exec(flow, { params: { n: 1 }, keepAlive: true });
    await expect(job.checkpoint()).rejects.toThrow(CheckpointError);
    await expect(job.checkpoint()).resolves.toBeUndefined(); // nothing changed since: nothing to save
    job.complete();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    const error = onCheckpointError.mock.calls[0]?.[0] as CheckpointError;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(/failed to save job '.+': disk full/);
  });

  it('rejects a store that is not one', () => {
    expect(() => runtime({ store: {} as CheckpointStore })).toThrow(InvalidOptionError);
  });

  it('waits for pending saves on shutdown', async () => {
    const { flow } = chain();
    const saved: string[] = [];
    const slow: CheckpointStore = {
      save: async (snapshot) => {
        await flush(1);
        saved.push(snapshot.status);
      },
      load: () => Promise.resolve(undefined),
      listUnfinished: () => Promise.resolve([]),
      delete: async () => {
        await flush(1);
        saved.push('deleted');
      },
    };
    const rt = runtime({ store: slow });
    rt.exec(flow, { params: { n: 1 } });
    await rt.shutdown({ wait: true });
    expect(saved.at(-1)).toBe('deleted');
  });
});

describe('runtime.recover()', () => {
  it('resumes every unfinished job of the store in a new runtime', async () => {
    const { flow, calls, holds } = chain();
    holds.set('b', deferred());
    const store = createMemoryStore();
    const crashed = runtime({ store });
    const jobs = [crashed.exec(flow, { params: { n: 1 } }), crashed.exec(flow, { params: { n: 10 } })];
    await Promise.all(jobs.map((j) => j.checkpoint()));
    // The process "dies": its jobs never finish, the store keeps their last checkpoints.
    holds.clear();
    calls.length = 0;

    const fresh = runtime({ store });
    fresh.register(flow);
    const recovered = await fresh.recover();
    expect(recovered.map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(recovered.skipped).toEqual([]);
    const states = await Promise.all(recovered.map((j) => j.wait()));
    expect(states.map((s) => s.outputs['c.out'])).toEqual(expect.arrayContaining([[{ n: 4 }], [{ n: 13 }]]));
    // a ran before the crash and was checkpointed: it does not run again; b was in flight: it does.
    expect(calls.filter((c) => c.startsWith('a'))).toEqual([]);
    expect(calls.sort()).toEqual(['b:11', 'b:2', 'c:12', 'c:3']);
    await fresh.shutdown({ wait: true });
    expect(store.size).toBe(0);
    await crashed.shutdown();
  });

  it('reports a job whose flow is not registered and leaves it in the store', async () => {
    const { flow, holds } = chain();
    holds.set('a', deferred());
    const store = createMemoryStore();
    const crashed = runtime({ store });
    const job = crashed.exec(flow, { params: { n: 1 } });
    await job.checkpoint();

    const fresh = runtime({ store });
    const recovered = await fresh.recover();
    expect(recovered).toHaveLength(0);
    expect(recovered.skipped).toHaveLength(1);
    expect(recovered.skipped[0]?.jobId).toBe(job.id);
    expect(recovered.skipped[0]?.error.message).toMatch(/flow 'chain' is not registered/);
    expect(await store.listUnfinished()).toEqual([job.id]);
    await crashed.shutdown();
  });

  it('needs a store', async () => {
    await expect(runtime().recover()).rejects.toThrow(InvalidOptionError);
  });
});
