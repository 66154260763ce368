/**
 * The threads workload (run.ts `--only threads`): what moving CPU-bound routines to worker threads buys and costs.
 * Measured in a fresh process (threads-child.ts says what and how); this side spawns it and renders the table.
 */
import { fileURLToPath } from 'node:url';
import type { ThreadsParams, ThreadsResult } from './threads-child.js';
import { childExecArgv, errorText, median, runResultChild } from './lib/util.js';

export const THREADS = 'threads';

export interface ThreadsSummary {
  inlineMs: number;
  threadMs: number;
  /** Median of per-round inline / threads wall time. */
  speedup: number;
  /** Largest event loop delay over every threaded round (ms), and the inline median for contrast. */
  threadLoopMaxMs: number;
  inlineLoopMaxMs: number;
  trivialInlineUs: number;
  trivialThreadUs: number;
  /** Median of per-round differences (µs). */
  trivialCostUs: number;
}

export interface ThreadsReport {
  title: string;
  contenders: { key: 'slotflow'; name: string; status: 'ok' | 'error'; reason?: string }[];
  summary?: ThreadsSummary;
  raw?: ThreadsResult;
}

export async function runThreadsWorkload(options: { quick: boolean; rounds: number; log: (line: string) => void }): Promise<{ report: ThreadsReport; table: string; summary: ThreadsSummary | undefined }> {
  const { quick, rounds, log } = options;
  const title = 'threads: 4 CPU-bound branches of ~200 ms in one job, inline and on worker threads; one trivial activation each way';
  log(`\n== ${title}`);
  const params: ThreadsParams = { rounds: quick ? 2 : Math.min(rounds, 5), branchMs: quick ? 50 : 200, trivialJobs: quick ? 100 : 1_000 };
  let report: ThreadsReport;
  try {
    const script = fileURLToPath(new URL('./threads-child.ts', import.meta.url));
    const raw = await runResultChild<ThreadsResult>([...childExecArgv(THREADS), script, JSON.stringify(params)], quick, quick ? 120_000 : 600_000);
    if (raw.error !== undefined || raw.rounds.length === 0) throw new Error(raw.error ?? 'no rounds');
    const m = (pick: (r: ThreadsResult['rounds'][number]) => number) => median(raw.rounds.map(pick));
    const summary: ThreadsSummary = {
      inlineMs: m((r) => r.inlineMs),
      threadMs: m((r) => r.threadMs),
      speedup: m((r) => r.inlineMs / r.threadMs),
      threadLoopMaxMs: Math.max(...raw.rounds.map((r) => r.threadLoopMaxMs)),
      inlineLoopMaxMs: m((r) => r.inlineLoopMaxMs),
      trivialInlineUs: m((r) => r.trivialInlineUs),
      trivialThreadUs: m((r) => r.trivialThreadUs),
      trivialCostUs: m((r) => r.trivialThreadUs - r.trivialInlineUs),
    };
    report = { title, contenders: [{ key: 'slotflow', name: 'slotflow threads', status: 'ok' }], summary, raw };
  } catch (error) {
    report = { title, contenders: [{ key: 'slotflow', name: 'slotflow threads', status: 'error', reason: errorText(error) }] };
  }
  return { report, table: render(report), summary: report.summary };
}

function render(report: ThreadsReport): string {
  const s = report.summary;
  const raw = report.raw;
  if (!s || !raw) return `\n${report.title}\n  ERROR: ${report.contenders[0]?.reason ?? ''}`;
  const f = (v: number, digits = 0) => v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return [
    `\n${report.title}`,
    `(${raw.cpus} CPU(s), threads.max ${raw.threadsMax}, one branch ${f(raw.branchMs)} ms alone on the main thread; median of ${raw.rounds.length} interleaved rounds)`,
    `  fan-out, wall per job        inline ${f(s.inlineMs)} ms   threads ${f(s.threadMs)} ms   threads faster by ${f(s.speedup, 2)}x`,
    `  event loop, largest delay    threads ${f(s.threadLoopMaxMs, 1)} ms (worst round)   inline ${f(s.inlineLoopMaxMs)} ms`,
    `  trivial activation, wall     inline ${f(s.trivialInlineUs)} µs   threaded ${f(s.trivialThreadUs)} µs   a thread costs ${f(s.trivialCostUs)} µs more`,
  ].join('\n');
}
