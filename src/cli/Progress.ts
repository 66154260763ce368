/**
 * Progress: what `slotflow run` shows while jobs run. On a terminal, a live bar (cli-progress); elsewhere (a pipe, a
 * CI log), one plain line per finished job, no ANSI codes.
 *
 * The bar counts activations, not only whole jobs: a single six-second job must not sit at 0/1 until it ends. It
 * shows the activations done and running, and when routines report their progress (`routine.progress` events with
 * `{ done, total }`), a running job's share of the bar moves with it.
 */
import cliProgress from 'cli-progress';
import type { JobEvent, JobState } from 'slotflow';
import { createProgressTally, type JobOutcome, type ProgressCounts, type ProgressTally } from './ProgressTally.js';
import { messageOf } from './CliError.js';
import { printable, printableId } from './terminalText.js';

export type { JobOutcome, ProgressCounts } from './ProgressTally.js';

export interface Progress {
  /** A job ended for this run (`outcome` defaults to its status). */
  job(state: JobState, outcome?: JobOutcome): void;
  /** An event of the runtime: activations and their reported progress. */
  event(event: JobEvent): void;
  /** A message between progress updates (the bar is redrawn below it). */
  note(text: string): void;
  stop(): void;
  readonly counts: Readonly<ProgressCounts>;
  /** Activations that ended (completed or failed). */
  readonly activations: number;
}

export interface ProgressOptions {
  readonly total: number;
  readonly stream: NodeJS.WriteStream;
  /** Live bar (true) or plain lines (false). */
  readonly live: boolean;
  /** Where plain lines go. */
  readonly lines: NodeJS.WritableStream;
}

function outcomeOf(state: JobState): JobOutcome {
  return state.status === 'completed' || state.status === 'failed' ? state.status : 'cancelled';
}

/** How a job's end, a note and the end of the run show: the part that differs between a terminal and a pipe. */
type Shown = Pick<Progress, 'job' | 'note' | 'stop'>;

export function createProgress(options: ProgressOptions): Progress {
  const tally = createProgressTally(options.total);
  // What counts is shared; how it shows differs.
  const shown = options.live ? liveBar(tally, options.stream) : plainLines(tally, options.lines);
  return {
    ...shown,
    counts: tally.counts,
    get activations() {
      return tally.activations;
    },
    event: (event) => {
      tally.event(event);
    },
  };
}

/** Elsewhere than a terminal (a pipe, a CI log): one line per finished job, no ANSI codes. */
function plainLines(tally: ProgressTally, lines: NodeJS.WritableStream): Shown {
  const width = String(tally.total).length;
  return {
    job(state, outcome = outcomeOf(state)) {
      tally.endJob(state, outcome);
      const ms = state.finishedAt === undefined ? '' : ` in ${Math.round(state.finishedAt - state.startedAt)} ms`;
      const why = outcome === 'suspended' ? ` (kept in the store, status ${state.status})` : state.error ? `: ${printable(firstLine(messageOf(state.error)))}` : '';
      lines.write(`[${String(tally.done()).padStart(width)}/${tally.total}] job ${printableId(state.jobId)} ${outcome}${ms}${why}\n`);
    },
    note(text) {
      lines.write(`${text}\n`);
    },
    stop() {
      // Nothing live to stop.
    },
  };
}

/** On a terminal: one live bar, redrawn a few times a second. */
function liveBar(tally: ProgressTally, stream: NodeJS.WriteStream): Shown {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'jobs {bar} {jobs}/{total} | activations: {activations} done, {running} running{share} | {rate}/s | {outcomes} | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const share = () => {
    const partial = tally.value() - tally.done();
    return partial > 0 ? ` (${Math.round((100 * partial) / Math.max(1, tally.runningJobs))}% of the running jobs)` : '';
  };
  const { counts } = tally;
  const outcomes = () => `${counts.completed} completed, ${counts.failed} failed, ${counts.cancelled} cancelled${counts.suspended > 0 ? `, ${counts.suspended} suspended` : ''}`;
  const payload = () => ({ outcomes: outcomes(), jobs: tally.done(), activations: tally.activations, running: tally.running, share: share(), rate: tally.rate() });
  bar.start(tally.total, 0, payload());
  // Activations and reported progress change without a job finishing: redraw a few times a second.
  const ticker = setInterval(() => {
    bar.update(tally.value(), payload());
  }, 250);
  ticker.unref();
  let stopped = false;
  return {
    job(state, outcome = outcomeOf(state)) {
      if (tally.endJob(state, outcome)) bar.setTotal(tally.total);
      bar.update(tally.value(), payload());
    },
    note(text) {
      if (stopped) {
        stream.write(`${text}\n`);
        return;
      }
      // The bar restores the cursor to where it started when it stops: stop it, write, and start it again below.
      bar.stop();
      stream.write(`${text}\n`);
      bar.start(tally.total, tally.value(), payload());
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      bar.update(tally.value(), payload());
      bar.stop();
    },
  };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
