/**
 * A job is checkpointed once per turn of the event loop in which it changed, as the turn ends: the activations of
 * one turn make one save, and a job that ends in the turn it started is never saved unfinished.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFlow, createMemoryStore, defineRoutine, type CheckpointStore, type JobSnapshot } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { chain } from './chainFlow.js';

const runtime = useRuntimes();

/** A memory store that records each call, with a copy of each snapshot saved. */
function recordingStore() {
  const inner = createMemoryStore();
  const calls: string[] = [];
  const saved: JobSnapshot[] = [];
  const store: CheckpointStore = {
    save(snapshot) {
      calls.push('save');
      saved.push(structuredClone(snapshot));
      return inner.save(snapshot);
    },
    load: (id) => inner.load(id),
    listUnfinished: () => inner.listUnfinished(),
    delete(id) {
      calls.push('delete');
      return inner.delete(id);
    },
  };
  return { store, calls, saved };
}

describe('checkpoints per turn', () => {
  it('a job that ends in the turn it started is deleted once, never saved', async () => {
    const { flow, calls: steps } = chain();
    const { store, calls } = recordingStore();
    const rt = runtime({ store });
    const job = rt.exec(flow, { params: { n: 1 } });
    await job.wait();
    await job.checkpoint();
    expect(steps).toEqual(['a:1', 'b:2', 'c:3']);
    expect(calls).toEqual(['delete']);
  });

  it('with retainFinished, such a job is saved once, finished', async () => {
    const { flow } = chain();
    const { store, calls, saved } = recordingStore();
    const rt = runtime({ store, retainFinished: true });
    const job = rt.exec(flow, { params: { n: 1 } });
    await job.wait();
    await job.checkpoint();
    expect(calls).toEqual(['save']);
    expect(saved[0]).toMatchObject({ status: 'completed', outputs: { 'c.out': [{ n: 4 }] } });
  });

  it('the activations of one turn make one save, taken after the last of them', async () => {
    const { flow, holds } = chain();
    const gate = deferred();
    holds.set('c', gate);
    const { store, calls, saved } = recordingStore();
    const rt = runtime({ store });
    const job = rt.exec(flow, { params: { n: 1 } });
    await job.checkpoint();
    // a and b ran and c started in the first turn: one save holds all of it.
    expect(calls).toEqual(['save']);
    expect(saved[0]?.history.map((h) => h.routineId)).toEqual(['a', 'b']);
    expect(saved[0]?.routines.c).toMatchObject({ machine: 'running' });
    gate.resolve();
    await job.wait();
    await job.checkpoint();
    expect(calls).toEqual(['save', 'delete']);
  });

  it('a turn in which the job did not change saves nothing', async () => {
    const { flow, holds } = chain();
    const gate = deferred();
    holds.set('b', gate);
    const { store, calls } = recordingStore();
    const rt = runtime({ store });
    const job = rt.exec(flow, { params: { n: 1 } });
    await job.checkpoint();
    await flush(5);
    expect(calls).toEqual(['save']);
    gate.resolve();
    await job.wait();
  });

  it('property: at most one save per turn; each save restores to the same outputs as the uninterrupted run', async () => {
    // A chain of steps, some of which wait for the next turn before emitting.
    const run = async (waits: readonly boolean[], n: number) => {
      const step = (index: number) =>
        defineRoutine({
          name: `s${String(index)}`,
          slots: ['in'],
          events: { out: ['n'] },
          async run({ slots, emit }) {
            for (const { n: value } of slots.in as { n: number }[]) {
              if (waits[index]) await flush(1);
              emit('out', { n: value * 2 + index });
            }
          },
        });
      let flow = createFlow('turns').add('s0', step(0));
      for (let i = 1; i < waits.length; i++) flow = flow.add(`s${String(i)}`, step(i)).connect(`s${String(i - 1)}.out`, `s${String(i)}.in`);
      const last = `s${String(waits.length - 1)}.out`;
      const recorded = recordingStore();
      const rt = runtime({ store: recorded.store, retainFinished: true });
      const job = rt.exec(flow, { params: { n } });
      const state = await job.wait();
      await job.checkpoint();
      // The flow's type grows with each step added; its outputs are read by a name built at run time.
      return { flow, last, state, outputs: state.outputs as Readonly<Record<string, unknown>>, ...recorded };
    };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 1_000 }), async (waits, n) => {
        const { flow, last, state, outputs, calls, saved } = await run(waits, n);
        expect(state.status).toBe('completed');
        // The job changes in its first turn and in each turn a waiting step resumes in: no more saves than that.
        expect(calls.length).toBeLessThanOrEqual(waits.filter(Boolean).length + 1);
        expect(saved.at(-1)?.status).toBe('completed');
        const progress = saved.map((s) => s.history.length);
        expect(progress).toEqual([...progress].sort((x, y) => x - y));
        // Every save is a consistent cut: restored in a fresh runtime, the job ends with the same outputs.
        for (const snapshot of saved.filter((s) => s.status === 'running')) {
          const restored = runtime().register(flow).restore(snapshot);
          expect(((await restored.wait()).outputs as Readonly<Record<string, unknown>>)[last]).toEqual(outputs[last]);
        }
      }),
      { numRuns: 40 },
    );
  });
});
