/**
 * The heap workload (run.ts `--only heap`): heap allocated per chain hop and per cycle iteration, for every
 * in-process contender, each in a fresh process with a young generation large enough that no GC runs while it is
 * measured (heap-child.ts says how, and why that is exact). Allocation counts do not depend on the machine's load,
 * so the children run two at a time.
 */
import { fileURLToPath } from 'node:url';
import type { ContenderKey } from './contenders/index.js';
import { fmt, textTable } from './lib/format.js';
import type { ContenderInfo } from './lib/protocol.js';
import { childExecArgv, errorText, runResultChild } from './lib/util.js';

export const HEAP = 'heap';

/** The young generation of the measuring process: 256 MB semi-spaces (min = max: it never starts small). */
export const HEAP_EXEC_ARGV = ['--max-semi-space-size=256', '--min-semi-space-size=256'];

export interface HeapSample {
  /** Bytes allocated per job, the median of the samples. */
  bytesPerJob: number;
  /** Every sample's bytes per job. */
  samples: number[];
  /** Jobs per sample. */
  jobs: number;
  /** Some samples ran a GC and were corrected by what it freed (heap-child.ts says how). */
  corrected: boolean;
}

export interface HeapResult {
  chain?: HeapSample;
  cycle?: HeapSample;
  /** Why a workload was not measured. */
  skipped: Record<string, string>;
}

export interface HeapRow {
  key: ContenderKey;
  name: string;
  status: 'ok' | 'error';
  reason?: string;
  /** KB (1,024 bytes) allocated per hop of the 5-routine chain (a job's own allocations spread over its 5 hops). */
  chainKBPerHop?: number;
  /** KB allocated per iteration of the cycle (the job's own allocations spread over its iterations). */
  cycleKBPerIteration?: number;
  chain?: HeapSample;
  cycle?: HeapSample;
  skipped?: Record<string, string>;
}

export interface HeapReport {
  title: string;
  cycleTarget: number;
  contenders: HeapRow[];
}

export async function runHeapWorkload(options: {
  contenders: readonly { key: ContenderKey; info: ContenderInfo }[];
  quick: boolean;
  cycleTarget: number;
  log: (line: string) => void;
}): Promise<{ report: HeapReport; table: string }> {
  const { quick, cycleTarget, log } = options;
  const title = `heap: KB allocated per chain hop (5 routines, per job / 5) and per cycle iteration (to ${cycleTarget.toLocaleString('en')}, per job / ${cycleTarget.toLocaleString('en')}); no GC while measured`;
  log(`\n== ${title}`);
  const script = fileURLToPath(new URL('./heap-child.ts', import.meta.url));
  // the quick run (CI's smoke test) measures slotflow only: a process per contender is most of its time, the
  // measuring code is the same for every contender, and the comparison is the full run's business
  const todo = options.contenders.filter((c) => (c.info.implements.includes('chain') || c.info.implements.includes('cycle')) && (!quick || c.info.role === 'subject'));
  const rows: HeapRow[] = todo.map(({ key, info }) => ({ key, name: info.name, status: 'ok' }));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const row = rows[next++] as HeapRow;
      try {
        const args = [...childExecArgv(`heap-${row.key}`), ...HEAP_EXEC_ARGV, script, row.key, String(cycleTarget), String(quick ? 3 : 5), String(quick ? 40 : 300)];
        const result = await runResultChild<HeapResult>(args, quick, quick ? 120_000 : 600_000);
        if (result.chain) Object.assign(row, { chain: result.chain, chainKBPerHop: result.chain.bytesPerJob / 5 / 1024 });
        if (result.cycle) Object.assign(row, { cycle: result.cycle, cycleKBPerIteration: result.cycle.bytesPerJob / cycleTarget / 1024 });
        if (Object.keys(result.skipped).length) row.skipped = result.skipped;
        log(`  ${row.name}: ${fmt(row.chainKBPerHop)} KB per hop, ${fmt(row.cycleKBPerIteration)} KB per iteration`);
      } catch (error) {
        row.status = 'error';
        row.reason = errorText(error);
        log(`  ! ${row.name}: ${row.reason}`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  const report: HeapReport = { title, cycleTarget, contenders: rows };
  return { report, table: render(report) };
}

function render(report: HeapReport): string {
  const subject = report.contenders.find((r) => r.key === 'slotflow' && r.status === 'ok');
  const header = ['contender', 'KB / hop (chain)', 'x slotflow', 'KB / iteration (cycle)', 'x slotflow', 'jobs per sample (chain, cycle)'];
  const ratio = (value: number | undefined, base: number | undefined): string => (value === undefined || base === undefined ? '-' : `${fmt(value / base)}x`);
  const rows = report.contenders.map((r) =>
    r.status !== 'ok'
      ? [r.name, `ERROR: ${r.reason ?? ''}`]
      : [
          r.name,
          `${fmt(r.chainKBPerHop)}${r.chain?.corrected ? ' (GC-corrected)' : ''}`,
          r === subject ? '-' : ratio(r.chainKBPerHop, subject?.chainKBPerHop),
          `${fmt(r.cycleKBPerIteration)}${r.cycle?.corrected ? ' (GC-corrected)' : ''}`,
          r === subject ? '-' : ratio(r.cycleKBPerIteration, subject?.cycleKBPerIteration),
          `${r.chain?.jobs ?? '-'}, ${r.cycle?.jobs ?? '-'}`,
        ],
  );
  return [`\n${report.title}`, '(median of the samples; each a fresh process per contender; "x slotflow" below 1: allocates less than slotflow)', textTable(header, rows)].join('\n');
}
