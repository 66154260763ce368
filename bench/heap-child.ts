/**
 * Heap allocated per unit of work, in a fresh process (spawned by heap.ts with a 256 MB young generation, see
 * HEAP_EXEC_ARGV there): `heap-child.ts <contender> <cycleTarget> <samples> <warmupMs>`. For the chain (bytes per job)
 * and the cycle (bytes per job of `cycleTarget` iterations) of one contender.
 *
 * Method: V8 on Node 20 has no allocation counter and GC cannot be turned off, but with a young generation far
 * larger than what a measured run allocates, no GC runs during it, and then the growth of `heapUsed` is exactly
 * what was allocated on the JS heap (nothing is freed without a GC). Each sample: a full GC, then `heapUsed`
 * before and after `k` jobs, with V8's GCProfiler watching; `k` is sized to allocate ~64 MB (a quarter of the
 * young generation). A sample during which any GC ran is thrown away and retried with half the jobs; if one job
 * alone does not fit (a peer's 1,000-iteration cycle), the sample is corrected instead: each GC's `used` before
 * minus after is added back (what it freed), and the result is flagged `corrected`.
 * Prints progress on stderr and one line `RESULT <json>` on stdout.
 */
import v8 from 'node:v8';
import { CONTENDER_KEYS, loadContender, type ContenderKey } from './contenders/index.js';
import { warmUp } from './lib/measure.js';
import type { Session } from './lib/types.js';
import type { HeapResult, HeapSample } from './heap.js';
import { fullGc, hasGc, median } from './lib/util.js';

const [key, targetText, samplesText, warmupText] = process.argv.slice(2);
const cycleTarget = Number(targetText);
const sampleCount = Number(samplesText);
const warmupMs = Number(warmupText);
const BUDGET = 64 * 2 ** 20;

async function one(session: Session, jobs: number): Promise<{ bytes: number; gcs: number; freed: number }> {
  await fullGc();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  await session.run(jobs);
  const after = process.memoryUsage().heapUsed;
  const { statistics } = profiler.stop();
  const freed = statistics.reduce((sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize, 0);
  return { bytes: after - before, gcs: statistics.length, freed };
}

async function measureHeap(session: Session): Promise<HeapSample> {
  await session.verify();
  await warmUp(session, { warmupMs, minWarmUnits: 2, roundMs: 10, minCount: 1, maxCount: 1, timeoutMs: 120_000 });
  const probe = await one(session, 1);
  let jobs = Math.max(1, Math.min(20_000, Math.floor(BUDGET / Math.max(1, probe.bytes + probe.freed))));
  const samples: number[] = [];
  let corrected = false;
  for (let tries = 0; samples.length < sampleCount && tries < sampleCount + 8; tries++) {
    const run = await one(session, jobs);
    if (run.gcs === 0) samples.push(run.bytes / jobs);
    else if (jobs > 1) jobs = Math.max(1, jobs >> 1);
    else {
      samples.push((run.bytes + run.freed) / jobs);
      corrected = true;
    }
  }
  return { bytesPerJob: median(samples), samples, jobs, corrected };
}

async function main(): Promise<void> {
  if (!hasGc) throw new Error('run with node --expose-gc');
  if (!CONTENDER_KEYS.includes(key as ContenderKey)) throw new Error(`unknown contender '${key}'`);
  const contender = await loadContender(key as ContenderKey);
  const result: HeapResult = { skipped: {} };
  for (const workload of ['chain', 'cycle'] as const) {
    const opening = workload === 'chain' ? contender.chain?.() : contender.cycle?.(cycleTarget);
    if (opening === undefined) {
      result.skipped[workload] = contender.skip?.[workload] ?? `no ${workload} implementation`;
      continue;
    }
    const session = await opening;
    try {
      result[workload] = await measureHeap(session);
      process.stderr.write(`    ${contender.name} ${workload}: ${(result[workload].bytesPerJob / 1024).toFixed(1)} KB per job\n`);
    } finally {
      await session.close();
    }
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
