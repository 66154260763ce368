/**
 * The jobsize workload (run.ts `--only jobsize`): what a job costs for itself and what each hop adds. Chains of 1,
 * 2, 5 and 10 trivial routines, one job at a time; for each length the usual interleaved rounds (lib/rounds.ts),
 * CPU per job; then per contender a least-squares line through the medians, CPU per job against routines per job:
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

export const JOBSIZE_LENGTHS = [1, 2, 5, 10] as const;

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
  contenders: readonly { key: ContenderKey; info: ContenderInfo }[];
  params: Omit<WorkloadParams, 'chainLength'>;
  calibration: Calibration;
  rounds: number;
  log: (line: string) => void;
  incident: (text: string) => void;
}): Promise<{ report: JobsizeReport; table: string }> {
  const { log } = options;
  const title = `jobsize: chains of ${JOBSIZE_LENGTHS.join(', ')} routines, one job at a time; CPU per job = per job + routines x per hop (least squares over the medians)`;
  log(`\n== ${title}`);
  const contenders = options.contenders.filter((c) => c.info.implements.includes('jobsize'));
  const rows = new Map<ContenderKey, JobsizeRow>(contenders.map(({ key, info }) => [key, { key, name: info.name, status: 'ok', perLength: [] }]));
  for (const length of JOBSIZE_LENGTHS) {
    log(`  -- ${length} routine(s) per job`);
    const results = await runRounds(contenders, {
      workload: 'jobsize',
      params: { ...options.params, chainLength: length },
      calibration: options.calibration,
      rounds: options.rounds,
      log,
      incident: options.incident,
    });
    for (const result of results) {
      const row = rows.get(result.key);
      if (row?.status !== 'ok') continue;
      if (result.status !== 'ok') {
        row.status = 'error';
        row.reason = `${length} routines: ${result.reason ?? result.status}`;
        continue;
      }
      const cpu = result.rounds.filter((s) => s !== null).map((s) => s.cpuPerUnit);
      row.perLength.push({ length, medianUs: median(cpu), count: result.count ?? 0 });
    }
  }
  for (const row of rows.values()) {
    if (row.status !== 'ok') continue;
    const line = fitLine(row.perLength.map((p) => p.length), row.perLength.map((p) => p.medianUs));
    row.perHopUs = line.slope;
    row.perJobUs = line.intercept;
  }
  const report: JobsizeReport = { title, lengths: JOBSIZE_LENGTHS, contenders: [...rows.values()] };
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
