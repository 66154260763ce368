/**
 * slotflow's benchmark: `npm run bench` (full) or `npm run bench -- --quick` (a smoke run for CI).
 *
 * Options:
 *   --quick                  every workload tiny, 2 rounds (CI)
 *   --only <w>[,<w>...]      chain, cycle, fanout, throughput, jobsize, heap, scale, soak, checkpoint, threads,
 *                            distributed
 *   --contenders <c>[,...]   plain, slotflow, xstate, xstate-floor, langgraph, mastra (the floor, plain, is always
 *                            kept; xstate-floor is XState's events alone with trivial hosts);
 *                            also slotflow-nometrics, slotflow-observed, slotflow-monitor-base, slotflow-monitor,
 *                            slotflow-monitor-all
 *                            (variants: the cost of metrics, of events$, of slotflow/server with a monitor open)
 *   --no-peers               leave LangGraph.js and Mastra out
 *   --rounds <n>             rounds per in-process workload (default 7; quick 2)
 *   --out <file>             where the JSON goes (default bench/results/latest.json)
 *   --src                    measure src/ through tsx instead of the built package (dist/, rebuilt when stale)
 *
 * Method: CPU time from process.cpuUsage() (wall time where the workload is about waiting), contenders interleaved
 * within every round (the order rotates), each verified and warmed up first, a full GC before every measurement,
 * the median per contender and the median of per-round ratios against the plain-async floor (and slotflow) of the
 * same round. Every contender measures in a process of its own (host.ts, driven over IPC; lib/protocol.ts says
 * why); scale and soak run in a fresh process per measurement (child.ts), so memory figures hold one contender.
 * BENCHMARKS.md has the rest.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { CHECKPOINT, runCheckpointWorkload } from './checkpoint.js';
import { THREADS, runThreadsWorkload, type ThreadsSummary } from './threads.js';
import { DISTRIBUTED, runDistributedWorkload } from './distributed.js';
import { HEAP, runHeapWorkload, type HeapReport } from './heap.js';
import { JOBSIZE_LENGTHS, JOBSIZE_LENGTHS_QUICK, runJobsizeWorkload, type JobsizeReport } from './jobsize.js';
import type { ScaleResult, SoakResult } from './child.js';
import { CONTENDER_KEYS, DEFAULT_CONTENDERS, DISPLAY_NAMES, PEER_KEYS, peersMissing, type ContenderKey } from './contenders/index.js';
import type { Calibration } from './lib/measure.js';
import type { ContenderInfo, InProcessWorkload } from './lib/protocol.js';
import { Host, runRounds, summarise, type ContenderResult, type Sample } from './lib/rounds.js';
import { WORKLOADS, type WorkloadName } from './lib/types.js';
import { childExecArgv, errorText, hasGc, median, runResultChild } from './lib/util.js';

// ------------------------------------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const list = (name: string): string[] | undefined => option(name)?.split(',').map((s) => s.trim()).filter(Boolean);

const quick = flag('--quick');
const only = (list('--only') ?? [...WORKLOADS, HEAP, CHECKPOINT, THREADS, DISTRIBUTED]) as (WorkloadName | typeof HEAP | typeof CHECKPOINT | typeof THREADS | typeof DISTRIBUTED)[];
for (const w of only) if (!WORKLOADS.includes(w as WorkloadName) && w !== HEAP && w !== CHECKPOINT && w !== THREADS && w !== DISTRIBUTED) usage(`unknown workload '${w}'`);
const wanted = (list('--contenders') ?? [...DEFAULT_CONTENDERS]) as ContenderKey[];
for (const c of wanted) if (!CONTENDER_KEYS.includes(c)) usage(`unknown contender '${c}'`);
if (!wanted.includes('plain')) wanted.unshift('plain');
const noPeers = flag('--no-peers');
// What users run is the built package, so that is what is measured (rebuilt first when src/ or machines/ changed
// since the last build); `--src` measures the source through tsx instead (its keepNames `__name()` calls cost ~10%).
// The measuring processes inherit the environment: this picks what contenders/slotflow.ts loads.
const fromSource = flag('--src');
if (!fromSource) {
  ensureBuilt();
  process.env.SLOTFLOW_BENCH_BUILD = 'dist';
}

const config = quick
  ? {
      rounds: 2,
      warmupMs: 40,
      roundMs: 40,
      cycleTarget: 250,
      fanout: { jobs: 50, inFlight: 10, branchMs: 20 },
      throughputRoundMs: 120,
      throughputMinJobs: 100,
      scaleSizes: [10_000],
      scaleRounds: 1,
      soakJobs: 5_000,
      timeoutMs: 30_000,
    }
  : {
      rounds: 7,
      warmupMs: 300,
      roundMs: 300,
      cycleTarget: 1_000,
      fanout: { jobs: 50, inFlight: 10, branchMs: 20 },
      throughputRoundMs: 1_000,
      throughputMinJobs: 200,
      scaleSizes: [10_000, 100_000],
      scaleRounds: 3,
      soakJobs: 100_000,
      timeoutMs: 120_000,
    };
const rounds = Number(option('--rounds') ?? config.rounds);
if (!Number.isInteger(rounds) || rounds < 1) usage('--rounds takes a positive integer');
const outFile = option('--out') ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
const ideaFanoutMs = Math.ceil(config.fanout.jobs / config.fanout.inFlight) * config.fanout.branchMs;

function usage(message: string): never {
  console.error(`bench: ${message}\nusage: npm run bench -- [--quick] [--only chain,cycle,fanout,throughput,jobsize,heap,scale,soak,checkpoint,threads,distributed] [--contenders plain,slotflow,xstate,xstate-floor,langgraph,mastra] [--no-peers] [--rounds N] [--out FILE] [--src]`);
  process.exit(2);
}

/** Runs `npm run build` unless dist/index.js is newer than every file under src/ and machines/. */
function ensureBuilt(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = (() => {
    try {
      return statSync(join(root, 'dist/index.js')).mtimeMs;
    } catch {
      return -1;
    }
  })();
  const newest = (dir: string): number => {
    let latest = 0;
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true }))
      if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    return latest;
  };
  if (built >= Math.max(newest('src'), newest('machines'))) return;
  console.log('bench: dist/ is missing or older than src/: npm run build');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) usage('npm run build failed (or run with --src to measure the source)');
}

// ----------------------------------------------------------------------------------------- never crash

const incidents: string[] = [];
process.on('unhandledRejection', (reason) => {
  const text = `unhandled rejection: ${errorText(reason)}`;
  incidents.push(text);
  console.log(`  ! ${text}`);
});
process.on('uncaughtException', (error) => {
  const text = `uncaught exception: ${errorText(error)}`;
  incidents.push(text);
  console.log(`  ! ${text}`);
});

// --------------------------------------------------------------------------------------------- contenders

const log = (line: string): void => { console.log(line); };
const started = performance.now();
const cpuCount = os.availableParallelism();
const meta = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  node: process.version,
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  cpu: os.cpus()[0]?.model ?? '?',
  nproc: cpuCount,
  memoryGB: Math.round(os.totalmem() / 2 ** 30),
  gcInParent: hasGc,
  slotflowBuild: fromSource ? 'src' : 'dist',
  rounds,
  argv,
};
log(`slotflow bench (${meta.mode}) ${meta.date}`);
log(`node ${meta.node}, ${meta.platform}, ${meta.nproc} CPU(s): ${meta.cpu}, ${meta.memoryGB} GB, measuring processes run with --expose-gc`);

// every contender is loaded in its own process (lib/protocol.ts says why): probe them all first, in parallel
const incident = (text: string): void => {
  incidents.push(text);
  log(`  ! ${text}`);
};
const unavailable: { key: ContenderKey; name: string; reason: string }[] = [];
const probes = await Promise.all(
  wanted.map(async (key) => {
    if (noPeers && PEER_KEYS.includes(key)) return { key, reason: '--no-peers' };
    const started = await Host.start(key, incident);
    started.host.kill();
    return { key, ...(started.info !== undefined && { info: started.info }), ...(started.reason !== undefined && { reason: started.reason }) };
  }),
);
const contenders: { key: ContenderKey; info: ContenderInfo }[] = [];
for (const probe of probes) {
  if (probe.info !== undefined) contenders.push({ key: probe.key, info: probe.info });
  else unavailable.push({ key: probe.key, name: DISPLAY_NAMES[probe.key], reason: probe.reason ?? '?' });
}
for (const { info } of contenders) log(`  + ${info.name.padEnd(13)} ${info.version}`);
for (const u of unavailable) log(`  - ${u.name.padEnd(13)} skipped: ${u.reason}`);
if (!quick && peersMissing() !== undefined && !noPeers) log(`  (for the peers: cd bench && npm install, then run again)`);

// ------------------------------------------------------------------------------------------ workloads

interface InProcessSpec {
  name: InProcessWorkload;
  title: string;
  /** The primary metric (lower is better) from a sample, and how it is printed. */
  primary: (s: Sample) => number;
  unit: string;
  calibration: Partial<Calibration>;
}

const specs: InProcessSpec[] = [
  {
    name: 'chain',
    title: 'chain: 5 routines in a line, one job per run, runs in sequence',
    primary: (s) => s.cpuPerUnit / 5,
    unit: 'µs CPU / hop',
    calibration: { minCount: 1, maxCount: 200_000 },
  },
  {
    name: 'cycle',
    title: `cycle: one routine looping to itself until n reaches ${config.cycleTarget.toLocaleString('en')} (until guard, maxIterations 10,000)`,
    primary: (s) => s.cpuPerUnit / config.cycleTarget,
    unit: 'µs CPU / iteration',
    calibration: { minCount: 1, maxCount: 10_000 },
  },
  {
    name: 'fanout',
    title: `fan-out: fork into 4 branches that each await ${config.fanout.branchMs} ms, allReady join; ${config.fanout.jobs} jobs, ${config.fanout.inFlight} in flight (ideal ${ideaFanoutMs} ms)`,
    primary: (s) => s.wallPerUnit,
    unit: 'ms wall / batch',
    calibration: { minCount: 1, maxCount: 1, minWarmUnits: 1, warmupMs: 0 },
  },
  {
    name: 'throughput',
    title: 'throughput: 3-routine chain jobs, up to 1,000 in flight',
    primary: (s) => s.cpuPerUnit,
    unit: 'µs CPU / job',
    calibration: { minCount: config.throughputMinJobs, maxCount: 200_000, roundMs: config.throughputRoundMs },
  },
];

interface WorkloadReport {
  title: string;
  unit: string;
  contenders: (ContenderResult & { median?: number; min?: number; max?: number; xFloor?: number; xSlotflow?: number; xXstateFloor?: number; extra?: Record<string, number> })[];
}
const report: { meta: typeof meta; unavailable: typeof unavailable; workloads: Partial<Record<WorkloadName | typeof HEAP | typeof CHECKPOINT | typeof THREADS | typeof DISTRIBUTED, unknown>>; targets: Target[]; incidents: string[]; seconds?: number; sectionSeconds?: Record<string, number> } = {
  meta,
  unavailable,
  workloads: {},
  targets: [],
  incidents,
};
const tables: string[] = [];

/** Wall seconds per workload (how long each part of the run took; CI's quick run has a budget). */
const sectionSeconds: Record<string, number> = {};
let lapStart = performance.now();
const lap = (name: string): void => {
  const now = performance.now();
  sectionSeconds[name] = Math.round((now - lapStart) / 100) / 10;
  log(`  (${name}: ${sectionSeconds[name]} s)`);
  lapStart = now;
};

for (const spec of specs) {
  if (!only.includes(spec.name)) continue;
  log(`\n== ${spec.title}`);
  const results = await runRounds(contenders, {
    workload: spec.name,
    params: { cycleTarget: config.cycleTarget, fanout: config.fanout, inFlight: 1_000, chainLength: 5 },
    calibration: {
      warmupMs: config.warmupMs,
      minWarmUnits: 2,
      roundMs: config.roundMs,
      minCount: 1,
      maxCount: 100_000,
      timeoutMs: config.timeoutMs,
      ...spec.calibration,
    },
    rounds,
    log,
    incident,
  });
  const floor = results.find((r) => r.key === 'plain');
  const subject = results.find((r) => r.key === 'slotflow');
  const xstateFloor = results.find((r) => r.key === 'xstate-floor');
  const rows: WorkloadReport['contenders'] = results.map((r) => {
    if (r.status !== 'ok') return r;
    const s = summarise(r, spec.primary, floor);
    const vs = r === subject ? undefined : summarise(r, spec.primary, subject).ratio;
    const vsFloor = r === xstateFloor ? undefined : summarise(r, spec.primary, xstateFloor).ratio;
    const extra: Record<string, number> = {
      cpuPerUnitMedianUs: median(r.rounds.filter((x): x is Sample => x !== null).map((x) => x.cpuPerUnit)),
      wallPerUnitMedianMs: median(r.rounds.filter((x): x is Sample => x !== null).map((x) => x.wallPerUnit)),
    };
    return { ...r, median: s.median, min: s.min, max: s.max, ...(s.ratio !== undefined && { xFloor: s.ratio }), ...(vs !== undefined && { xSlotflow: vs }), ...(vsFloor !== undefined && { xXstateFloor: vsFloor }), extra };
  });
  const workloadReport: WorkloadReport = { title: spec.title, unit: spec.unit, contenders: rows };
  report.workloads[spec.name] = workloadReport;
  tables.push(renderInProcess(spec, workloadReport));
  log(tables.at(-1) ?? '');
  lap(spec.name);
}

let jobsize: JobsizeReport | undefined;
if (only.includes('jobsize')) {
  const measured = await runJobsizeWorkload({
    lengths: quick ? JOBSIZE_LENGTHS_QUICK : JOBSIZE_LENGTHS,
    contenders,
    params: { cycleTarget: config.cycleTarget, fanout: config.fanout, inFlight: 1_000 },
    calibration: { warmupMs: config.warmupMs, minWarmUnits: 2, roundMs: config.roundMs, minCount: 1, maxCount: 200_000, timeoutMs: config.timeoutMs },
    rounds,
    log,
    incident,
  });
  jobsize = measured.report;
  report.workloads.jobsize = jobsize;
  tables.push(measured.table);
  log(measured.table);
  lap('jobsize');
}

let heap: HeapReport | undefined;
if (only.includes(HEAP)) {
  const measured = await runHeapWorkload({ contenders, quick, cycleTarget: config.cycleTarget, log });
  heap = measured.report;
  report.workloads.heap = heap;
  tables.push(measured.table);
  log(measured.table);
  lap(HEAP);
}

// ---------------------------------------------------------------------------------- scale and soak (children)

interface ChildRow<T> {
  name: string;
  key: ContenderKey;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  runs: T[];
}

async function runChild<T>(workload: 'scale' | 'soak', key: ContenderKey, count: number, timeoutMs: number): Promise<T> {
  const args = [...childExecArgv(`${workload}-${key}-${count}`), '--max-old-space-size=8192', fileURLToPath(new URL('./child.ts', import.meta.url)), workload, key, String(count)];
  return runResultChild<T>(args, quick, timeoutMs);
}

if (only.includes('scale')) {
  log(`\n== scale: N open keepAlive jobs, each idle and waiting for a post; then one post into each, then complete() each`);
  const freeGB = os.freemem() / 2 ** 30;
  const sizes = config.scaleSizes.filter((n) => n <= 10_000 || freeGB >= 6);
  if (sizes.length < config.scaleSizes.length) log(`  (100,000 skipped: only ${freeGB.toFixed(1)} GB free)`);
  const scaleRows: (ChildRow<ScaleResult> & { n: number })[] = [];
  for (const n of sizes) {
    const rowsForN = contenders.map(({ key, info }): ChildRow<ScaleResult> & { n: number } => ({
      name: info.name,
      key,
      n,
      status: info.implements.includes('scale') ? 'ok' : 'skipped',
      ...(!info.implements.includes('scale') && { reason: info.skip.scale ?? 'no scale implementation' }),
      runs: [],
    }));
    for (let round = 0; round < config.scaleRounds; round++) {
      const active = rowsForN.filter((r) => r.status === 'ok');
      for (let i = 0; i < active.length; i++) {
        const row = active[(i + round) % active.length] as ChildRow<ScaleResult> & { n: number };
        try {
          const result = await runChild<ScaleResult>('scale', row.key, n, quick ? 60_000 : 600_000);
          row.runs.push(result);
          log(`  ${row.name} n=${n.toLocaleString('en')}: ${(result.rssPerJob / 1024).toFixed(2)} KB RSS/job, ${(result.heapPerJob / 1024).toFixed(2)} KB heap/job, post ${result.postWallMs.toFixed(0)} ms, complete ${result.completeWallMs.toFixed(0)} ms`);
        } catch (error) {
          row.status = 'error';
          row.reason = errorText(error);
          log(`  ! ${row.name} n=${n}: ${row.reason}`);
        }
      }
    }
    scaleRows.push(...rowsForN);
  }
  report.workloads.scale = scaleRows;
  tables.push(renderScale(scaleRows));
  log(tables.at(-1) ?? '');
  lap('scale');
}

if (only.includes('soak')) {
  log(`\n== soak: ${config.soakJobs.toLocaleString('en')} completed 3-routine jobs (1,000 in flight): heap after GC against the start`);
  const soakRows: ChildRow<SoakResult>[] = contenders.map(({ key, info }) => {
    const skip = info.skip.soak ?? (info.implements.includes('soak') ? undefined : 'no throughput implementation');
    return { name: info.name, key, status: skip === undefined ? 'ok' : 'skipped', ...(skip !== undefined && { reason: skip }), runs: [] };
  });
  for (const row of soakRows.filter((r) => r.status === 'ok')) {
    try {
      const result = await runChild<SoakResult>('soak', row.key, config.soakJobs, quick ? 60_000 : 900_000);
      row.runs.push(result);
      log(`  ${row.name}: heap ${(result.heapStart / 1e6).toFixed(1)} -> ${(result.heapEnd / 1e6).toFixed(1)} MB (${result.growthPercent.toFixed(1)}%)`);
    } catch (error) {
      row.status = 'error';
      row.reason = errorText(error);
      log(`  ! ${row.name}: ${row.reason}`);
    }
  }
  report.workloads.soak = soakRows;
  tables.push(renderSoak(soakRows));
  log(tables.at(-1) ?? '');
  lap('soak');
}

if (only.includes(CHECKPOINT)) {
  // its own process and tables: bench/checkpoint.ts
  const checkpoint = await runCheckpointWorkload({ quick, rounds, log });
  report.workloads.checkpoint = checkpoint.report;
  tables.push(checkpoint.table);
  log(checkpoint.table);
  lap(CHECKPOINT);
}

let threads: ThreadsSummary | undefined;
if (only.includes(THREADS)) {
  // its own process and table: bench/threads.ts
  const measured = await runThreadsWorkload({ quick, rounds, log });
  report.workloads.threads = measured.report;
  threads = measured.summary;
  tables.push(measured.table);
  log(measured.table);
  lap(THREADS);
}
if (only.includes(DISTRIBUTED)) {
  // worker processes on a throw-away redis-server: bench/distributed.ts
  const distributed = await runDistributedWorkload({ quick, log });
  report.workloads.distributed = distributed.report;
  tables.push(distributed.table);
  log(distributed.table);
  lap(DISTRIBUTED);
}

// --------------------------------------------------------------------------------------------- targets

interface Target {
  workload: WorkloadName | typeof HEAP | typeof THREADS;
  target: string;
  measured: string;
  met: boolean | undefined;
}

function subjectRow(workload: 'chain' | 'cycle' | 'fanout' | 'throughput'): WorkloadReport['contenders'][number] | undefined {
  return (report.workloads[workload] as WorkloadReport | undefined)?.contenders.find((c) => c.role === 'subject');
}
function peerRow(workload: 'chain' | 'cycle', name: string): WorkloadReport['contenders'][number] | undefined {
  return (report.workloads[workload] as WorkloadReport | undefined)?.contenders.find((c) => c.name === name);
}
const targets: Target[] = [];
const addTarget = (workload: WorkloadName | typeof HEAP | typeof THREADS, target: string, value: number | undefined, good: (v: number) => boolean, show: (v: number) => string): void => {
  targets.push({ workload, target, measured: value === undefined || Number.isNaN(value) ? 'n/a' : show(value), met: value === undefined || Number.isNaN(value) ? undefined : good(value) });
};
if (only.includes('chain')) {
  const s = subjectRow('chain');
  addTarget('chain', '<= 8 µs CPU per hop', s?.median, (v) => v <= 8, (v) => `${fmt(v)} µs`);
  addTarget('chain', 'within 15x of the plain-async floor', s?.xFloor, (v) => v <= 15, (v) => `${fmt(v)}x`);
  addTarget('chain', '>= 100x faster than LangGraph.js', peerRow('chain', 'LangGraph.js')?.xSlotflow, (v) => v >= 100, (v) => `${fmt(v)}x`);
  addTarget('chain', '>= 7x faster than Mastra', peerRow('chain', 'Mastra')?.xSlotflow, (v) => v >= 7, (v) => `${fmt(v)}x`);
}
if (only.includes('cycle')) addTarget('cycle', '<= 8 µs CPU per iteration', subjectRow('cycle')?.median, (v) => v <= 8, (v) => `${fmt(v)} µs`);
if (only.includes('fanout')) addTarget('fanout', `<= 1.05x the ideal ${ideaFanoutMs} ms`, divide(subjectRow('fanout')?.median, ideaFanoutMs), (v) => v <= 1.05, (v) => `${fmt(v)}x (${fmt((subjectRow('fanout')?.median ?? 0))} ms)`);
if (only.includes('throughput'))
  addTarget('throughput', '>= 20,000 jobs per CPU-second', divide(1e6, subjectRow('throughput')?.median), (v) => v >= 20_000, (v) => `${fmt(v)} jobs/s`);
// the engine's targets: against raw XState and Mastra in the same rounds, heap per hop, the XState floor beside
const inverse = (v: number | undefined): number | undefined => (v === undefined || v === 0 ? undefined : 1 / v);
if (only.includes('chain')) {
  addTarget('chain', "<= 0.6x raw XState's CPU per hop", inverse(peerRow('chain', 'raw XState')?.xSlotflow), (v) => v <= 0.6, (v) => `${fmt(v)}x`);
  addTarget('chain', '>= 1.5x faster than Mastra', peerRow('chain', 'Mastra')?.xSlotflow, (v) => v >= 1.5, (v) => `${fmt(v)}x`);
}
if (only.includes('cycle')) addTarget('cycle', "<= 0.45x raw XState's CPU per iteration", inverse(peerRow('cycle', 'raw XState')?.xSlotflow), (v) => v <= 0.45, (v) => `${fmt(v)}x`);
if (only.includes('throughput')) {
  const xstateThroughput = (report.workloads.throughput as WorkloadReport | undefined)?.contenders.find((c) => c.key === 'xstate');
  addTarget('throughput', ">= 1.3x raw XState's jobs per CPU-second", xstateThroughput?.xSlotflow, (v) => v >= 1.3, (v) => `${fmt(v)}x`);
}
if (only.includes(HEAP)) {
  const row = heap?.contenders.find((c) => c.key === 'slotflow' && c.status === 'ok');
  addTarget(HEAP, '<= 20 KB allocated per chain hop', row?.chainKBPerHop, (v) => v <= 20, (v) => `${fmt(v)} KB`);
}

if (only.includes('scale')) {
  const rows = (report.workloads.scale as (ChildRow<ScaleResult> & { n: number })[] | undefined) ?? [];
  const biggest = rows.filter((r) => r.key === 'slotflow' && r.status === 'ok').sort((a, b) => b.n - a.n)[0];
  const label = biggest ? `at ${biggest.n.toLocaleString('en')} jobs` : '';
  const rss = biggest ? median(biggest.runs.map((r) => r.rssPerJob)) : undefined;
  addTarget('scale', `<= 20 KB RSS per open keepAlive job ${label}`, rss, (v) => v <= 20 * 1024, (v) => `${fmt(v / 1024)} KB`);
  if (biggest?.n === 100_000) addTarget('scale', '100,000 open jobs in <= 2 GB RSS', median(biggest.runs.map((r) => r.rssTotal)), (v) => v <= 2 * 2 ** 30, (v) => `${fmt(v / 2 ** 20)} MB`);
  addTarget('scale', 'no timer per idle job', biggest ? Math.max(...biggest.runs.map((r) => r.activeTimers)) : undefined, (v) => v < 10, (v) => `${v} live timers with ${biggest?.n.toLocaleString('en')} idle jobs`);
}
if (only.includes('soak')) {
  const row = ((report.workloads.soak as ChildRow<SoakResult>[] | undefined) ?? []).find((r) => r.key === 'slotflow' && r.status === 'ok');
  addTarget('soak', `heap after GC within 5% of the start after ${config.soakJobs.toLocaleString('en')} jobs`, row?.runs[0]?.growthPercent, (v) => v <= 5, (v) => `${v >= 0 ? '+' : ''}${fmt(v)}%`);
}
if (only.includes(THREADS)) {
  addTarget(THREADS, '4 CPU-bound branches >= 1.8x faster on threads', threads?.speedup, (v) => v >= 1.8, (v) => `${fmt(v)}x`);
  addTarget(THREADS, 'event loop delay <= 5 ms while threads compute', threads?.threadLoopMaxMs, (v) => v <= 5, (v) => `${fmt(v)} ms`);
}
report.targets = targets;

const targetLines = [
  '',
  `== slotflow against its targets${quick ? ' — quick mode: sizes are tiny, treat as a smoke test' : ''}`,
  ...targets.map((t) => `  ${t.met === undefined ? 'n/a   ' : t.met ? 'MET   ' : 'MISSED'}  ${t.workload.padEnd(10)} ${t.target.padEnd(52)} ${t.measured}`),
];
tables.push(targetLines.join('\n'));
log(targetLines.join('\n'));

report.seconds = (performance.now() - started) / 1000;
report.sectionSeconds = sectionSeconds;
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);

log(`\n\n################ summary (${meta.mode}, ${meta.date}, node ${meta.node}, nproc ${meta.nproc}) ################`);
for (const table of tables) log(table);
if (incidents.length) log(`\nincidents during the run:\n${incidents.map((i) => `  - ${i}`).join('\n')}`);
log(`\nwrote ${outFile} in ${report.seconds.toFixed(1)} s (${Object.entries(sectionSeconds).map(([name, seconds]) => `${name} ${seconds} s`).join(', ')})`);

// the harness never fails for a peer or a baseline, nor for a missed target; it does fail (exit 1, after the
// report is written) when slotflow itself could not be loaded or threw, so that CI's quick run catches it
const subjectFailures = [
  ...unavailable.filter((u) => u.key === 'slotflow' && u.reason !== '--no-peers').map((u) => `load: ${u.reason}`),
  ...Object.entries(report.workloads).flatMap(([name, value]) => {
    const rows = (Array.isArray(value) ? value : (value as WorkloadReport).contenders) as { key: ContenderKey; status: string; reason?: string }[];
    return rows.filter((r) => r.key === 'slotflow' && r.status === 'error').map((r) => `${name}: ${r.reason ?? ''}`);
  }),
];
if (subjectFailures.length) {
  log(`\nslotflow FAILED in the benchmark:\n${subjectFailures.map((f) => `  - ${f}`).join('\n')}`);
  process.exit(1);
}
process.exit(0);

// ------------------------------------------------------------------------------------------- rendering

function divide(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function fmt(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: string[], rows: string[][], rightAlignFrom = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i >= rightAlignFrom ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function statusCell(r: { status: string; reason?: string }): string {
  return r.status === 'skipped' ? `skipped: ${r.reason ?? ''}` : `ERROR: ${r.reason ?? ''}`;
}

function renderInProcess(spec: InProcessSpec, w: WorkloadReport): string {
  const fanout = spec.name === 'fanout';
  const throughput = spec.name === 'throughput';
  const header = ['contender', `median ${spec.unit}`, 'min..max', 'x floor', 'x XState floor', 'slotflow faster by'];
  if (fanout) header.splice(3, 0, 'x ideal', 'ms CPU / batch');
  if (throughput) header.splice(3, 0, 'jobs / CPU-s', 'jobs / s wall');
  header.push('units / round');
  const rows = w.contenders.map((c) => {
    if (c.status !== 'ok') return [c.name, statusCell(c)];
    const row = [c.name, fmt(c.median), `${fmt(c.min)}..${fmt(c.max)}`, c.xFloor === undefined ? '-' : `${fmt(c.xFloor)}x`, c.xXstateFloor === undefined ? '-' : `${fmt(c.xXstateFloor)}x`, c.role === 'subject' ? '-' : c.xSlotflow === undefined ? '-' : `${fmt(c.xSlotflow)}x`];
    if (fanout) row.splice(3, 0, `${fmt((c.median ?? 0) / ideaFanoutMs)}x`, fmt((c.extra?.cpuPerUnitMedianUs ?? 0) / 1000));
    if (throughput) row.splice(3, 0, fmt(1e6 / (c.median ?? Number.NaN)), fmt(1000 / (c.extra?.wallPerUnitMedianMs ?? Number.NaN)));
    row.push(String(c.count ?? '-'));
    return row;
  });
  const notes = w.contenders.flatMap((c) => c.notes.map((n) => `  note (${c.name}): ${n}`));
  return [`\n${w.title}`, `(median of ${rounds} rounds; 'x floor' (plain async), 'x XState floor' and 'slotflow faster by' are medians of per-round ratios)`, table(header, rows), ...notes].join('\n');
}

function renderScale(rows: (ChildRow<ScaleResult> & { n: number })[]): string {
  const header = ['contender', 'open jobs', 'KB RSS / job', 'KB heap / job', 'RSS total MB', 'live timers', 'post µs CPU / job', 'post ms wall', 'complete µs CPU / job', 'complete ms wall', 'x floor (post CPU)'];
  const m = (r: ChildRow<ScaleResult>, pick: (x: ScaleResult) => number): number => median(r.runs.map(pick));
  const body = rows.filter((r) => r.status !== 'skipped').map((r) => {
    if (r.status !== 'ok') return [r.name, r.n.toLocaleString('en'), statusCell(r)];
    const floor = rows.find((f) => f.key === 'plain' && f.n === r.n && f.status === 'ok');
    const ratios = floor ? r.runs.map((run, i) => (floor.runs[i] ? run.postCpuUsPerJob / (floor.runs[i]).postCpuUsPerJob : Number.NaN)).filter((x) => !Number.isNaN(x)) : [];
    return [
      r.name,
      r.n.toLocaleString('en'),
      fmt(m(r, (x) => x.rssPerJob) / 1024),
      fmt(m(r, (x) => x.heapPerJob) / 1024),
      fmt(m(r, (x) => x.rssTotal) / 2 ** 20),
      String(Math.max(...r.runs.map((x) => x.activeTimers))),
      fmt(m(r, (x) => x.postCpuUsPerJob)),
      fmt(m(r, (x) => x.postWallMs)),
      fmt(m(r, (x) => x.completeCpuUsPerJob)),
      fmt(m(r, (x) => x.completeWallMs)),
      ratios.length ? `${fmt(median(ratios))}x` : '-',
    ];
  });
  const skipped = [...new Set(rows.filter((r) => r.status === 'skipped').map((r) => `  ${r.name}: skipped (${r.reason ?? ''})`))];
  return [`\nscale: N open keepAlive jobs waiting for a post (fresh process per measurement; median of ${config.scaleRounds} run(s))`, table(header, body), ...skipped].join('\n');
}

function renderSoak(rows: ChildRow<SoakResult>[]): string {
  const header = ['contender', 'jobs', 'heap start MB', 'heap end MB', 'growth %', 'jobs / CPU-s'];
  const body = rows.filter((r) => r.status !== 'skipped').map((r) => {
    const run = r.runs[0];
    if (r.status !== 'ok' || run === undefined) return [r.name, statusCell(r)];
    return [r.name, run.jobs.toLocaleString('en'), fmt(run.heapStart / 1e6), fmt(run.heapEnd / 1e6), `${run.growthPercent >= 0 ? '+' : ''}${fmt(run.growthPercent)}`, fmt(run.jobsPerCpuSecond)];
  });
  const skipped = rows.filter((r) => r.status === 'skipped').map((r) => `  ${r.name}: skipped (${r.reason ?? ''})`);
  return ['\nsoak: completed jobs, heap after GC against the start (fresh process)', table(header, body), ...skipped].join('\n');
}
