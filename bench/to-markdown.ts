/**
 * Render a results file as the Markdown tables of BENCHMARKS.md:
 *   node --import tsx bench/to-markdown.ts [bench/results/latest.json]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ScaleResult, SoakResult } from './child.js';
import type { HeapReport } from './heap.js';
import type { JobsizeReport } from './jobsize.js';

interface Row {
  key: string;
  name: string;
  version: string;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  count?: number;
  median?: number;
  min?: number;
  max?: number;
  xFloor?: number;
  xSlotflow?: number;
  xXstateFloor?: number;
  extra?: { cpuPerUnitMedianUs: number; wallPerUnitMedianMs: number };
}
interface ChildRow<T> {
  key: string;
  name: string;
  n?: number;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  runs: T[];
}
interface Results {
  meta: { date: string; mode: string; node: string; platform: string; cpu: string; nproc: number; memoryGB: number; rounds: number };
  unavailable: { name: string; reason: string }[];
  workloads: {
    chain?: { title: string; contenders: Row[] };
    cycle?: { title: string; contenders: Row[] };
    fanout?: { title: string; contenders: Row[] };
    throughput?: { title: string; contenders: Row[] };
    jobsize?: JobsizeReport;
    heap?: HeapReport;
    scale?: ChildRow<ScaleResult>[];
    soak?: ChildRow<SoakResult>[];
  };
  targets: { workload: string; target: string; measured: string; met?: boolean }[];
  seconds: number;
}

const file = process.argv[2] ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
const { meta, workloads } = results;
const out: string[] = [];

function fmt(value: number | undefined, digits?: number): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
}
const x = (v: number | undefined): string => (v === undefined ? '-' : `${fmt(v)}x`);
function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
}
function table(header: string[], rows: string[][]): void {
  const left = new Set(['contender', 'version', 'workload', 'target']);
  out.push(`| ${header.join(' | ')} |`, `|${header.map((h) => (left.has(h) ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), '');
}
const cell = (r: { status: string; reason?: string }): string => (r.status === 'skipped' ? `skipped: ${r.reason ?? ''}` : `**error**: ${r.reason ?? ''}`);

out.push(
  `Run of ${meta.date.slice(0, 10)} (${meta.mode}; ${meta.rounds} rounds; ${fmt(results.seconds, 0)} s): node ${meta.node}, ${meta.platform}, nproc ${meta.nproc} (${meta.cpu}), ${meta.memoryGB} GB.`,
  '',
);

// the headline: one row per contender, one column per in-process workload
const names = [...new Set([workloads.chain, workloads.cycle, workloads.fanout, workloads.throughput].flatMap((w) => (w?.contenders ?? []).map((c) => c.name)))];
const find = (w: { contenders: Row[] } | undefined, name: string): Row | undefined => w?.contenders.find((c) => c.name === name);
const headline = (r: Row | undefined, show: (r: Row) => string): string => (r === undefined ? '-' : r.status === 'ok' ? show(r) : r.status === 'skipped' ? 'skipped' : '**error**');
out.push('### Headline (medians; ratios are medians of per-round ratios; "x slotflow" > 1 means slower than slotflow; "x XState floor": against XState\'s events alone with trivial hosts)', '');
table(
  ['contender', 'chain µs CPU/hop', 'x floor', 'x XState floor', 'x slotflow', 'cycle µs CPU/iteration', 'x slotflow', 'fan-out ms wall (x ideal)', 'throughput jobs/CPU-s', 'x slotflow'],
  // Contenders of the in-process workloads only (the checkpoint workload has its own section).
  names.filter((name) => [workloads.chain, workloads.cycle, workloads.fanout, workloads.throughput].some((w) => find(w, name) !== undefined)).map((name) => {
    const chain = find(workloads.chain, name);
    const cycle = find(workloads.cycle, name);
    const fanout = find(workloads.fanout, name);
    const throughput = find(workloads.throughput, name);
    const isSubject = chain?.key === 'slotflow';
    return [
      isSubject ? `**${name}**` : name,
      headline(chain, (r) => fmt(r.median)),
      headline(chain, (r) => x(r.xFloor)),
      headline(chain, (r) => x(r.xXstateFloor)),
      isSubject ? '-' : headline(chain, (r) => x(r.xSlotflow)),
      headline(cycle, (r) => fmt(r.median)),
      isSubject ? '-' : headline(cycle, (r) => x(r.xSlotflow)),
      headline(fanout, (r) => `${fmt(r.median)} (${fmt((r.median ?? 0) / 100, 2)}x)`),
      headline(throughput, (r) => fmt(1e6 / (r.median ?? Number.NaN), 0)),
      isSubject ? '-' : headline(throughput, (r) => x(r.xSlotflow)),
    ];
  }),
);

for (const [key, unit] of [
  ['chain', 'µs CPU / hop'],
  ['cycle', 'µs CPU / iteration'],
  ['fanout', 'ms wall / batch'],
  ['throughput', 'µs CPU / job'],
] as const) {
  const w = workloads[key];
  if (w === undefined) continue;
  out.push(`### ${w.title}`, '');
  table(
    ['contender', 'version', `median ${unit}`, 'min..max', 'x floor', 'x XState floor', 'x slotflow', key === 'fanout' ? 'ms CPU / batch' : 'wall ms / unit', 'units / round'],
    w.contenders.map((r) =>
      r.status !== 'ok'
        ? [r.name, r.version, cell(r), '', '', '', '', '', '']
        : [
            r.name,
            r.version,
            fmt(r.median),
            `${fmt(r.min)}..${fmt(r.max)}`,
            x(r.xFloor),
            x(r.xXstateFloor),
            r.key === 'slotflow' ? '-' : x(r.xSlotflow),
            key === 'fanout' ? fmt((r.extra?.cpuPerUnitMedianUs ?? 0) / 1000) : fmt(r.extra?.wallPerUnitMedianMs),
            String(r.count ?? '-'),
          ],
    ),
  );
}

if (workloads.jobsize) {
  const w = workloads.jobsize;
  out.push(`### ${w.title}`, '');
  table(
    ['contender', ...w.lengths.map((l) => `${l} routine${l === 1 ? '' : 's'}: µs CPU / job`), 'per hop µs (slope)', 'per job µs (intercept)'],
    w.contenders.map((r) =>
      r.status !== 'ok'
        ? [r.name, cell(r), ...w.lengths.map(() => ''), '']
        : [r.key === 'slotflow' ? `**${r.name}**` : r.name, ...w.lengths.map((l) => fmt(r.perLength.find((p) => p.length === l)?.medianUs)), fmt(r.perHopUs), fmt(r.perJobUs)],
    ),
  );
}

if (workloads.heap) {
  const w = workloads.heap;
  const subject = w.contenders.find((r) => r.key === 'slotflow' && r.status === 'ok');
  const ratio = (value: number | undefined, base: number | undefined): string => (value === undefined || base === undefined ? '-' : x(value / base));
  out.push(`### ${w.title}`, '');
  table(
    ['contender', 'KB / hop (chain)', 'x slotflow', 'KB / iteration (cycle)', 'x slotflow', 'jobs per sample (chain, cycle)'],
    w.contenders.map((r) =>
      r.status !== 'ok'
        ? [r.name, cell(r), '', '', '', '']
        : [
            r.key === 'slotflow' ? `**${r.name}**` : r.name,
            `${fmt(r.chainKBPerHop)}${r.chain?.corrected ? ' (GC-corrected)' : ''}`,
            r === subject ? '-' : ratio(r.chainKBPerHop, subject?.chainKBPerHop),
            `${fmt(r.cycleKBPerIteration)}${r.cycle?.corrected ? ' (GC-corrected)' : ''}`,
            r === subject ? '-' : ratio(r.cycleKBPerIteration, subject?.cycleKBPerIteration),
            `${r.chain?.jobs ?? '-'}, ${r.cycle?.jobs ?? '-'}`,
          ],
    ),
  );
}

if (workloads.scale) {
  out.push('### scale: N open keepAlive jobs, each idle and waiting for a post (fresh process per measurement)', '');
  const m = (r: ChildRow<ScaleResult>, pick: (s: ScaleResult) => number): number => median(r.runs.map(pick));
  table(
    ['contender', 'open jobs', 'KB RSS / job', 'KB heap / job', 'RSS total MB', 'live timers', 'post: µs CPU / job', 'post: ms wall', 'complete: µs CPU / job', 'complete: ms wall'],
    workloads.scale
      .filter((r) => r.status !== 'skipped')
      .map((r) =>
        r.status !== 'ok'
          ? [r.name, fmt(r.n, 0), cell(r), '', '', '', '', '', '', '']
          : [
              r.name,
              fmt(r.n, 0),
              fmt(m(r, (s) => s.rssPerJob) / 1024),
              fmt(m(r, (s) => s.heapPerJob) / 1024),
              fmt(m(r, (s) => s.rssTotal) / 2 ** 20),
              String(Math.max(...r.runs.map((s) => s.activeTimers))),
              fmt(m(r, (s) => s.postCpuUsPerJob)),
              fmt(m(r, (s) => s.postWallMs)),
              fmt(m(r, (s) => s.completeCpuUsPerJob)),
              fmt(m(r, (s) => s.completeWallMs)),
            ],
      ),
  );
}

if (workloads.soak) {
  out.push('### soak: completed 3-routine jobs, heap after GC against the start (fresh process)', '');
  table(
    ['contender', 'jobs', 'heap start MB', 'heap end MB', 'growth', 'heap after GC at each tenth, MB', 'jobs / CPU-s'],
    workloads.soak
      .filter((r) => r.status !== 'skipped')
      .map((r) => {
        const s = r.runs[0];
        return r.status !== 'ok' || s === undefined
          ? [r.name, cell(r), '', '', '', '', '']
          : [r.name, fmt(s.jobs, 0), fmt(s.heapStart / 1e6), fmt(s.heapEnd / 1e6), `${s.growthPercent >= 0 ? '+' : ''}${fmt(s.growthPercent, 2)}%`, s.checkpoints.map((c) => fmt(c / 1e6, 1)).join(' '), fmt(s.jobsPerCpuSecond, 0)];
      }),
  );
}

out.push('### slotflow against its targets', '');
table(
  ['workload', 'target', 'measured', 'status'],
  results.targets.map((t) => [t.workload, t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'met' : '**missed**']),
);
if (results.unavailable.length) out.push(...results.unavailable.map((u) => `- ${u.name} not run: ${u.reason}`), '');

console.log(out.join('\n'));
