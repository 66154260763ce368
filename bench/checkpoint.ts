/**
 * The checkpoint workload (run.ts `--only checkpoint`): what durable checkpoints cost. Measured in a fresh process
 * (checkpoint-child.ts says what and how); this side spawns it, summarises the rounds and renders the tables.
 *
 * The file stores write under `$SLOTFLOW_BENCH_STORE_DIR` (default: the OS temp directory); its file system is
 * printed, as fsync costs nothing on tmpfs.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CheckpointParams, CheckpointResult, CheckpointRow } from './checkpoint-child.js';
import type { Sample } from './lib/measure.js';
import { childExecArgv, errorText, median, runResultChild } from './lib/util.js';

export const CHECKPOINT = 'checkpoint';

/** One row of the summary: medians of the rounds, and medians of per-round ratios. */
export interface CheckpointSummary {
  part: CheckpointRow['part'];
  store: string;
  jobs: number;
  status: 'ok' | 'error';
  reason?: string;
  /** stores: checkpoints per second (wall); chain: jobs per second (wall). */
  perSecond?: number;
  /** CPU µs per checkpoint (stores) or per job (chain). */
  cpuUs?: number;
  /** Wall ms per job (chain). */
  wallMs?: number;
  /** stores: how many times slower than the memory store (per-round ratio of rates). */
  xMemory?: number;
  /** stores, file fsync: how many times slower than file none. */
  xNone?: number;
  /** chain: CPU and wall per job against the runtime without a store. */
  xNoStoreCpu?: number;
  xNoStoreWall?: number;
  savesPerJob?: number;
  deletesPerJob?: number;
  count?: number;
}

export interface CheckpointReport {
  title: string;
  /** For run.ts: a failure here is slotflow's, and fails the run. */
  contenders: { key: 'slotflow'; name: string; status: 'ok' | 'error'; reason?: string }[];
  dir?: string;
  fileSystem?: string;
  rounds: number;
  summary: CheckpointSummary[];
  raw?: CheckpointResult;
}

export interface CheckpointOptions {
  quick: boolean;
  rounds: number;
  log: (line: string) => void;
}

const TITLE = 'checkpoint: durable checkpoints of a ~2 KB snapshot (one job saving in sequence, 32 at once), and the chain workload with a store';

/** Runs the workload in its own process; never throws (a failure is an error row). */
export async function runCheckpointWorkload(options: CheckpointOptions): Promise<{ report: CheckpointReport; table: string }> {
  const { quick, rounds, log } = options;
  log(`\n== ${TITLE}`);
  const params: CheckpointParams = {
    rounds,
    warmupMs: quick ? 40 : 300,
    roundMs: quick ? 40 : 300,
    timeoutMs: quick ? 30_000 : 120_000,
    baseDir: process.env.SLOTFLOW_BENCH_STORE_DIR ?? os.tmpdir(),
  };
  let report: CheckpointReport;
  try {
    const raw = await spawnChild(params, quick, quick ? 60_000 : 300_000);
    report = { title: TITLE, contenders: [{ key: 'slotflow', name: 'slotflow stores', status: 'ok' }], dir: raw.dir, fileSystem: raw.fileSystem, rounds, summary: summarise(raw), raw };
    const failed = raw.rows.filter((r) => r.status === 'error');
    if (failed.length > 0) {
      report.contenders = [{ key: 'slotflow', name: 'slotflow stores', status: 'error', reason: failed.map((r) => `${r.part} ${r.store}: ${r.reason ?? ''}`).join('; ') }];
    }
  } catch (error) {
    report = { title: TITLE, contenders: [{ key: 'slotflow', name: 'slotflow stores', status: 'error', reason: errorText(error) }], rounds, summary: [] };
  }
  return { report, table: renderCheckpoint(report) };
}

function spawnChild(params: CheckpointParams, quiet: boolean, timeoutMs: number): Promise<CheckpointResult> {
  const script = fileURLToPath(new URL('./checkpoint-child.ts', import.meta.url));
  return runResultChild<CheckpointResult>([...childExecArgv(CHECKPOINT), script, JSON.stringify(params)], quiet, timeoutMs);
}

/** Per-round values of `pick`, with `undefined` where that round failed. */
function perRound(row: CheckpointRow | undefined, pick: (s: Sample) => number): (number | undefined)[] {
  return row?.rounds.map((s) => (s === null ? undefined : pick(s))) ?? [];
}

/** The median of per-round ratios a[i] / b[i]. */
function ratio(a: (number | undefined)[], b: (number | undefined)[]): number | undefined {
  const values = a.flatMap((x, i) => {
    const y = b[i];
    return x === undefined || y === undefined || y === 0 ? [] : [x / y];
  });
  return values.length ? median(values) : undefined;
}

function medianOf(values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? median(defined) : undefined;
}

export function summarise(raw: CheckpointResult): CheckpointSummary[] {
  const find = (part: CheckpointRow['part'], store: string, jobs: number): CheckpointRow | undefined =>
    raw.rows.find((r) => r.part === part && r.store === store && r.jobs === jobs && r.status === 'ok');
  const rate = (s: Sample): number => 1000 / s.wallPerUnit;
  return raw.rows.map((row): CheckpointSummary => {
    const base: CheckpointSummary = { part: row.part, store: row.store, jobs: row.jobs, status: row.status, ...(row.reason !== undefined && { reason: row.reason }), ...(row.count !== undefined && { count: row.count }) };
    if (row.status !== 'ok') return base;
    const perSecond = medianOf(perRound(row, rate));
    const cpuUs = medianOf(perRound(row, (s) => s.cpuPerUnit));
    if (row.part === 'stores') {
      const memory = find('stores', 'memory', row.jobs);
      const none = find('stores', 'file none', row.jobs);
      const xMemory = row.store === 'memory' ? undefined : ratio(perRound(memory, rate), perRound(row, rate));
      const xNone = row.store === 'file fsync' ? ratio(perRound(none, rate), perRound(row, rate)) : undefined;
      return { ...base, ...(perSecond !== undefined && { perSecond }), ...(cpuUs !== undefined && { cpuUs }), ...(xMemory !== undefined && { xMemory }), ...(xNone !== undefined && { xNone }) };
    }
    const noStore = find('chain', 'no store', 1);
    const wallMs = medianOf(perRound(row, (s) => s.wallPerUnit));
    const isBase = row.store === 'no store';
    const xNoStoreCpu = isBase ? undefined : ratio(perRound(row, (s) => s.cpuPerUnit), perRound(noStore, (s) => s.cpuPerUnit));
    const xNoStoreWall = isBase ? undefined : ratio(perRound(row, (s) => s.wallPerUnit), perRound(noStore, (s) => s.wallPerUnit));
    return {
      ...base,
      ...(perSecond !== undefined && { perSecond }),
      ...(cpuUs !== undefined && { cpuUs }),
      ...(wallMs !== undefined && { wallMs }),
      ...(xNoStoreCpu !== undefined && { xNoStoreCpu }),
      ...(xNoStoreWall !== undefined && { xNoStoreWall }),
      ...(row.savesPerJob !== undefined && { savesPerJob: row.savesPerJob }),
      ...(row.deletesPerJob !== undefined && { deletesPerJob: row.deletesPerJob }),
    };
  });
}

function fmt(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const times = (value: number | undefined): string => (value === undefined ? '-' : `${fmt(value)}x`);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i >= 1 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderCheckpoint(report: CheckpointReport): string {
  const failure = report.contenders.find((c) => c.status === 'error' && report.summary.length === 0);
  if (failure) return `\n${report.title}\n  ERROR: ${failure.reason ?? ''}`;
  const stores = report.summary.filter((s) => s.part === 'stores');
  const chain = report.summary.filter((s) => s.part === 'chain');
  const error = (s: CheckpointSummary): string[] => [s.part === 'stores' ? `${s.store}, ${s.jobs} job${s.jobs === 1 ? '' : 's'}` : s.store, `ERROR: ${s.reason ?? ''}`];
  const storeTable = table(
    ['store', 'checkpoints / s', 'µs CPU / checkpoint', 'x memory (slower by)', 'fsync x none', 'per round'],
    stores.map((s) =>
      s.status !== 'ok'
        ? error(s)
        : [`${s.store}, ${s.jobs} job${s.jobs === 1 ? '' : 's'}`, fmt(s.perSecond), fmt(s.cpuUs), times(s.xMemory), times(s.xNone), String(s.count ?? '-')],
    ),
  );
  const chainTable = table(
    ['chain job, store', 'jobs / s wall', 'ms wall / job', 'µs CPU / job', 'x no store (CPU)', 'x no store (wall)', 'saves + deletes / job', 'per round'],
    chain.map((s) =>
      s.status !== 'ok'
        ? error(s)
        : [s.store, fmt(s.perSecond), fmt(s.wallMs), fmt(s.cpuUs), times(s.xNoStoreCpu), times(s.xNoStoreWall), s.savesPerJob === undefined ? '-' : `${s.savesPerJob} + ${s.deletesPerJob ?? 0}`, String(s.count ?? '-')],
    ),
  );
  return [
    `\n${report.title}`,
    `(median of ${report.rounds} rounds, ratios are medians of per-round ratios; files in ${report.dir ?? '?'} on ${report.fileSystem ?? '?'})`,
    storeTable,
    '',
    'chain (5 routines, each waiting one turn before it emits, one job at a time) on a runtime without a store and with each store: job.wait(), then job.checkpoint()',
    chainTable,
  ].join('\n');
}
