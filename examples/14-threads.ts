/**
 * Threads: a CPU-bound routine (`isolation: 'thread'`) runs each activation on a worker thread, so several compute
 * in parallel and the main thread's event loop stays free meanwhile. The same flow runs twice: with the scoring
 * routine inline (`flow.add(..., { isolation: 'inline' })`) and on threads; a 10 ms heartbeat timer on the main
 * thread shows how long the event loop was blocked each time.
 */
import { createFlow, createRuntime, defineRoutine, event, policies } from 'slotflow';
import { score } from './14-threads/routines.js';

const CHUNKS = 4;
const DOCUMENTS = 1_500;

const split = defineRoutine({
  name: 'split',
  slots: ['corpus'],
  events: { c0: event<{ chunk: number; documents: number }>(), c1: event<{ chunk: number; documents: number }>(), c2: event<{ chunk: number; documents: number }>(), c3: event<{ chunk: number; documents: number }>() },
  run({ emit }) {
    for (const chunk of [0, 1, 2, 3] as const) emit(`c${chunk}`, { chunk, documents: DOCUMENTS });
  },
});

const total = defineRoutine({
  name: 'total',
  slots: ['s0', 's1', 's2', 's3'],
  events: { total: event<{ score: number }>() },
  policy: policies.allReady(),
  run({ slots, emit }) {
    const all = [slots.s0, slots.s1, slots.s2, slots.s3].flat();
    emit('total', { score: all.reduce((sum, p) => sum + Number(p.score), 0) });
  },
});

function scoringFlow(isolation: 'inline' | 'thread') {
  return createFlow(`scoring-${isolation}`)
    .add('split', split)
    .add('score0', score, { isolation })
    .add('score1', score, { isolation })
    .add('score2', score, { isolation })
    .add('score3', score, { isolation })
    .add('total', total)
    .connect('split.c0', 'score0.chunk')
    .connect('split.c1', 'score1.chunk')
    .connect('split.c2', 'score2.chunk')
    .connect('split.c3', 'score3.chunk')
    .connect('score0.scored', 'total.s0')
    .connect('score1.scored', 'total.s1')
    .connect('score2.scored', 'total.s2')
    .connect('score3.scored', 'total.s3')
    .entry('split', 'corpus');
}

await using runtime = createRuntime({ concurrency: 4 });
runtime.register(scoringFlow('inline')).register(scoringFlow('thread'));

/** Runs one job; returns its total, its wall time, and the longest gap between two ticks of a 10 ms timer. */
async function run(isolation: 'inline' | 'thread') {
  let last = performance.now();
  let longestGap = 0;
  const heartbeat = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  const state = await runtime.exec(`scoring-${isolation}`, { params: {} }).wait();
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 15));
  clearInterval(heartbeat);
  if (state.status !== 'completed') throw new Error(`the ${isolation} job ${state.status}: ${state.error?.message ?? ''}`);
  return { score: (state.outputs['total.total']?.[0] as { score: number }).score, seconds, longestGap };
}

// The first threaded job also starts the pool's threads, each importing the routine's module: warm them up.
await run('thread');

console.log(`=== ${CHUNKS} chunks scored inline (the main thread) ===`);
const inline = await run('inline');
console.log(`total score: ${inline.score}`);
console.log(`time: ${inline.seconds.toFixed(2)}s, event loop blocked up to ${inline.longestGap.toFixed(0)} ms`);

console.log(`=== the same on worker threads ===`);
const threaded = await run('thread');
console.log(`total score: ${threaded.score}`);
console.log(`time: ${threaded.seconds.toFixed(2)}s, event loop blocked up to ${threaded.longestGap.toFixed(0)} ms`);

console.log(`same result: ${threaded.score === inline.score ? 'yes' : 'no'}`);
console.log(`speed-up: ${(inline.seconds / threaded.seconds).toFixed(1)}x`);
// Generous margins: the exact figures depend on the machine and its load.
console.log(`main thread stayed responsive on threads: ${threaded.longestGap < inline.longestGap / 2 ? 'yes' : 'no'}`);
