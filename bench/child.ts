/**
 * One memory measurement in a fresh process (spawned by run.ts): `child.ts scale <contender> <n>` or
 * `child.ts soak <contender> <jobs>`. A fresh process per measurement keeps RSS and heap figures clean of every
 * other contender. Prints progress on stderr and one line `RESULT <json>` on stdout.
 */
import { CONTENDER_KEYS, loadContender, type ContenderKey } from './contenders/index.js';
import { cpuMicros, fullGc, hasGc } from './lib/util.js';

export interface ScaleResult {
  n: number;
  rssPerJob: number;
  heapPerJob: number;
  rssTotal: number;
  heapTotal: number;
  openMs: number;
  activeTimers: number;
  postCpuUsPerJob: number;
  postWallMs: number;
  completeCpuUsPerJob: number;
  completeWallMs: number;
}

export interface SoakResult {
  jobs: number;
  heapStart: number;
  heapEnd: number;
  growthPercent: number;
  /** Heap after GC at every tenth of the run. */
  checkpoints: number[];
  jobsPerCpuSecond: number;
  wallMs: number;
}

const [workload, key, countText] = process.argv.slice(2);
const count = Number(countText);

function report(result: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

async function scale(n: number): Promise<ScaleResult> {
  const contender = await loadContender(key as ContenderKey);
  if (contender.scale === undefined) throw new Error(`${contender.name} has no scale implementation`);
  // load and JIT the contender's code on a small population, so the measured delta is the jobs alone
  const warm = await contender.scale(Math.min(100, n));
  await warm.postAll();
  await warm.completeAll();
  await warm.close();
  await fullGc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const handle = await contender.scale(n);
  const openMs = performance.now() - t0;
  await fullGc();
  const after = process.memoryUsage();
  // an idle job holds no timer: count the timers alive while every job waits
  const activeTimers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  let cpu0 = process.cpuUsage();
  let w0 = performance.now();
  await handle.postAll();
  const postCpu = cpuMicros(cpu0);
  const postWallMs = performance.now() - w0;
  cpu0 = process.cpuUsage();
  w0 = performance.now();
  await handle.completeAll();
  const completeCpu = cpuMicros(cpu0);
  const completeWallMs = performance.now() - w0;
  await handle.close();
  return {
    n,
    rssPerJob: (after.rss - before.rss) / n,
    heapPerJob: (after.heapUsed - before.heapUsed) / n,
    rssTotal: after.rss,
    heapTotal: after.heapUsed,
    openMs,
    activeTimers,
    postCpuUsPerJob: postCpu / n,
    postWallMs,
    completeCpuUsPerJob: completeCpu / n,
    completeWallMs,
  };
}

async function soak(jobs: number): Promise<SoakResult> {
  const contender = await loadContender(key as ContenderKey);
  if (contender.throughput === undefined) throw new Error(`${contender.name} has no throughput implementation`);
  const session = await contender.throughput({ inFlight: 1000 });
  await session.verify();
  // warm up past the runtime's retention of finished jobs (slotflow keeps the last 1,000 by default)
  await session.run(Math.min(2_000, jobs));
  await fullGc();
  const heapStart = process.memoryUsage().heapUsed;
  const checkpoints: number[] = [];
  const chunk = Math.ceil(jobs / 10);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  let cpuInGc = 0;
  for (let done = 0; done < jobs; done += chunk) {
    await session.run(Math.min(chunk, jobs - done));
    const g0 = process.cpuUsage();
    await fullGc();
    cpuInGc += cpuMicros(g0);
    checkpoints.push(process.memoryUsage().heapUsed);
    process.stderr.write(`    ${key} soak: ${Math.min(done + chunk, jobs)} jobs, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB\n`);
  }
  const cpu = cpuMicros(cpu0) - cpuInGc;
  const wallMs = performance.now() - w0;
  const heapEnd = checkpoints.at(-1) ?? heapStart;
  await session.close();
  return {
    jobs,
    heapStart,
    heapEnd,
    growthPercent: ((heapEnd - heapStart) / heapStart) * 100,
    checkpoints,
    jobsPerCpuSecond: jobs / (cpu / 1e6),
    wallMs,
  };
}

async function main(): Promise<void> {
  if (!hasGc) throw new Error('run with node --expose-gc');
  if (!CONTENDER_KEYS.includes(key as ContenderKey)) throw new Error(`unknown contender '${key}'`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`bad count '${countText}'`);
  if (workload === 'scale') report(await scale(count));
  else if (workload === 'soak') report(await soak(count));
  else throw new Error(`unknown workload '${workload}'`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
