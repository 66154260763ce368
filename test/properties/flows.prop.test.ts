import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine } from 'slotflow';
import { buildDag, dagSpec, runDagJob, type DagSpec } from '../helpers/dag.js';

async function runDag(spec: DagSpec) {
  const { flow, counts } = buildDag(spec);
  const runtime = createRuntime({ concurrency: spec.concurrency, historyLimit: 100_000 });
  const state = await runDagJob(runtime, flow, spec, counts);
  return { state, counts };
}

describe('property: random DAG flows', () => {
  it('conserve payloads (delivered == consumed + pending; unconnected emits == outputs) and always complete', async () => {
    await fc.assert(
      fc.asyncProperty(dagSpec, async (spec) => {
        const { state, counts } = await runDag(spec);
        expect(state.status).toBe('completed');
        let consumed = 0;
        for (const record of state.history) {
          expect(record.outcome).toBe('ok');
          for (const n of Object.values(record.consumed)) consumed += n;
        }
        let pending = 0;
        for (const routine of Object.values(state.routines)) {
          expect(routine.status).not.toBe('running');
          for (const queue of Object.values(routine.pending)) pending += queue.length;
        }
        expect(consumed + pending).toBe(counts.deliveries);
        let outputs = 0;
        for (const list of Object.values(state.outputs)) outputs += list.length;
        expect(outputs).toBe(counts.unconnected);
      }),
      { numRuns: 60 },
    );
  });

  it('leave nothing a policy would still take: every leftover is below its policy threshold', async () => {
    await fc.assert(
      fc.asyncProperty(dagSpec, async (spec) => {
        const { state } = await runDag(spec);
        spec.routines.forEach((r, i) => {
          const pending = state.routines[`r${i}`]?.pending ?? {};
          const lengths = Array.from({ length: r.slots }, (_, s) => pending[`in${s}`]?.length ?? 0);
          if (r.policy.kind === 'immediate') expect(lengths.every((l) => l === 0)).toBe(true);
          else {
            const n = r.policy.kind === 'batch' ? r.policy.n : 1;
            expect(lengths.every((l) => l >= n)).toBe(false);
          }
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe('property: bounded cycles', () => {
  it('iterations == min(convergence point, maxIterations), converged iff it converged within the bound', async () => {
    const optimizer = defineRoutine({
      name: 'optimizer',
      slots: ['in'],
      events: { next: ['x'] },
      run({ slots, emit }) {
        for (const p of slots.in) emit('next', { x: (p.x as number) + 1 });
      },
    });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 25 }), async (maxIterations, point) => {
        const flow = createFlow('cycle')
          .add('opt', optimizer)
          .connect('opt.next', 'opt.in', { maxIterations, until: (payload) => (payload.x as number) > point });
        const state = await createRuntime().exec(flow, { params: { x: 0 } }).wait({ timeoutMs: 10_000 });
        expect(state.status).toBe('completed');
        expect(state.cycles['opt.next->opt.in']).toEqual({ iterations: Math.min(point, maxIterations), converged: point <= maxIterations });
        expect(state.routines.opt!.activations).toBe(Math.min(point, maxIterations) + 1);
      }),
      { numRuns: 100 },
    );
  });
});
