/**
 * Persistence edge cases: queued and restored jobs waiting for a place, overdue deadlines, suspended shutdowns,
 * reused job ids, and snapshots that pass the first checks but not the restore.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createMemoryStore, defineRoutine, SnapshotError, type CheckpointStore, type JobEvent, type JobSnapshot } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { chain } from './chainFlow.js';

const runtime = useRuntimes();
const viaJson = (snapshot: JobSnapshot): JobSnapshot => JSON.parse(JSON.stringify(snapshot)) as JobSnapshot;

/** A job of `chain()` held with `b` in flight, snapshotted. */
async function heldSnapshot(options: { timeoutMs?: number; clock?: ManualClock } = {}) {
  const c = chain();
  c.holds.set('b', deferred());
  const rt = runtime(options.clock ? { clock: options.clock } : {});
  const job = rt.exec(c.flow, { params: { n: 1 }, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
  await flush();
  const snapshot = viaJson(job.snapshot());
  await rt.shutdown();
  c.holds.clear();
  c.calls.length = 0;
  return { ...c, snapshot };
}

describe('jobs waiting for a maxJobs place', () => {
  it('a post into a queued job runs nothing until the job is admitted, and nothing it leads to is lost', async () => {
    const { flow, calls, holds } = chain();
    holds.set('a', deferred());
    const rt = runtime({ maxJobs: 1 });
    const first = rt.exec(flow, { params: { n: 100 } });
    const queued = rt.exec(flow, { keepAlive: true });
    queued.post('a', 'in', { n: 1 });
    await flush();
    expect(queued.status).toBe('queued');
    expect(calls).toEqual(['a:100']);
    holds.clear();
    first.cancel();
    await flush();
    queued.complete();
    const state = await queued.wait();
    expect(state.outputs).toEqual({ 'c.out': [{ n: 4 }] });
    expect(calls).toEqual(['a:100', 'a:1', 'b:2', 'c:3']);
  });

  it('a restored job waiting for its place shows and checkpoints what its snapshot holds', async () => {
    const { flow, snapshot, calls } = await heldSnapshot();
    const store = createMemoryStore();
    const block = defineRoutine({ name: 'block', slots: ['in'], run: () => new Promise<void>(() => undefined) });
    const rt = runtime({ maxJobs: 1, store });
    rt.register(flow);
    rt.exec(createFlow('blocker').add('block', block), { params: {} });
    const restored = rt.restore(snapshot);
    await restored.checkpoint();
    expect(restored.status).toBe('queued');
    expect(restored.state.history.map((h) => h.routineId)).toEqual(['a']);
    const saved = (await store.load(snapshot.jobId)) as JobSnapshot;
    expect(saved).toMatchObject({ admitted: true, routines: { b: { machine: 'running', inflight: { consumed: { in: [{ n: 2 }] } } } } });
    expect(saved.history).toHaveLength(1);
    expect(calls).toEqual([]);
  });
});

describe('restore', () => {
  it('fails a job whose deadline passed before the restore, without running anything again', async () => {
    const clock = new ManualClock();
    const { flow, snapshot, calls } = await heldSnapshot({ timeoutMs: 100, clock });
    const later = new ManualClock(500);
    const job = runtime({ clock: later }).exec(flow, { from: snapshot });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(job.error?.name).toBe('JobTimeoutError');
    expect(calls).toEqual([]);
  });

  it('restores a log longer than a call takes arguments', async () => {
    const { flow, snapshot } = await heldSnapshot();
    const big = Array.from({ length: 200_000 }, (_, i) => i);
    const rt = runtime();
    rt.register(flow);
    const job = rt.restore({ ...snapshot, log: big, routines: { ...snapshot.routines, c: { machine: 'idle', state: undefined, activations: 0, errors: 0, queues: { in: [] } } } });
    expect(job.state.log).toHaveLength(200_000);
    expect((await job.wait()).status).toBe('completed');
  });

  it('a snapshot that fails while being restored leaves no job behind', async () => {
    const { flow, snapshot } = await heldSnapshot();
    const rt = runtime();
    rt.register(flow);
    const bad = { ...snapshot, history: [null] } as unknown as JobSnapshot;
    expect(() => rt.restore(bad)).toThrow(SnapshotError);
    expect(() => rt.restore({ ...snapshot, outputs: { 'c.out': 5 } } as unknown as JobSnapshot)).toThrow(/'outputs.c.out' must be an array/);
    expect(() => rt.restore({ ...snapshot, initial: { routine: 'zz', slot: 'in', payload: {} }, admitted: false })).toThrow(/no slot 'zz.in'/);
    expect(rt.listJobs()).toEqual([]);
    // The good snapshot still restores under the same id.
    expect((await rt.restore(snapshot).wait()).status).toBe('completed');
  });

  it('passes the parsed snapshot to migrateSnapshot, also when given JSON text', async () => {
    const { flow, snapshot } = await heldSnapshot();
    const rt = runtime({ migrateSnapshot: (raw) => ({ ...(raw as JobSnapshot), flowId: 'chain' }) });
    rt.register(flow);
    expect(rt.restore(JSON.stringify({ ...snapshot, flowId: 'old' })).flowId).toBe('chain');
  });

  it('keeps historyLimit 0 at zero records', async () => {
    const { flow, snapshot } = await heldSnapshot();
    const state = await runtime({ historyLimit: 0 }).exec(flow, { from: snapshot }).wait();
    expect(state.history).toEqual([]);
  });

  it('does not announce a restored backoff as a new retry', async () => {
    let fail = true;
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: { retry: { max: 1, backoffMs: 100 } },
      run() {
        if (fail) throw new Error('once');
      },
    });
    const flow = createFlow('flaky').add('flaky', flaky);
    const clock = new ManualClock();
    const first = runtime({ clock });
    const job = first.exec(flow, { params: {} });
    await clock.advance(0);
    const snapshot = viaJson(job.snapshot());
    expect(snapshot.routines.flaky?.machine).toBe('backoff');
    await first.shutdown();
    fail = false;
    const second = runtime({ clock });
    const events: JobEvent['type'][] = [];
    second.events$.subscribe((e) => events.push(e.type));
    const restored = second.exec(flow, { from: snapshot });
    await clock.advance(100);
    await restored.wait();
    expect(events).not.toContain('routine.retrying');
    expect(events).toContain('routine.completed');
  });
});

describe('stores and runtimes', () => {
  it('shutdown({ suspend: true }) keeps unfinished jobs in the store for recover()', async () => {
    const { flow, holds, calls } = chain();
    holds.set('b', deferred());
    const store = createMemoryStore();
    const worker = runtime({ store });
    const job = worker.exec(flow, { params: { n: 1 } });
    await job.checkpoint();
    await worker.shutdown({ suspend: true });
    expect(job.status).toBe('cancelled');
    expect(await store.listUnfinished()).toEqual([job.id]);
    expect(((await store.load(job.id)) as JobSnapshot).status).toBe('running');

    holds.clear();
    const next = runtime({ store });
    next.register(flow);
    const [recovered] = await next.recover();
    expect((await recovered?.wait())?.outputs).toEqual({ 'c.out': [{ n: 4 }] });
    expect(calls).toEqual(['a:1', 'b:2', 'b:2', 'c:3']);
  });

  it('shutdown({ suspend: true }) needs a store', async () => {
    await expect(runtime().shutdown({ suspend: true })).rejects.toThrow(/a runtime created with a store/);
  });

  it('a job id used again never loses the live job to the old job’s late delete', async () => {
    const saved = new Map<string, JobSnapshot>();
    const slowDelete = deferred();
    const store: CheckpointStore = {
      save: (s) => {
        saved.set(s.jobId, s);
        return Promise.resolve();
      },
      load: (id) => Promise.resolve(saved.get(id)),
      listUnfinished: () => Promise.resolve([...saved.keys()]),
      delete: async (id) => {
        await slowDelete.promise;
        saved.delete(id);
      },
    };
    const { flow, holds } = chain();
    const rt = runtime({ store, retain: 0 });
    await rt.exec(flow, { params: { n: 1 }, jobId: 'order-42' }).wait();
    holds.set('b', deferred());
    const again = rt.exec(flow, { params: { n: 5 }, jobId: 'order-42' });
    await flush();
    slowDelete.resolve();
    await again.checkpoint();
    expect(saved.get('order-42')?.status).toBe('running');
    holds.clear();
    again.cancel();
  });

  it('two recover() calls at once restore each job once and both return it', async () => {
    const { flow, holds } = chain();
    holds.set('b', deferred());
    const store = createMemoryStore();
    const crashed = runtime({ store });
    await crashed.exec(flow, { params: { n: 1 } }).checkpoint();
    const rt = runtime({ store });
    rt.register(flow);
    const [one, two] = await Promise.all([rt.recover(), rt.recover()]);
    expect(one.map((j) => j.id)).toEqual(two.map((j) => j.id));
    expect(one[0]).toBe(two[0]);
    expect([...one.skipped, ...two.skipped]).toEqual([]);
    holds.clear();
  });
});
