/**
 * Property: cancel, pause and resume reach every subflow's child job, at any moment. Jobs of a flow nesting
 * subflows two deep (whose routines wait on the test clock for random times) get random pause / resume / cancel
 * calls at random times, under random `concurrency` and `maxJobs`. Whenever a job is paused none of its descendants
 * runs; in the end no descendant is left unfinished, a completed job's descendants all completed, and a cancelled
 * job's descendants either completed before it or were cancelled with it (none failed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asRoutine, createFlow, defineRoutine, isFinalStatus, type Job, type Runtime } from 'slotflow';
import { createTestRuntime } from 'slotflow/testing';

interface Op {
  readonly afterMs: number;
  readonly job: number;
  readonly kind: 'pause' | 'resume' | 'cancel';
}

const spec = fc.record({
  concurrency: fc.integer({ min: 1, max: 3 }),
  maxJobs: fc.integer({ min: 1, max: 2 }),
  jobs: fc.integer({ min: 1, max: 3 }),
  items: fc.integer({ min: 1, max: 3 }),
  delays: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }),
  ops: fc.array(fc.record({ afterMs: fc.integer({ min: 0, max: 60 }), job: fc.nat({ max: 2 }), kind: fc.constantFrom<Op['kind']>('pause', 'resume', 'cancel') }), { maxLength: 8 }),
});

function descendants(rt: Runtime, id: string): Job[] {
  return rt.listJobs({ parentId: id }).flatMap((child) => [child, ...descendants(rt, child.id)]);
}

describe('subflows: cancel, pause and resume propagation', () => {
  it('leaves no child running and gives every child its parent’s final status semantics', async () => {
    await fc.assert(
      fc.asyncProperty(spec, async (s) => {
        await using rt = createTestRuntime({ concurrency: s.concurrency, maxJobs: s.maxJobs });
        const slow = defineRoutine({
          name: 'slow',
          slots: ['in'],
          events: { out: ['v'] },
          async run({ slots, signal, emit }) {
            for (const { v } of slots.in) {
              await rt.clock.sleep(s.delays[Number(v) % s.delays.length] ?? 0, signal);
              emit('out', { v });
            }
          },
        });
        const source = defineRoutine({
          name: 'source',
          slots: ['start'],
          events: { out: ['v'] },
          run({ emit }) {
            for (let v = 0; v < s.items; v++) emit('out', { v });
          },
        });
        const inner = createFlow('inner').add('a', slow).add('b', slow).connect('a.out', 'b.in');
        const middle = createFlow('middle')
          .add('inner', asRoutine(inner, { name: 'innerSub', slots: { in: 'a.in' }, events: { out: 'b.out' } }))
          .add('after', slow)
          .connect('inner.out', 'after.in');
        const outer = createFlow('outer').add('source', source).add('middle', asRoutine(middle, { name: 'middleSub', slots: { in: 'inner.in' }, events: { out: 'after.out' } })).connect('source.out', 'middle.in');

        const jobs = Array.from({ length: s.jobs }, () => rt.exec(outer, { params: {} }));
        for (const op of s.ops) {
          await rt.clock.advance(op.afterMs);
          const job = jobs[op.job % jobs.length] as Job;
          if (op.kind === 'pause') job.pause();
          else if (op.kind === 'resume') job.resume();
          else job.cancel('told to');
          await rt.settle();
          for (const j of jobs)
            if (j.status === 'paused') for (const d of descendants(rt, j.id)) expect(['paused', 'completed', 'cancelled'], `${d.id} of paused ${j.id}`).toContain(d.status);
        }
        for (const job of jobs) job.resume();
        for (let turns = 0; jobs.some((j) => !isFinalStatus(j.status)); turns++) {
          expect(turns, 'jobs still unfinished').toBeLessThan(500);
          await rt.clock.advance(50);
        }
        for (const job of jobs) {
          const state = await job.wait();
          const below = descendants(rt, job.id);
          for (const d of below) expect(isFinalStatus(d.status), `${d.id} is ${d.status}`).toBe(true);
          if (state.status === 'completed') {
            expect(below.every((d) => d.status === 'completed')).toBe(true);
            expect(state.outputs['middle.out']).toHaveLength(s.items);
          } else {
            expect(state.status).toBe('cancelled');
            for (const d of below) expect(d.status).not.toBe('failed');
          }
        }
        expect(rt.running).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
