/**
 * The routines of the threads workload (bench/threads-child.ts). Their module is what each worker thread imports
 * (`module: import.meta.url`), so it loads slotflow the way the measuring process does: the built package under
 * SLOTFLOW_BENCH_BUILD=dist (workers inherit the environment), else the source.
 */
type Slotflow = typeof import('slotflow');

const fromDist = process.env.SLOTFLOW_BENCH_BUILD === 'dist';
const sf = fromDist ? ((await import(new URL('../dist/index.js', import.meta.url).href)) as Slotflow) : await import('slotflow');
const { defineRoutine, event } = sf;

/** Deterministic CPU work: `iterations` rounds of integer mixing (no allocation, nothing to optimise away). */
export function burn(iterations: number): number {
  let x = 0x9e3779b9;
  for (let i = 0; i < iterations; i++) x = Math.imul(x ^ (x >>> 15) ^ i, 0x2c1b3c6d) >>> 0;
  return x;
}

/** One CPU-bound branch: `iterations` of work, then its checksum. */
export const work = defineRoutine({
  name: 'bench-work',
  slots: { input: sf.slot<{ iterations: number; branch: number }>() },
  events: { done: event<{ branch: number; checksum: number }>() },
  isolation: 'thread',
  module: import.meta.url,
  run({ slots, emit }) {
    for (const { iterations, branch } of slots.input) emit('done', { branch, checksum: burn(iterations) });
  },
});

/** A trivial activation: n -> n + 1. */
export const trivial = defineRoutine({
  name: 'bench-trivial',
  slots: { input: sf.slot<{ n: number }>() },
  events: { out: event<{ n: number }>() },
  isolation: 'thread',
  module: import.meta.url,
  run({ slots, emit }) {
    for (const { n } of slots.input) emit('out', { n: n + 1 });
  },
});

export { sf };
