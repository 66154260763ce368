/**
 * reportRun: how `slotflow run` ends: the summary line and the per-routine table, what `--out` holds, and then why
 * the run did not succeed (interrupted, or the first few jobs that did not complete). Returns the exit code.
 */
import { join } from 'node:path';
import type { FlowMetrics, JobState } from 'slotflow';
import { messageOf } from './CliError.js';
import { plural } from './plural.js';
import type { ProgressCounts } from './Progress.js';
import type { RunOutput } from './RunOutput.js';
import { EXIT_CODES, type RunState } from './runSignals.js';
import { routineTable } from './summary.js';
import { printable, printableId } from './terminalText.js';

/** Failures listed one by one at the end; past this, counted. */
export const LISTED_FAILURES = 5;

/** Jobs that ended, and the first few unsuccessful ones: a run of a million jobs holds no more. */
export interface EndedJobs {
  finished: number;
  unsuccessfulCount: number;
  readonly unsuccessful: JobState[];
}

export interface RunResult {
  readonly manifest: string;
  readonly options: { readonly routines: string; readonly store?: string; readonly out?: string };
  readonly flowId: string;
  readonly routineIds: readonly string[];
  readonly metrics: FlowMetrics | undefined;
  readonly seconds: number;
  /** Jobs this run meant to run (resumed and new). */
  readonly total: number;
  readonly ended: EndedJobs;
  readonly counts: Readonly<ProgressCounts>;
  readonly run: RunState;
  readonly output: RunOutput;
}

export function reportRun(result: RunResult): number {
  const { stdout, stderr } = process;
  const { counts, ended, run, options } = result;
  const notStarted = result.total - ended.finished;
  stdout.write(
    `\n${plural(ended.finished, 'job')} of flow '${result.flowId}' in ${result.seconds.toFixed(2)} s: ${counts.completed} completed, ${counts.failed} failed, ${counts.cancelled} cancelled` +
      `${counts.suspended > 0 ? `, ${counts.suspended} suspended` : ''}${notStarted > 0 ? `, ${notStarted} not started` : ''}\n\n`,
  );
  stdout.write(`${routineTable(result.metrics, result.routineIds)}\n`);
  const writeFailed = result.output.report();
  if (run.stop.signal !== undefined) return reportInterrupted(result, run.stop.signal);
  if (ended.unsuccessfulCount === 0) return writeFailed ? 1 : 0;
  stderr.write('\n');
  for (const state of ended.unsuccessful) stderr.write(`Job ${printableId(state.jobId)} ${state.status}: ${state.error ? printable(messageOf(state.error)) : '(no error recorded)'}\n`);
  if (ended.unsuccessfulCount > LISTED_FAILURES) stderr.write(`... and ${ended.unsuccessfulCount - LISTED_FAILURES} more (see the job states${options.out === undefined ? '; --out DIR writes them' : ` in ${join(options.out, 'jobs')}`})\n`);
  return 1;
}

/** A run stopped by a signal: what became of its jobs, and with a store, the command that resumes them. */
function reportInterrupted({ manifest, options, counts, run }: RunResult, signal: keyof typeof EXIT_CODES): number {
  const { stderr } = process;
  if (run.stop.suspendError !== undefined) stderr.write(`\nslotflow: saving the suspended jobs failed: ${printable(messageOf(run.stop.suspendError))}\n`);
  if (options.store !== undefined) {
    const kept = counts.suspended;
    const resume = ['slotflow', 'run', manifest, '--routines', options.routines, '--store', options.store, '--jobs', '0'].map(shellWord).join(' ');
    stderr.write(`\nInterrupted: ${plural(kept, 'job')} suspended and kept in ${printable(options.store)}; \`${printable(resume)}\` resumes ${kept === 1 ? 'it' : 'them'}.\n`);
  } else stderr.write(`\nInterrupted: ${plural(counts.cancelled, 'job')} cancelled.\n`);
  return EXIT_CODES[signal];
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
