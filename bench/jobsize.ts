/**
 * The jobsize workload (run.ts `--only jobsize`): what a job costs for itself and what each hop adds. Chains of 1,
 * 2, 5 and 10 trivial routines, one job at a time; every contender and length in the same interleaved rounds
 * (lib/rounds.ts), CPU per job; then per contender a least-squares line through the medians, CPU per job against routines per job:
 * the slope is the cost per hop, the intercept the fixed cost per job (admission, the supervisor, the job's state,
 * its end). Contenders without a chain of any length (the peers) are left out.
 */
import type { ContenderKey } from './contenders/index.js';
import type { Calibration } from './lib/measure.js';
import type { ContenderInfo, WorkloadParams } from './lib/protocol.js';
import { runRounds } from './lib/rounds.js';
import { fitLine, fmt, textTable } from './lib/format.js';
import { median } from './lib/util.js';

export const JOBSIZE = 'jobsize';

/** Routines per job; the quick run (a smoke test in CI) takes the two ends only. */
export const JOBSIZE_LENGTHS: readonly number[] = [1, 2, 5, 10];
export const JOBSIZE_LENGTHS_QUICK: readonly number[] = [1, 10];

export interface JobsizeRow {
  key: ContenderKey;
  name: string;
  status: 'ok' | 'error';
  reason?: string;
  /** Median CPU µs per job, and the jobs per round, for each length. */
  perLength: { length: number; medianUs: number; count: number }[];
  /** The fitted line: µs CPU per hop (slope) and per job (intercept). */
  perHopUs?: number;
  perJobUs?: number;
}

export interface JobsizeReport {
  title: string;
  lengths: readonly number[];
  contenders: JobsizeRow[];
}

export async function runJobsizeWorkload(options: {
  lengths: readonly number[];
  contenders: readonly { key: ContenderKey; info: ContenderInfo }[];
  params: Omit<WorkloadParams, 'chainLength'>;
  calibration: Calibration;
  rounds: number;
  log: (line: string) => void;
  incident: (text: string) => void;
}): Promise<{ report: JobsizeReport; table: string }> {
  const { log, lengths } = options;
  const title = `jobsize: chains of ${lengths.join(', ')} routines, one job at a time; CPU per job = per job + routines x per hop (least squares over the medians)`;
  log(`\n== ${title}`);
  const contenders = options.contenders.filter((c) => c.info.implements.includes('jobsize'));
  const rows = new Map<ContenderKey, JobsizeRow>(contenders.map(({ key, info }) => [key, { key, name: info.name, status: 'ok', perLength: [] }]));
  // every (contender, length) pair is an entry of the same rounds: the lengths interleave, so the machine's drift
  // during the run moves every point of a line alike rather than tilting it
  const entries = lengths.flatMap((length) => contenders.map(({ key, info }) => ({ key, info, length, params: { chainLength: length }, label: `(${length})` })));
  const results = await runRounds(entries, {
    workload: 'jobsize',
    params: { ...options.params, chainLength: 5 },
    calibration: options.calibration,
    rounds: options.rounds,
    log,
    incident: options.incident,
  });
  results.forEach((result, i) => {
    const entry = entries[i];
    const row = entry === undefined ? undefined : rows.get(entry.key);
    if (entry === undefined || row?.status !== 'ok') return;
    if (result.status !== 'ok') {
      row.status = 'error';
      row.reason = `${entry.length} routines: ${result.reason ?? result.status}`;
      return;
    }
    const cpu = result.rounds.filter((s) => s !== null).map((s) => s.cpuPerUnit);
    row.perLength.push({ length: entry.length, medianUs: median(cpu), count: result.count ?? 0 });
  });
  for (const row of rows.values()) {
    if (row.status !== 'ok') continue;
    const line = fitLine(row.perLength.map((p) => p.length), row.perLength.map((p) => p.medianUs));
    row.perHopUs = line.slope;
    row.perJobUs = line.intercept;
  }
  const report: JobsizeReport = { title, lengths, contenders: [...rows.values()] };
  return { report, table: render(report, options.rounds) };
}

function render(report: JobsizeReport, rounds: number): string {
  const header = ['contender', ...report.lengths.map((l) => `${l} routine${l === 1 ? '' : 's'} µs/job`), 'per hop µs (slope)', 'per job µs (intercept)'];
  const rows = report.contenders.map((r) =>
    r.status !== 'ok'
      ? [r.name, `ERROR: ${r.reason ?? ''}`]
      : [r.name, ...report.lengths.map((l) => fmt(r.perLength.find((p) => p.length === l)?.medianUs)), fmt(r.perHopUs), fmt(r.perJobUs)],
  );
  return [`\n${report.title}`, `(median µs CPU per job of ${rounds} rounds per length)`, textTable(header, rows)].join('\n');
}
