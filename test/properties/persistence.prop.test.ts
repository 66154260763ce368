/**
 * Property: a job snapshotted at any point between steps, taken through JSON and restored in a fresh runtime,
 * ends with the same outputs and per-routine state as the same job run without interruption. (Routines here emit
 * only when their activation ends, so re-running an in-flight activation duplicates nothing.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, policies, type JobSnapshot, type JobState } from 'slotflow';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';

interface Harness {
  /** Activations waiting for the test to let them finish. */
  readonly held: Deferred[];
  /** When false, activations finish at once. */
  hold: boolean;
}

function pipeline(h: Harness, batch: number) {
  const wait = () => {
    if (!h.hold) return Promise.resolve();
    const d = deferred();
    h.held.push(d);
    return d.promise;
  };
  const split = defineRoutine({
    name: 'split',
    slots: ['in'],
    events: { item: ['v'] },
    async run({ slots, emit }) {
      const items = slots.in.flatMap(({ n }) => Array.from({ length: n as number }, (_, v) => v));
      await wait();
      for (const v of items) emit('item', { v });
    },
  });
  const square = defineRoutine({
    name: 'square',
    slots: ['in'],
    events: { out: ['v'] },
    initialState: { seen: 0 },
    async run({ slots, emit, setState }) {
      const values = slots.in.map(({ v }) => v as number);
      await wait();
      setState((s) => {
        s.seen += values.length;
      });
      for (const v of values) emit('out', { v: v * v });
    },
  });
  const sum = defineRoutine({
    name: 'sum',
    slots: ['in'],
    events: { total: ['total', 'count'] },
    async run({ slots, emit }) {
      const values = slots.in.map(({ v }) => v as number);
      await wait();
      emit('total', { total: values.reduce((a, b) => a + b, 0), count: values.length });
    },
  });
  return createFlow('squares')
    .add('split', split)
    .add('square', square)
    .add('sum', sum, { policy: policies.batch(batch) })
    .connect('split.item', 'square.in')
    .connect('square.out', 'sum.in');
}

const summary = (state: JobState) => ({
  status: state.status,
  totals: [...(state.outputs['sum.total'] ?? [])].map((p) => JSON.stringify(p)).sort(),
  pending: state.routines.sum?.pending,
  seen: state.routines.square?.state,
});

describe('property: snapshot and restore', () => {
  it('a job restored from any snapshot point ends as the uninterrupted job does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 8 }), fc.boolean(), async (n, batch, steps, pause) => {
        const reference: Harness = { held: [], hold: false };
        const plain = createRuntime({ concurrency: 2 });
        const expected = summary(await plain.exec(pipeline(reference, batch), { params: { n } }).wait());
        await plain.shutdown();

        // Run for `steps` releases, then snapshot (optionally paused) and abandon the first runtime.
        const h: Harness = { held: [], hold: true };
        const first = createRuntime({ concurrency: 2 });
        const job = first.exec(pipeline(h, batch), { params: { n } });
        for (let i = 0; i < steps; i++) {
          await flush();
          const next = h.held.shift();
          if (!next) break;
          next.resolve();
        }
        await flush();
        if (['completed', 'failed', 'cancelled'].includes(job.status)) {
          await first.shutdown();
          expect(summary(job.state)).toEqual(expected);
          return;
        }
        if (pause) job.pause();
        await flush();
        const snapshot = JSON.parse(JSON.stringify(job.snapshot())) as JobSnapshot;
        await first.shutdown();

        const second = createRuntime({ concurrency: 2 });
        const restored = second.exec(pipeline({ held: [], hold: false }, batch), { from: snapshot });
        if (pause) restored.resume();
        const state = await restored.wait({ timeoutMs: 10_000 });
        await second.shutdown();
        expect(summary(state)).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });
});
