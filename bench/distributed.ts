/**
 * The distributed workload (run.ts `--only distributed`): jobs through slotflow/distributed on a real redis-server.
 *
 * - throughput: jobs/s through 2 worker processes (concurrency 10 each, on every side) for 3-routine jobs,
 *   checkpointed after each turn in which an activation changed them, against raw BullMQ workers doing the same 3
 *   steps in one processor, same Redis, same run, rounds rotating the contenders (medians of per-round ratios). Each round starts a fresh pair of
 *   workers and measures twice: cold (their first jobs, which pay V8 compiling the code) and warm (after warm-up
 *   blocks, until worker CPU per job settles: a long-running worker). Enqueueing is part of the time for all, in
 *   batches of 100 (BullMQ's `addBulk`; slotflow's `exec` calls of one turn, which leave as one batch). A third
 *   contender, BullMQ workers running the same flow in a local slotflow runtime without a store, separates the
 *   engine's own cost from what checkpointing into Redis adds.
 * - checkpoint cost: worker CPU per activation of slotflow/distributed above the local runtime in a BullMQ worker
 *   (fenced saves, event relay, final write), EVALSHA calls per job and Redis-side µs each (INFO commandstats).
 * - recovery: SIGKILL the worker running a job (steps of 200 ms), time until another worker runs its next
 *   activation, with the default lockDurationMs / stalledIntervalMs (5 s / 2 s); median of 5.
 * Needs `redis-server` on PATH (skipped otherwise). Workers run the built package (dist/) unless run.ts has `--src`.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createDistributedRuntime } from 'slotflow/distributed';
import { startRedis } from '../test/distributed/redisServer.js';
import { median } from './lib/util.js';
import type { Order } from './distributed-worker.js';

export const DISTRIBUTED = 'distributed';

const script = fileURLToPath(new URL('./distributed-worker.ts', import.meta.url));

interface Spawned {
  readonly child: ChildProcess;
  cpuUs(): number;
}

type Mode = 'slotflow' | 'raw' | 'local';

/**
 * Under SLOTFLOW_BENCH_BUILD=dist (run.ts without `--src`) the workers run the built package, as users do: tsx then
 * reads a tsconfig without the repository's `paths` (made here, once), so that dist/distributed.js's own
 * `import 'slotflow'` resolves to dist/index.js and not to the source.
 */
let workerEnv: NodeJS.ProcessEnv | undefined;
function builtWorkerEnv(): NodeJS.ProcessEnv {
  if (workerEnv) return workerEnv;
  if (process.env.SLOTFLOW_BENCH_BUILD !== 'dist') return (workerEnv = process.env);
  const dir = mkdtempSync(join(os.tmpdir(), 'slotflow-bench-'));
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  process.once('exit', () => { rmSync(dir, { recursive: true, force: true }); });
  return (workerEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig });
}

async function spawnWorker(mode: Mode, url: string, queue: string, stepMs: number): Promise<Spawned> {
  const child = fork(script, [mode, url, queue, String(stepMs)], { execArgv: ['--import', 'tsx'], env: builtWorkerEnv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => { resolve(); });
    child.once('exit', (code) => { reject(new Error(`bench worker exited (${String(code)})`)); });
  });
  return {
    child,
    cpuUs: () => {
      try {
        const [utime = 0, stime = 0] = execFileSync('cat', [`/proc/${String(child.pid)}/stat`], { encoding: 'utf8' }).split(') ')[1]?.split(' ').slice(11, 13).map(Number) ?? [];
        return ((utime + stime) * 1e6) / 100;
      } catch {
        return Number.NaN;
      }
    },
  };
}

async function stop(workers: readonly Spawned[]): Promise<void> {
  await Promise.all(
    workers.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
          child.once('exit', () => { resolve(); });
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
}

const order = (id: number): Order => ({ id, items: Array.from({ length: 5 }, (_, i) => ({ sku: `sku-${String(i)}`, qty: i + 1, price: 9.5 + i })) });

async function evalshaStats(redis: Redis): Promise<{ calls: number; usec: number; cpuUs: number }> {
  const info = await redis.info('commandstats');
  const match = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(info);
  const cpu = await redis.info('cpu');
  const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  return { calls: Number(match?.[1] ?? 0), usec: Number(match?.[2] ?? 0), cpuUs: 1e6 * (seconds('used_cpu_sys') + seconds('used_cpu_user')) };
}

/** CPU of this process (the producer side of every contender: enqueueing, waiting for the queue to drain). */
function ownCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** How many jobs a throughput round runs: the cold block, the warm-up blocks (until settled), the warm block. */
export interface ThroughputPlan {
  /** The first jobs of fresh workers: what a freshly started worker pays while V8 compiles the code it runs. */
  readonly coldJobs: number;
  readonly warmupBlockJobs: number;
  /**
   * Warm-up blocks at least and at most; in between, warm-up stops once two successive blocks agree within
   * `settledWithin` (on a busy machine two blocks can agree by chance while CPU per job is still falling: hence the
   * minimum, from where in-process runs of the same flow settle, ~4,000-5,000 jobs).
   */
  readonly minWarmupBlocks: number;
  readonly maxWarmupBlocks: number;
  readonly settledWithin: number;
  readonly warmJobs: number;
}

/** One measured block of a round: wall time, worker CPU, Redis scripts. */
interface Block {
  readonly jobsPerSecond: number;
  readonly cpuUsPerJob: number;
  /** Worker, producer (this process) and redis-server CPU per job: what the job costs the machine. */
  readonly totalCpuUsPerJob: number;
  readonly evalshaPerJob: number;
  readonly usecPerEvalsha: number;
}

/**
 * One throughput round of one contender on a fresh queue and a fresh pair of workers: the cold block (their first
 * jobs), warm-up blocks until worker CPU per job has settled, then the warm block (a long-running worker's steady
 * state).
 */
async function throughputRound(mode: Mode, url: string, redis: Redis, queueName: string, plan: ThroughputPlan) {
  const workers = await Promise.all([spawnWorker(mode, url, queueName, 0), spawnWorker(mode, url, queueName, 0)]);
  const queue = new Queue(queueName, { connection: redis });
  const producer = createDistributedRuntime({ connection: url, queue: queueName });
  let next = 0;
  try {
    await producer.ready();
    // All enqueued, none waiting or active: all done (completed jobs are trimmed, so they are not counted).
    const batch = async (count: number): Promise<void> => {
      const end = next + count;
      for (; next < end; next += 100) {
        const ids = Array.from({ length: Math.min(100, end - next) }, (_, k) => next + k);
        if (mode !== 'slotflow') await queue.addBulk(ids.map((id) => ({ name: 'order', data: order(id), opts: { removeOnComplete: { count: 1000 } } })));
        else await Promise.all(ids.map((id) => producer.exec('order', { params: order(id) as never })));
      }
      next = end;
      for (;;) {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        if (Object.values(counts).every((n) => n === 0)) return;
        await sleep(20);
      }
    };
    const measure = async (jobs: number): Promise<Block> => {
      const cpuBefore = workers.reduce((s, w) => s + w.cpuUs(), 0);
      const before = await evalshaStats(redis);
      const ownBefore = ownCpuUs();
      const started = performance.now();
      await batch(jobs);
      const seconds = (performance.now() - started) / 1000;
      const own = ownCpuUs() - ownBefore;
      const after = await evalshaStats(redis);
      const cpu = workers.reduce((s, w) => s + w.cpuUs(), 0) - cpuBefore;
      return { jobsPerSecond: jobs / seconds, cpuUsPerJob: cpu / jobs, totalCpuUsPerJob: (cpu + own + after.cpuUs - before.cpuUs) / jobs, evalshaPerJob: (after.calls - before.calls) / jobs, usecPerEvalsha: (after.usec - before.usec) / Math.max(1, after.calls - before.calls) };
    };
    const cold = await measure(plan.coldJobs);
    // Warm-up: V8 compiles and re-optimises the workers' code over their first thousands of jobs (worker CPU is
    // read from /proc, so its compiler and GC threads count); the warm block starts once it has settled.
    const warmup: number[] = [];
    let previous = cold.cpuUsPerJob;
    for (let b = 0; b < plan.maxWarmupBlocks; b++) {
      const { cpuUsPerJob } = await measure(plan.warmupBlockJobs);
      warmup.push(cpuUsPerJob);
      if (b + 1 >= plan.minWarmupBlocks && Math.abs(cpuUsPerJob - previous) <= plan.settledWithin * Math.min(cpuUsPerJob, previous)) break;
      previous = cpuUsPerJob;
    }
    const warm = await measure(plan.warmJobs);
    return { cold, warm, warmup, load: os.loadavg()[0] ?? 0 };
  } finally {
    await producer.close();
    await queue.close();
    await stop(workers);
    // The next round starts on an empty Redis (slotflow keeps finished jobs' records for a day by default).
    await redis.flushdb();
  }
}

/** One recovery round: SIGKILL the holder of a running job; ms until another worker runs its next activation. */
async function recoveryRound(url: string, redis: Redis, queueName: string): Promise<number> {
  const workers = await Promise.all([spawnWorker('slotflow', url, queueName, 400), spawnWorker('slotflow', url, queueName, 400)]);
  const producer = createDistributedRuntime({ connection: url, queue: queueName });
  try {
    const job = await producer.exec('order', { params: order(1) as never });
    let holder: string | null = null;
    while ((holder = await redis.hget('bench:holder', job.id)) === null) await sleep(10);
    const victim = workers.find((w) => String(w.child.pid) === holder);
    if (!victim) throw new Error('the job runs on no worker of this round');
    victim.child.kill('SIGKILL');
    const killed = performance.now();
    while ((await redis.hget('bench:holder', job.id)) === holder) await sleep(10);
    const ms = performance.now() - killed;
    await job.wait({ timeoutMs: 60_000 });
    return ms;
  } finally {
    await producer.close();
    await stop(workers);
  }
}

/** One contender's medians over the rounds, for one phase (cold or warm). */
export interface PhaseFigures {
  readonly jobsPerSecond: number;
  readonly workerCpuUsPerJob: number;
  /** Worker, producer and redis-server CPU per job. */
  readonly totalCpuUsPerJob: number;
  /** This contender's jobs/s over raw BullMQ's of the same round, median over the rounds (1 for raw). */
  readonly ratio: number;
}

export interface DistributedReport {
  readonly status: 'ok' | 'skipped' | 'error';
  /** For run.ts's failure check: slotflow's row. */
  readonly contenders: readonly { readonly key: 'slotflow'; readonly status: 'ok' | 'skipped' | 'error'; readonly reason?: string }[];
  readonly reason?: string;
  readonly plan?: ThroughputPlan;
  /** The first jobs of fresh worker processes, per contender. */
  readonly cold?: Readonly<Record<Mode, PhaseFigures>>;
  /** After warm-up (a long-running worker), per contender. */
  readonly warm?: Readonly<Record<Mode, PhaseFigures>>;
  /** Warm-up blocks each round ran before its warm block, per contender (worker CPU µs/job of each block). */
  readonly warmupCpuUsPerJob?: Readonly<Record<Mode, readonly (readonly number[])[]>>;
  /** Redis scripts per slotflow job and Redis µs each, warm. */
  readonly savesPerJob?: number;
  readonly redisUsPerSave?: number;
  /** Worker CPU per activation of slotflow/distributed above the same flow in a local runtime without a store. */
  readonly checkpointCpuUsPerActivation?: { readonly cold: number; readonly warm: number };
  /** Raw BullMQ's CPU per job (workers, producer, Redis) over slotflow/distributed's, warm. */
  readonly cpuRatio?: number;
  /** 1-minute load average at the end of each throughput round. */
  readonly loadAverages?: readonly number[];
  readonly recoveryMs?: readonly number[];
  readonly recoveryMedianMs?: number;
}

const MODES: readonly Mode[] = ['raw', 'local', 'slotflow'];

export async function runDistributedWorkload(options: { quick: boolean; log: (line: string) => void }): Promise<{ report: DistributedReport; table: string }> {
  const { quick, log } = options;
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return { report: { status: 'skipped', reason: 'redis-server is not installed', contenders: [] }, table: '\ndistributed: skipped (redis-server is not installed)\n' };
  }
  const server = await startRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  try {
    const plan: ThroughputPlan = quick
      ? { coldJobs: 500, warmupBlockJobs: 500, minWarmupBlocks: 2, maxWarmupBlocks: 3, settledWithin: 0.15, warmJobs: 500 }
      : { coldJobs: 1_000, warmupBlockJobs: 1_000, minWarmupBlocks: 4, maxWarmupBlocks: 8, settledWithin: 0.15, warmJobs: 2_000 };
    const rounds = quick ? 1 : 3;
    const runs: Record<Mode, Awaited<ReturnType<typeof throughputRound>>[]> = { slotflow: [], raw: [], local: [] };
    const orders: readonly (readonly Mode[])[] = [['raw', 'slotflow', 'local'], ['slotflow', 'local', 'raw'], ['local', 'raw', 'slotflow']];
    for (let r = 0; r < rounds; r++) {
      for (const mode of orders[r % orders.length] ?? []) {
        const result = await throughputRound(mode, server.url, redis, `tp-${mode}-${String(r)}`, plan);
        runs[mode].push(result);
        log(
          `  distributed ${mode} round ${String(r + 1)}: cold ${result.cold.jobsPerSecond.toFixed(0)} jobs/s, ${result.cold.cpuUsPerJob.toFixed(0)} µs worker CPU/job; ` +
            `warm-up ${result.warmup.map((us) => us.toFixed(0)).join(', ')} µs/job; warm ${result.warm.jobsPerSecond.toFixed(0)} jobs/s, ${result.warm.cpuUsPerJob.toFixed(0)} µs/job; load ${result.load.toFixed(1)}`,
        );
      }
    }
    const loads = MODES.flatMap((mode) => runs[mode].map((x) => x.load));
    // Ratios per round (the contenders of a round ran within a minute or two of each other), then their median.
    const phase = (which: 'cold' | 'warm'): Record<Mode, PhaseFigures> => {
      const of = (mode: Mode): PhaseFigures => ({
        jobsPerSecond: median(runs[mode].map((x) => x[which].jobsPerSecond)),
        workerCpuUsPerJob: median(runs[mode].map((x) => x[which].cpuUsPerJob)),
        totalCpuUsPerJob: median(runs[mode].map((x) => x[which].totalCpuUsPerJob)),
        ratio: median(runs[mode].map((x, i) => x[which].jobsPerSecond / (runs.raw[i]?.[which].jobsPerSecond ?? Number.NaN))),
      });
      return { raw: of('raw'), local: of('local'), slotflow: of('slotflow') };
    };
    const cold = phase('cold');
    const warm = phase('warm');
    const checkpoint = (p: Record<Mode, PhaseFigures>): number => (p.slotflow.workerCpuUsPerJob - p.local.workerCpuUsPerJob) / 3;
    const recoveries: number[] = [];
    for (let r = 0; r < (quick ? 1 : 5); r++) {
      const ms = await recoveryRound(server.url, redis, `rec-${String(r)}`);
      recoveries.push(ms);
      log(`  distributed recovery round ${String(r + 1)}: ${(ms / 1000).toFixed(1)} s`);
    }
    const report: DistributedReport = {
      status: 'ok',
      contenders: [{ key: 'slotflow', status: 'ok' }],
      plan,
      cold,
      warm,
      warmupCpuUsPerJob: { raw: runs.raw.map((x) => x.warmup), local: runs.local.map((x) => x.warmup), slotflow: runs.slotflow.map((x) => x.warmup) },
      savesPerJob: median(runs.slotflow.map((x) => x.warm.evalshaPerJob)),
      redisUsPerSave: median(runs.slotflow.map((x) => x.warm.usecPerEvalsha)),
      checkpointCpuUsPerActivation: { cold: checkpoint(cold), warm: checkpoint(warm) },
      cpuRatio: warm.raw.totalCpuUsPerJob / warm.slotflow.totalCpuUsPerJob,
      loadAverages: loads,
      recoveryMs: recoveries,
      recoveryMedianMs: median(recoveries),
    };
    const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
    const row = (label: string, mode: Mode): string =>
      `| ${label} | ${cold[mode].jobsPerSecond.toFixed(0)} | ${cold[mode].workerCpuUsPerJob.toFixed(0)} (${cold[mode].totalCpuUsPerJob.toFixed(0)}) | ${mode === 'raw' ? '-' : pct(cold[mode].ratio)} | ${warm[mode].jobsPerSecond.toFixed(0)} | ${warm[mode].workerCpuUsPerJob.toFixed(0)} (${warm[mode].totalCpuUsPerJob.toFixed(0)}) | ${mode === 'raw' ? '-' : pct(warm[mode].ratio)} |`;
    // What the machine spends per job (workers, producer, Redis): raw BullMQ's over the contender's, warm. On a
    // machine shared with other work, jobs/s follows the CPU share the run gets; this does not.
    const cpuRatio = (mode: Mode): number => warm.raw.totalCpuUsPerJob / warm[mode].totalCpuUsPerJob;
    const table = [
      '',
      `distributed (3-routine jobs, 2 worker processes x concurrency 10, ${String(rounds)} round(s) on fresh workers, medians; cold: their first ${String(plan.coldJobs)} jobs; ` +
        `warm: ${String(plan.warmJobs)} jobs after warm-up blocks of ${String(plan.warmupBlockJobs)} until two agree within ${pct(plan.settledWithin)} (${String(plan.minWarmupBlocks)} to ${String(plan.maxWarmupBlocks)}))`,
      '| contender | cold jobs/s | cold CPU µs/job: workers (all) | cold / raw | warm jobs/s | warm CPU µs/job: workers (all) | warm / raw |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      row('raw BullMQ (3 steps in one processor)', 'raw'),
      row('slotflow local runtime in a BullMQ processor (no store)', 'local'),
      row('slotflow/distributed (checkpointed each turn an activation changed the job)', 'slotflow'),
      '',
      `slotflow / raw (median of per-round ratios): warm ${pct(warm.slotflow.ratio)}, cold ${pct(cold.slotflow.ratio)} (target >= 60%); local runtime / raw: warm ${pct(warm.local.ratio)}, cold ${pct(cold.local.ratio)}; ` +
        `raw BullMQ's CPU per job (workers, producer, Redis) over slotflow's, warm: ${pct(cpuRatio('slotflow'))} (local runtime ${pct(cpuRatio('local'))}); load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
      `Redis scripts per job, warm (BullMQ's and slotflow's fenced saves, event appends, final write): ${(report.savesPerJob ?? 0).toFixed(1)}, ${(report.redisUsPerSave ?? 0).toFixed(1)} µs Redis CPU each`,
      `checkpoint cost per activation (worker CPU above the local runtime: fenced save, event relay, final write): warm ${checkpoint(warm).toFixed(0)} µs, cold ${checkpoint(cold).toFixed(0)} µs; the runtime itself above raw BullMQ's step: warm ${((warm.local.workerCpuUsPerJob - warm.raw.workerCpuUsPerJob) / 3).toFixed(0)} µs`,
      `recovery after SIGKILL (defaults lockDurationMs 5 s, stalledIntervalMs 2 s): ${recoveries.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s; median ${((report.recoveryMedianMs ?? 0) / 1000).toFixed(1)} s (target <= 10 s)`,
      '',
    ].join('\n');
    return { report, table };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { report: { status: 'error', reason, contenders: [{ key: 'slotflow', status: 'error', reason }] }, table: `\ndistributed: failed (${reason})\n` };
  } finally {
    await redis.quit();
    await server.stop();
  }
}
