/**
 * The distributed workload (run.ts `--only distributed`): jobs through slotflow/distributed on a real redis-server.
 *
 * - throughput: jobs/s through 2 worker processes (concurrency 10 each, on every side) for 3-routine jobs,
 *   checkpointed after every activation, against raw BullMQ workers doing the same 3 steps in one processor, same
 *   Redis, same run, alternating (median of the rounds). Enqueueing is part of the time for all, in batches of 100
 *   (BullMQ's `addBulk`; slotflow's `exec` calls of one turn, which leave as one batch). A third contender, BullMQ
 *   workers running the same flow in a local slotflow runtime without a store, separates the engine's own cost from
 *   what checkpointing into Redis adds.
 * - checkpoint cost: worker CPU per activation of slotflow/distributed above the local runtime in a BullMQ worker
 *   (fenced saves, event relay, final write), EVALSHA calls per job and Redis-side µs each (INFO commandstats).
 * - recovery: SIGKILL the worker running a job (steps of 200 ms), time until another worker runs its next
 *   activation, with the default lockDurationMs / stalledIntervalMs (5 s / 2 s); median of 5.
 * Needs `redis-server` on PATH (skipped otherwise). Workers load the source through tsx.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
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

async function spawnWorker(mode: Mode, url: string, queue: string, stepMs: number): Promise<Spawned> {
  const child = fork(script, [mode, url, queue, String(stepMs)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

async function evalshaStats(redis: Redis): Promise<{ calls: number; usec: number }> {
  const info = await redis.info('commandstats');
  const match = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(info);
  return { calls: Number(match?.[1] ?? 0), usec: Number(match?.[2] ?? 0) };
}

/** One throughput round of one contender on a fresh queue. */
async function throughputRound(mode: Mode, url: string, redis: Redis, queueName: string, jobs: number) {
  const workers = await Promise.all([spawnWorker(mode, url, queueName, 0), spawnWorker(mode, url, queueName, 0)]);
  const queue = new Queue(queueName, { connection: redis });
  const producer = createDistributedRuntime({ connection: url, queue: queueName });
  try {
    await producer.ready();
    // All enqueued, none waiting or active: all done (completed jobs are trimmed, so they are not counted).
    const batch = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i += 100) {
        const ids = Array.from({ length: Math.min(100, from + count - i) }, (_, k) => i + k);
        if (mode !== 'slotflow') await queue.addBulk(ids.map((id) => ({ name: 'order', data: order(id), opts: { removeOnComplete: { count: 1000 } } })));
        else await Promise.all(ids.map((id) => producer.exec('order', { params: order(id) as never })));
      }
      for (;;) {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        if (Object.values(counts).every((n) => n === 0)) return;
        await sleep(20);
      }
    };
    // Warm-up (both contenders): the workers' first jobs compile their code.
    await batch(1_000_000, 50);
    const cpuBefore = workers.reduce((s, w) => s + w.cpuUs(), 0);
    const before = await evalshaStats(redis);
    const started = performance.now();
    await batch(0, jobs);
    const seconds = (performance.now() - started) / 1000;
    const after = await evalshaStats(redis);
    const cpu = workers.reduce((s, w) => s + w.cpuUs(), 0) - cpuBefore;
    return { jobsPerSecond: jobs / seconds, cpuUsPerJob: cpu / jobs, load: os.loadavg()[0] ?? 0, evalshaPerJob: (after.calls - before.calls) / jobs, usecPerEvalsha: (after.usec - before.usec) / Math.max(1, after.calls - before.calls) };
  } finally {
    await producer.close();
    await queue.close();
    await stop(workers);
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

export interface DistributedReport {
  readonly status: 'ok' | 'skipped' | 'error';
  /** For run.ts's failure check: slotflow's row. */
  readonly contenders: readonly { readonly key: 'slotflow'; readonly status: 'ok' | 'skipped' | 'error'; readonly reason?: string }[];
  readonly reason?: string;
  readonly jobs?: number;
  readonly slotflowJobsPerSecond?: number;
  readonly rawJobsPerSecond?: number;
  readonly localJobsPerSecond?: number;
  /** slotflow/distributed's jobs/s over raw BullMQ's, per round, median. */
  readonly ratio?: number;
  /** The local runtime's jobs/s over raw BullMQ's, per round, median. */
  readonly localRatio?: number;
  readonly savesPerJob?: number;
  readonly redisUsPerSave?: number;
  readonly workerCpuUsPerJob?: { readonly slotflow: number; readonly raw: number; readonly local: number };
  /** Worker CPU per activation of slotflow/distributed above the same flow in a local runtime without a store. */
  readonly checkpointCpuUsPerActivation?: number;
  /** 1-minute load average at the end of each throughput round. */
  readonly loadAverages?: readonly number[];
  readonly recoveryMs?: readonly number[];
  readonly recoveryMedianMs?: number;
}

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
    const jobs = quick ? 200 : 2_000;
    const rounds = quick ? 1 : 3;
    const runs: Record<Mode, Awaited<ReturnType<typeof throughputRound>>[]> = { slotflow: [], raw: [], local: [] };
    const orders: readonly (readonly Mode[])[] = [['raw', 'slotflow', 'local'], ['slotflow', 'local', 'raw'], ['local', 'raw', 'slotflow']];
    for (let r = 0; r < rounds; r++) {
      for (const mode of orders[r % orders.length] ?? []) {
        const result = await throughputRound(mode, server.url, redis, `tp-${mode}-${String(r)}`, jobs);
        runs[mode].push(result);
        log(`  distributed ${mode} round ${String(r + 1)}: ${result.jobsPerSecond.toFixed(0)} jobs/s, ${result.cpuUsPerJob.toFixed(0)} µs worker CPU/job, load ${result.load.toFixed(1)}`);
      }
    }
    const sf = median(runs.slotflow.map((x) => x.jobsPerSecond));
    const raw = median(runs.raw.map((x) => x.jobsPerSecond));
    const cpuSf = median(runs.slotflow.map((x) => x.cpuUsPerJob));
    const cpuRaw = median(runs.raw.map((x) => x.cpuUsPerJob));
    const local = median(runs.local.map((x) => x.jobsPerSecond));
    const cpuLocal = median(runs.local.map((x) => x.cpuUsPerJob));
    const loads = [...runs.raw, ...runs.slotflow, ...runs.local].map((x) => x.load);
    // Ratios per round (the contenders of a round ran within a minute of each other), then their median.
    const perRound = (mode: Mode): number => median(runs[mode].map((x, i) => x.jobsPerSecond / (runs.raw[i]?.jobsPerSecond ?? Number.NaN)));
    const ratio = perRound('slotflow');
    const localRatio = perRound('local');
    const recoveries: number[] = [];
    for (let r = 0; r < (quick ? 1 : 5); r++) {
      const ms = await recoveryRound(server.url, redis, `rec-${String(r)}`);
      recoveries.push(ms);
      log(`  distributed recovery round ${String(r + 1)}: ${(ms / 1000).toFixed(1)} s`);
    }
    const report: DistributedReport = {
      status: 'ok',
      contenders: [{ key: 'slotflow', status: 'ok' }],
      jobs,
      slotflowJobsPerSecond: sf,
      rawJobsPerSecond: raw,
      localJobsPerSecond: local,
      ratio,
      localRatio,
      savesPerJob: median(runs.slotflow.map((x) => x.evalshaPerJob)),
      redisUsPerSave: median(runs.slotflow.map((x) => x.usecPerEvalsha)),
      workerCpuUsPerJob: { slotflow: cpuSf, raw: cpuRaw, local: cpuLocal },
      checkpointCpuUsPerActivation: (cpuSf - cpuLocal) / 3,
      loadAverages: loads,
      recoveryMs: recoveries,
      recoveryMedianMs: median(recoveries),
    };
    const table = [
      '',
      `distributed (${String(jobs)} jobs of 3 routines, 2 worker processes x concurrency 10, ${String(rounds)} round(s), medians)`,
      '| contender | jobs/s | worker CPU µs/job |',
      '| --- | --- | --- |',
      `| raw BullMQ (3 steps in one processor) | ${raw.toFixed(0)} | ${cpuRaw.toFixed(0)} |`,
      `| slotflow local runtime in a BullMQ processor (no store) | ${local.toFixed(0)} | ${cpuLocal.toFixed(0)} |`,
      `| slotflow/distributed (checkpoint after every activation) | ${sf.toFixed(0)} | ${cpuSf.toFixed(0)} |`,
      '',
      `slotflow / raw (median of per-round ratios): ${(100 * ratio).toFixed(0)}% (target >= 60%); local runtime / raw: ${(100 * localRatio).toFixed(0)}%; load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
      `Redis scripts per job (BullMQ's and slotflow's fenced saves, event appends, final write): ${(report.savesPerJob ?? 0).toFixed(1)}, ${(report.redisUsPerSave ?? 0).toFixed(1)} µs Redis CPU each`,
      `checkpoint cost per activation (worker CPU above the local runtime: fenced save, event relay, final write): ${(report.checkpointCpuUsPerActivation ?? 0).toFixed(0)} µs; the runtime itself above raw BullMQ's step: ${((cpuLocal - cpuRaw) / 3).toFixed(0)} µs`,
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
