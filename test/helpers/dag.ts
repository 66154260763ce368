/**
 * Random DAG flows for property tests: specs (routines with 1-2 slots, immediate/batch/allReady policies, sync or
 * async runs that emit 0-2 payloads, random edges from lower to higher index) and the flows built from them.
 */
import fc from 'fast-check';
import { createFlow, defineRoutine, policies, type ActivationPolicy, type FlowBuilder, type Runtime, type RoutineMap } from 'slotflow';

export type PolicySpec = { kind: 'immediate' } | { kind: 'batch'; n: number } | { kind: 'allReady' };

export interface RoutineSpec {
  readonly slots: number;
  readonly policy: PolicySpec;
  readonly async: boolean;
  readonly delay: number;
  /** Payloads emitted on `out` per activation. */
  readonly emits: number;
  /** Also emit one payload on the never-connected `side` event. */
  readonly side: boolean;
}

export interface DagSpec {
  readonly routines: readonly RoutineSpec[];
  readonly edges: readonly { readonly from: number; readonly to: number; readonly slot: number }[];
  readonly posts: readonly { readonly to: number; readonly slot: number }[];
  readonly concurrency: number;
}

const policySpec: fc.Arbitrary<PolicySpec> = fc.oneof(
  fc.constant<PolicySpec>({ kind: 'immediate' }),
  fc.integer({ min: 1, max: 3 }).map((n): PolicySpec => ({ kind: 'batch', n })),
  fc.constant<PolicySpec>({ kind: 'allReady' }),
);

const routineSpec: fc.Arbitrary<RoutineSpec> = fc.record({
  slots: fc.integer({ min: 1, max: 2 }),
  policy: policySpec,
  async: fc.boolean(),
  delay: fc.integer({ min: 0, max: 4 }),
  emits: fc.integer({ min: 0, max: 2 }),
  side: fc.boolean(),
});

export const dagSpec: fc.Arbitrary<DagSpec> = fc.integer({ min: 2, max: 8 }).chain((n) =>
  fc
    .record({
      routines: fc.array(routineSpec, { minLength: n, maxLength: n }),
      rawEdges: fc.array(fc.record({ a: fc.nat(), b: fc.nat(), slot: fc.nat() }), { maxLength: 14 }),
      rawPosts: fc.array(fc.record({ to: fc.nat(), slot: fc.nat() }), { minLength: 1, maxLength: 16 }),
      concurrency: fc.integer({ min: 1, max: 4 }),
    })
    .map(({ routines, rawEdges, rawPosts, concurrency }) => {
      // Edges only go from a lower to a higher index: a DAG, with random fan-out and fan-in.
      const seen = new Set<string>();
      const edges: { from: number; to: number; slot: number }[] = [];
      for (const { a, b, slot } of rawEdges) {
        const x = a % n;
        const y = b % n;
        if (x === y) continue;
        const from = Math.min(x, y);
        const to = Math.max(x, y);
        const s = slot % (routines[to] as RoutineSpec).slots;
        const key = `${from}-${to}-${s}`;
        if (seen.has(key)) continue;
        seen.add(key);
        edges.push({ from, to, slot: s });
      }
      const posts = rawPosts.map(({ to, slot }) => ({ to: to % n, slot: slot % (routines[to % n] as RoutineSpec).slots }));
      return { routines, edges, posts, concurrency };
    }),
);

function makePolicy(spec: PolicySpec): ActivationPolicy {
  if (spec.kind === 'immediate') return policies.immediate();
  if (spec.kind === 'batch') return policies.batch(spec.n);
  return policies.allReady();
}

/** Caps what any one routine emits in a job, so fan-out cannot blow up. */
const EMIT_CAP = 25;

/** The flow of a spec, and the counts its routines keep as they emit (shared by every job of that flow). */
export function buildDag(spec: DagSpec) {
  const counts = { deliveries: 0, unconnected: 0 };
  const fanout = spec.routines.map((_, i) => spec.edges.filter((e) => e.from === i).length);
  let flow = createFlow('dag') as unknown as FlowBuilder<RoutineMap>;
  spec.routines.forEach((r, i) => {
    let emitted = 0;
    let activation = 0;
    const routine = defineRoutine({
      name: `r${i}`,
      slots: Array.from({ length: r.slots }, (_, s) => `in${s}`),
      events: { out: ['i'], side: ['i'] },
      run({ emit }) {
        const body = () => {
          for (let k = 0; k < r.emits && emitted < EMIT_CAP; k++, emitted++) {
            if (fanout[i] === 0) counts.unconnected++;
            else counts.deliveries += fanout[i] as number;
            emit('out', { i });
          }
          if (r.side) {
            counts.unconnected++;
            emit('side', { i });
          }
        };
        const delay = (r.delay + activation++) % 5;
        if (!r.async) {
          body(); // a sync run
          return undefined;
        }
        return (async () => {
          for (let k = 0; k < delay; k++) await Promise.resolve();
          body();
        })();
      },
    });
    flow = flow.add(`r${i}` as never, routine, { policy: makePolicy(r.policy) });
  });
  for (const e of spec.edges) flow = flow.connect(`r${e.from}.out` as never, `r${e.to}.in${e.slot}` as never);

  return { flow, counts };
}

/** Runs one keepAlive job of `flow`: every post of the spec (interleaved with activations), then complete(). */
export async function runDagJob(runtime: Runtime, flow: FlowBuilder<RoutineMap>, spec: DagSpec, counts: { deliveries: number }) {
  const job = runtime.exec(flow, { keepAlive: true });
  for (const p of spec.posts) {
    job.post(`r${p.to}`, `in${p.slot}`, { posted: true });
    counts.deliveries++;
    if (p.to % 2 === 0) await Promise.resolve(); // interleave posts with running activations
  }
  job.complete();
  const state = await job.wait({ timeoutMs: 10_000 });
  return state;
}
