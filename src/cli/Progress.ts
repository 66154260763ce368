/**
 * Progress: what `slotflow run` shows while jobs run. On a terminal, a live bar (cli-progress) with jobs done and
 * failed and activations per second; elsewhere (a pipe, a CI log), one plain line per finished job, no ANSI codes.
 */
import cliProgress from 'cli-progress';
import type { JobState } from 'slotflow';
import { messageOf } from './CliError.js';

export interface ProgressCounts {
  completed: number;
  failed: number;
  cancelled: number;
}

export interface Progress {
  /** A job finished. */
  job(state: JobState): void;
  /** A message between progress updates (the bar is redrawn below it). */
  note(text: string): void;
  stop(): void;
  readonly counts: Readonly<ProgressCounts>;
}

export interface ProgressOptions {
  readonly total: number;
  readonly stream: NodeJS.WriteStream;
  /** Live bar (true) or plain lines (false). */
  readonly live: boolean;
  /** Where plain lines go. */
  readonly lines: NodeJS.WritableStream;
  /** Activations ended so far (for the rate). */
  readonly activations: () => number;
}

export function createProgress(options: ProgressOptions): Progress {
  const counts: ProgressCounts = { completed: 0, failed: 0, cancelled: 0 };
  const started = performance.now();
  const rate = () => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? Math.round(options.activations() / seconds) : 0;
  };
  const done = () => counts.completed + counts.failed + counts.cancelled;
  let total = options.total;

  if (!options.live) {
    const width = String(total).length;
    return {
      counts,
      job(state) {
        counts[state.status === 'completed' ? 'completed' : state.status === 'failed' ? 'failed' : 'cancelled']++;
        if (done() > total) total = done();
        const ms = state.finishedAt === undefined ? '' : ` in ${Math.round(state.finishedAt - state.startedAt)} ms`;
        const why = state.error ? `: ${firstLine(messageOf(state.error))}` : '';
        options.lines.write(`[${String(done()).padStart(width)}/${total}] job ${state.jobId} ${state.status}${ms}${why}\n`);
      },
      note(text) {
        options.lines.write(`${text}\n`);
      },
      stop() {
        // Nothing live to stop.
      },
    };
  }

  const bar = new cliProgress.SingleBar(
    {
      stream: options.stream,
      format: 'jobs {bar} {value}/{total} | {completed} completed, {failed} failed, {cancelled} cancelled | {rate} activations/s | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = () => ({ ...counts, rate: rate() });
  bar.start(total, 0, payload());
  // The rate changes without a job finishing: redraw it a few times a second.
  const ticker = setInterval(() => {
    bar.update(payload());
  }, 250);
  ticker.unref();
  let stopped = false;
  return {
    counts,
    job(state) {
      counts[state.status === 'completed' ? 'completed' : state.status === 'failed' ? 'failed' : 'cancelled']++;
      if (done() > total) bar.setTotal((total = done()));
      bar.update(done(), payload());
    },
    note(text) {
      if (stopped) {
        options.stream.write(`${text}\n`);
        return;
      }
      // The bar restores the cursor to where it started when it stops: stop it, write, and start it again below.
      bar.stop();
      options.stream.write(`${text}\n`);
      bar.start(total, done(), payload());
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      bar.update(done(), payload());
      bar.stop();
    },
  };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
