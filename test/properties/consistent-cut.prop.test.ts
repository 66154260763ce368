/**
 * Property: every snapshot of a job is a consistent cut. Random DAG flows whose routines emit several times per
 * activation (sync, or awaiting between emits so a cut lands mid-activation) are snapshotted at every microtask
 * turn, on every job event and at every checkpoint a store is asked to save; each distinct snapshot, taken
 * through JSON and restored in a fresh runtime, must end with the outputs, routine states, activation counts and
 * emission counts of the uninterrupted job: no result twice, none lost.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFlow, createMemoryStore, createRuntime, defineRoutine, policies, type CheckpointStore, type FlowBuilder, type JobSnapshot, type JobState, type RoutineMap } from 'slotflow';

interface NodeSpec {
  /** Emissions per consumed item. */
  readonly emits: number;
  readonly async: boolean;
  /** Items per activation (`immediate` takes whatever is queued, so its activation count depends on timing). */
  readonly batch: number;
}

interface CutSpec {
  readonly nodes: readonly NodeSpec[];
  readonly edges: readonly (readonly [number, number])[];
  readonly items: number;
  readonly concurrency: number;
}

const cutSpec: fc.Arbitrary<CutSpec> = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    nodes: fc.array(fc.record({ emits: fc.integer({ min: 1, max: 3 }), async: fc.boolean(), batch: fc.integer({ min: 1, max: 2 }) }), { minLength: n, maxLength: n }),
    // Lower to higher index only (a DAG); node 0 is the entry.
    edges: fc.uniqueArray(fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 })).filter(([a, b]) => a < b), { maxLength: 4, selector: ([a, b]) => `${a}-${b}` }),
    items: fc.integer({ min: 1, max: 3 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
  }),
);

function build(spec: CutSpec) {
  // Built from data: the names are not known to the type system.
  let flow = createFlow('cut') as unknown as FlowBuilder<RoutineMap>;
  spec.nodes.forEach((node, i) => {
    const routine = defineRoutine({
      name: `n${i}`,
      slots: ['in'],
      events: { out: ['v'] },
      initialState: { count: 0 },
      async run({ slots, emit, setState }) {
        // The entry gets `{ items }` as params; the others get `{ v }` payloads.
        const values = slots.in.flatMap((p) => ('items' in p ? Array.from({ length: p.items as number }, (_, k) => k) : [p.v as number]));
        for (const v of values)
          for (let j = 0; j < node.emits; j++) {
            setState((s) => {
              s.count += 1;
            });
            emit('out', { v: v * 10 + j + i });
            if (node.async) await Promise.resolve();
          }
      },
    });
    flow = flow.add(`n${i}` as never, routine, { policy: policies.batch(node.batch) });
  });
  for (const [a, b] of spec.edges) flow = flow.connect(`n${a}.out` as never, `n${b}.in` as never);
  return flow;
}

/** What must not depend on where the job was cut (orders of concurrent deliveries may). */
function summary(state: JobState) {
  const outputs = Object.fromEntries(Object.entries(state.outputs).map(([key, list]) => [key, list.map((p) => JSON.stringify(p)).sort()]));
  const routines = Object.fromEntries(Object.entries(state.routines).map(([id, r]) => [id, { state: r.state, activations: r.activations, pending: Object.values(r.pending).flat().length }]));
  const emitted: Record<string, number> = {};
  for (const record of state.history) emitted[record.routineId] = (emitted[record.routineId] ?? 0) + Object.values(record.emitted).reduce((a, b) => a + b, 0);
  return { status: state.status, outputs, routines, emitted };
}

/** A store that keeps a JSON copy of every snapshot it is asked to save. */
function recordingStore(saved: JobSnapshot[]): CheckpointStore {
  const inner = createMemoryStore();
  return {
    save: async (snapshot) => {
      saved.push(JSON.parse(JSON.stringify(snapshot)) as JobSnapshot);
      await inner.save(snapshot);
    },
    load: (id) => inner.load(id),
    listUnfinished: () => inner.listUnfinished(),
    delete: (id) => inner.delete(id),
  };
}

describe('property: every checkpoint is a consistent cut', () => {
  it('restoring any snapshot of a job, mid-activation included, ends as the uninterrupted job does (with actor reuse, without it, under inspect)', async () => {
    let midActivation = 0;
    const modes = fc.constantFrom<Parameters<typeof createRuntime>[0]>({}, { reuseActors: 0 }, { inspect: () => undefined });
    await fc.assert(
      fc.asyncProperty(cutSpec, modes, async (spec, mode) => {
        const plain = createRuntime({ concurrency: spec.concurrency });
        const expected = summary(await plain.exec(build(spec), { params: { items: spec.items } }).wait());
        await plain.shutdown();

        const saved: JobSnapshot[] = [];
        const first = createRuntime({ ...mode, concurrency: spec.concurrency, store: recordingStore(saved) });
        const job = first.exec(build(spec), { params: { items: spec.items } });
        const take = () => {
          if (!['completed', 'failed', 'cancelled'].includes(job.status)) saved.push(JSON.parse(JSON.stringify(job.snapshot())) as JobSnapshot);
        };
        const events = job.events$.subscribe(take);
        const run = { done: false };
        const finished = job.wait().finally(() => (run.done = true));
        for (let turn = 0; !run.done && turn < 5_000; turn++) {
          take();
          await (turn % 20 === 19 ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve());
        }
        expect(summary(await finished)).toEqual(expected);
        events.unsubscribe();
        await first.shutdown();

        const distinct = [...new Map(saved.filter((s) => !['completed', 'failed', 'cancelled'].includes(s.status)).map((s) => [JSON.stringify({ ...s, savedAt: 0 }), s])).values()];
        for (const snapshot of distinct) {
          if (Object.values(snapshot.routines).some((r) => (r.inflight?.delivered ?? 0) > 0)) midActivation++;
          const second = createRuntime({ ...mode, concurrency: spec.concurrency });
          const state = await second.exec(build(spec), { from: snapshot }).wait({ timeoutMs: 10_000 });
          await second.shutdown();
          expect(summary(state)).toEqual(expected);
        }
      }),
      { numRuns: 35 },
    );
    // The cuts that matter happened: snapshots holding an activation between its emits and its end.
    expect(midActivation).toBeGreaterThan(0);
  });
});
