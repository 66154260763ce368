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
import { messageOf } from './CliError.js';
import { printable, printableId } from './terminalText.js';

export interface ProgressCounts {
  completed: number;
  failed: number;
  cancelled: number;
  /** Stopped by Ctrl-C or SIGTERM with a store: kept there, unfinished, for the next run. */
  suspended: number;
}

/** How a job ended for this run: its final status, or `suspended` (kept in the store). */
export type JobOutcome = 'completed' | 'failed' | 'cancelled' | 'suspended';

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

/** `done / total` of a `routine.progress` event, between 0 and 1; undefined when the event does not carry one. */
function fractionOf(event: unknown): number | undefined {
  const { done, total } = event as { done?: unknown; total?: unknown };
  if (typeof done !== 'number' || typeof total !== 'number' || !Number.isFinite(done) || !Number.isFinite(total) || total <= 0) return undefined;
  return Math.min(1, Math.max(0, done / total));
}

function outcomeOf(state: JobState): JobOutcome {
  return state.status === 'completed' || state.status === 'failed' ? state.status : 'cancelled';
}

export function createProgress(options: ProgressOptions): Progress {
  const counts: ProgressCounts = { completed: 0, failed: 0, cancelled: 0, suspended: 0 };
  const started = performance.now();
  let activations = 0;
  /** Running activations per job (`jobId` -> `routineId` -> reported fraction, 0 until one is reported). */
  const running = new Map<string, Map<string, number>>();
  let runningCount = 0;
  const rate = () => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? Math.round(activations / seconds) : 0;
  };
  const done = () => counts.completed + counts.failed + counts.cancelled + counts.suspended;
  let total = options.total;

  const onEvent = (event: JobEvent) => {
    // Matched by type string: `routine.progress` may come from a newer runtime than this CLI knows.
    const type: string = event.type;
    const { jobId } = event;
    const routineId = (event as { routineId?: unknown }).routineId;
    if (typeof routineId !== 'string') {
      if (type === 'job.completed' || type === 'job.failed' || type === 'job.cancelled') dropJob(jobId);
      return;
    }
    if (type === 'routine.started') {
      let routines = running.get(jobId);
      if (!routines) running.set(jobId, (routines = new Map<string, number>()));
      if (!routines.has(routineId)) runningCount++;
      routines.set(routineId, 0);
    } else if (type === 'routine.completed' || type === 'routine.failed') {
      activations++;
      const routines = running.get(jobId);
      if (routines?.delete(routineId)) runningCount--;
      if (routines?.size === 0) running.delete(jobId);
    } else if (type === 'routine.progress') {
      const fraction = fractionOf(event);
      const routines = running.get(jobId);
      if (fraction !== undefined && routines?.has(routineId)) routines.set(routineId, fraction);
    }
  };
  const dropJob = (jobId: string) => {
    runningCount -= running.get(jobId)?.size ?? 0;
    running.delete(jobId);
  };
  /** Counts a job that ended for this run; true when more jobs ended than were announced (resumed ones). */
  const endJob = (state: JobState, outcome: JobOutcome): boolean => {
    dropJob(state.jobId);
    counts[outcome]++;
    if (done() <= total) return false;
    total = done();
    return true;
  };
  /** The progress of either kind: what counts is shared, how a job, a note and the end show differs. */
  const progress = (shown: Pick<Progress, 'job' | 'note' | 'stop'>): Progress => ({
    ...shown,
    counts,
    get activations() {
      return activations;
    },
    event: onEvent,
  });

  if (!options.live) {
    const width = String(total).length;
    return progress({
      job(state, outcome = outcomeOf(state)) {
        endJob(state, outcome);
        const ms = state.finishedAt === undefined ? '' : ` in ${Math.round(state.finishedAt - state.startedAt)} ms`;
        const why = outcome === 'suspended' ? ` (kept in the store, status ${state.status})` : state.error ? `: ${printable(firstLine(messageOf(state.error)))}` : '';
        options.lines.write(`[${String(done()).padStart(width)}/${total}] job ${printableId(state.jobId)} ${outcome}${ms}${why}\n`);
      },
      note(text) {
        options.lines.write(`${text}\n`);
      },
      stop() {
        // Nothing live to stop.
      },
    });
  }

  const bar = new cliProgress.SingleBar(
    {
      stream: options.stream,
      format: 'jobs {bar} {jobs}/{total} | activations: {activations} done, {running} running{share} | {rate}/s | {outcomes} | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  /** Finished jobs plus, for each running job, the mean reported fraction of its running activations. */
  const value = () => {
    let partial = 0;
    for (const routines of running.values()) {
      if (routines.size === 0) continue;
      let sum = 0;
      for (const fraction of routines.values()) sum += fraction;
      partial += sum / routines.size;
    }
    return Math.min(total, done() + partial);
  };
  const share = () => {
    const partial = value() - done();
    return partial > 0 ? ` (${Math.round((100 * partial) / Math.max(1, running.size))}% of the running jobs)` : '';
  };
  const outcomes = () => `${counts.completed} completed, ${counts.failed} failed, ${counts.cancelled} cancelled${counts.suspended > 0 ? `, ${counts.suspended} suspended` : ''}`;
  const payload = () => ({ outcomes: outcomes(), jobs: done(), activations, running: runningCount, share: share(), rate: rate() });
  bar.start(total, 0, payload());
  // Activations and reported progress change without a job finishing: redraw a few times a second.
  const ticker = setInterval(() => {
    bar.update(value(), payload());
  }, 250);
  ticker.unref();
  let stopped = false;
  return progress({
    job(state, outcome = outcomeOf(state)) {
      if (endJob(state, outcome)) bar.setTotal(total);
      bar.update(value(), payload());
    },
    note(text) {
      if (stopped) {
        options.stream.write(`${text}\n`);
        return;
      }
      // The bar restores the cursor to where it started when it stops: stop it, write, and start it again below.
      bar.stop();
      options.stream.write(`${text}\n`);
      bar.start(total, value(), payload());
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      bar.update(value(), payload());
      bar.stop();
    },
  });
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
