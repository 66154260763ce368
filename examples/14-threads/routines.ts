/**
 * The CPU-bound routine of examples/14-threads.ts. It lives in a module of its own because a worker thread imports
 * the module named by `module: import.meta.url`: a module with top-level program code would run it in every thread.
 */
import { defineRoutine, event, slot } from 'slotflow';

/** Scores a chunk of documents: deterministic, CPU-heavy work (~100 ms per chunk on a laptop core). */
function scoreChunk(seed: number, documents: number): number {
  let total = 0;
  for (let d = 0; d < documents; d++) {
    let h = (seed * 31 + d) >>> 0;
    for (let i = 0; i < 20_000; i++) h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    total = (total + (h % 1000)) % 1_000_000;
  }
  return total;
}

export const score = defineRoutine({
  name: 'score',
  slots: { chunk: slot<{ chunk: number; documents: number }>() },
  events: { scored: event<{ chunk: number; score: number }>() },
  isolation: 'thread', // each activation runs on a worker thread of the runtime's pool
  module: import.meta.url, // the module the worker imports to find `score`
  run({ slots, emit }) {
    for (const { chunk, documents } of slots.chunk) emit('scored', { chunk, score: scoreChunk(chunk, documents) });
  },
});
