/**
 * The threads workload, measured in a fresh process (spawned by threads.ts): `threads-child.ts <json>` with the
 * ThreadsParams. Prints progress on stderr and one line `RESULT <json>` (a ThreadsResult) on stdout.
 *
 *   - fan-out: one job forks into 4 CPU-bound branches of ~200 ms each (fixed work, calibrated once on this thread),
 *     joined by allReady; the same flow with the branches inline and on threads (`threads.max` = the CPU count),
 *     interleaved rounds, wall time per job. While the threaded job computes, the main thread's event loop delay is
 *     sampled (perf_hooks.monitorEventLoopDelay, 1 ms resolution); the inline job's is sampled too, for contrast.
 *   - trivial: one job of one trivial routine (n -> n + 1), inline and threaded, jobs in sequence: wall µs per
 *     activation, and the difference (what moving a trivial activation to a thread costs). The pool is warm.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import { burn, sf, trivial, work } from './threads-routines.js';
import { errorText, fullGc, median } from './lib/util.js';

export interface ThreadsParams {
  rounds: number;
  /** Work per branch, in ms of this machine's main thread. */
  branchMs: number;
  /** Trivial jobs per round and mode. */
  trivialJobs: number;
}

export interface ThreadsRound {
  inlineMs: number;
  threadMs: number;
  /** Largest event loop delay (ms) while the threaded / inline job ran. */
  threadLoopMaxMs: number;
  inlineLoopMaxMs: number;
  trivialInlineUs: number;
  trivialThreadUs: number;
}

export interface ThreadsResult {
  cpus: number;
  threadsMax: number;
  iterations: number;
  /** One branch's work, measured alone on the main thread (ms). */
  branchMs: number;
  rounds: ThreadsRound[];
  error?: string;
}

const params = JSON.parse(process.argv[2] ?? '{}') as ThreadsParams;
const progress = (line: string): void => {
  process.stderr.write(`    ${line}\n`);
};

const cpus = os.availableParallelism();
const { createFlow, createRuntime, defineRoutine, event, policies } = sf;

/** Iterations of `burn` that take `ms` on this thread (median of 5 timings of a 20 ms probe). */
function calibrate(ms: number): { iterations: number; branchMs: number } {
  let probe = 100_000;
  for (let t = 0; t < 20; ) {
    const t0 = performance.now();
    burn(probe);
    t = performance.now() - t0;
    if (t < 20) probe *= 2;
  }
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    burn(probe);
    times.push(performance.now() - t0);
  }
  const iterations = Math.round((probe * ms) / median(times));
  const check: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    burn(iterations);
    check.push(performance.now() - t0);
  }
  return { iterations, branchMs: median(check) };
}

const fork = defineRoutine({
  name: 'bench-fork',
  slots: { input: sf.slot<{ iterations: number }>() },
  events: { b0: event<{ iterations: number; branch: number }>(), b1: event<{ iterations: number; branch: number }>(), b2: event<{ iterations: number; branch: number }>(), b3: event<{ iterations: number; branch: number }>() },
  run({ slots, emit }) {
    const iterations = slots.input[0]?.iterations ?? 0;
    emit('b0', { iterations, branch: 0 });
    emit('b1', { iterations, branch: 1 });
    emit('b2', { iterations, branch: 2 });
    emit('b3', { iterations, branch: 3 });
  },
});
const join = defineRoutine({
  name: 'bench-join',
  slots: ['a', 'b', 'c', 'd'],
  events: { out: event<{ checksums: number[] }>() },
  policy: policies.allReady(),
  run({ slots, emit }) {
    emit('out', { checksums: [slots.a, slots.b, slots.c, slots.d].map((s) => Number(s[0]?.checksum)) });
  },
});

function fanout(isolation: 'inline' | 'thread') {
  return createFlow(`fanout-${isolation}`)
    .add('fork', fork)
    .add('w0', work, { isolation })
    .add('w1', work, { isolation })
    .add('w2', work, { isolation })
    .add('w3', work, { isolation })
    .add('join', join)
    .connect('fork.b0', 'w0.input')
    .connect('fork.b1', 'w1.input')
    .connect('fork.b2', 'w2.input')
    .connect('fork.b3', 'w3.input')
    .connect('w0.done', 'join.a')
    .connect('w1.done', 'join.b')
    .connect('w2.done', 'join.c')
    .connect('w3.done', 'join.d')
    .entry('fork', 'input');
}

function single(isolation: 'inline' | 'thread') {
  return createFlow(`trivial-${isolation}`).add('t', trivial, { isolation }).entry('t', 'input');
}

const runtime = createRuntime({ concurrency: 4, threads: { max: cpus } });
const flows = { fanout: { inline: fanout('inline'), thread: fanout('thread') }, single: { inline: single('inline'), thread: single('thread') } };
const result: ThreadsResult = { cpus, threadsMax: cpus, iterations: 0, branchMs: 0, rounds: [] };

async function fanoutJob(isolation: 'inline' | 'thread', iterations: number): Promise<{ ms: number; loopMaxMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  await fullGc();
  histogram.enable();
  // The histogram records the time between two of its ticks: let it tick before the job, or a delay from the
  // job's first step would only start its clock.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const t0 = performance.now();
  const state = await runtime.exec(flows.fanout[isolation], { params: { iterations } }).wait();
  const ms = performance.now() - t0;
  // One more turn of the loop, so that a delay that lasted until the job ended is recorded (inline: the whole job).
  await new Promise((resolve) => setTimeout(resolve, 1));
  histogram.disable();
  if (state.status !== 'completed') throw new Error(`fan-out (${isolation}) ended ${state.status}: ${state.error?.message ?? ''}`);
  const checksums = (state.outputs['join.out']?.[0] as { checksums: number[] } | undefined)?.checksums;
  const expected = burn(iterations);
  if (checksums?.length !== 4 || checksums.some((c) => c !== expected)) throw new Error(`fan-out (${isolation}) computed the wrong checksums`);
  return { ms, loopMaxMs: histogram.max / 1e6 };
}

async function trivialJobs(isolation: 'inline' | 'thread', jobs: number): Promise<number> {
  const flow = flows.single[isolation];
  await fullGc();
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) {
    const state = await runtime.exec(flow, { params: { n: i } }).wait();
    if ((state.outputs['t.out']?.[0] as { n: number } | undefined)?.n !== i + 1) throw new Error(`trivial (${isolation}) computed the wrong result`);
  }
  return ((performance.now() - t0) * 1000) / jobs;
}

try {
  const { iterations, branchMs } = calibrate(params.branchMs);
  result.iterations = iterations;
  result.branchMs = branchMs;
  progress(`one branch: ${iterations.toLocaleString('en')} iterations, ${branchMs.toFixed(0)} ms on the main thread; ${cpus} CPU(s), threads.max ${cpus}`);
  // Warm up: the pool's threads start and import the routines' module; both paths run once.
  await fanoutJob('thread', iterations);
  await fanoutJob('inline', Math.round(iterations / 10));
  await trivialJobs('thread', 50);
  await trivialJobs('inline', 50);
  for (let round = 0; round < params.rounds; round++) {
    const order: ('inline' | 'thread')[] = round % 2 === 0 ? ['inline', 'thread'] : ['thread', 'inline'];
    const fan: Partial<Record<'inline' | 'thread', { ms: number; loopMaxMs: number }>> = {};
    const triv: Partial<Record<'inline' | 'thread', number>> = {};
    for (const mode of order) fan[mode] = await fanoutJob(mode, iterations);
    for (const mode of order) triv[mode] = await trivialJobs(mode, params.trivialJobs);
    const r: ThreadsRound = {
      inlineMs: fan.inline?.ms ?? Number.NaN,
      threadMs: fan.thread?.ms ?? Number.NaN,
      inlineLoopMaxMs: fan.inline?.loopMaxMs ?? Number.NaN,
      threadLoopMaxMs: fan.thread?.loopMaxMs ?? Number.NaN,
      trivialInlineUs: triv.inline ?? Number.NaN,
      trivialThreadUs: triv.thread ?? Number.NaN,
    };
    result.rounds.push(r);
    progress(
      `round ${round + 1}: fan-out inline ${r.inlineMs.toFixed(0)} ms, threads ${r.threadMs.toFixed(0)} ms (${(r.inlineMs / r.threadMs).toFixed(2)}x); ` +
        `loop delay max ${r.threadLoopMaxMs.toFixed(1)} ms (inline ${r.inlineLoopMaxMs.toFixed(0)} ms); trivial ${r.trivialInlineUs.toFixed(0)} / ${r.trivialThreadUs.toFixed(0)} µs`,
    );
  }
} catch (error) {
  result.error = errorText(error);
}
await runtime.shutdown();
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
