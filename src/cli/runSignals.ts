/**
 * runSignals: what `slotflow run` does on Ctrl-C (SIGINT) or SIGTERM. With `--store`, the run is suspended (running
 * activations are aborted, every unfinished job is saved as it is and kept in the store for the next run); without,
 * the jobs are cancelled. A second signal exits at once: the store's writes are atomic (write, then rename), so what
 * it already holds stays whole.
 */
import type { Job, JobState, Runtime } from 'slotflow';
import type { Progress } from './Progress.js';

/** The exit code of an interrupted run: 128 + the signal's number, as shells report it. */
export const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof EXIT_CODES;

/** The reason `runtime.shutdown({ suspend: true })` cancels each job it saved with. */
const SUSPENDED = 'runtime suspended';

/** What the signal handlers and the rest of the run share. */
export interface RunState {
  /** Jobs followed and not ended yet: the ones a suspension saves. */
  readonly live: Set<Job>;
  /** Jobs suspended by a signal, with their state as saved (status kept). */
  readonly suspended: Map<string, JobState>;
  readonly stop: { signal?: StopSignal; stopping?: Promise<void>; suspendError?: unknown };
  /** Set once the jobs start: messages go through it so the live bar is redrawn below them. */
  progress?: Progress;
}

/**
 * Whether a job's error says it was stopped by the suspension: such a job is not cancelled, it goes on in the next
 * run (only with a store, and only once a signal came).
 */
export function suspendedBySignal(error: unknown, store: string | undefined, run: RunState): boolean {
  return store !== undefined && run.stop.signal !== undefined && (error as { reason?: unknown } | undefined)?.reason === SUSPENDED;
}

/** Listens for SIGINT and SIGTERM for the run over `runtime`; returns the function that stops listening. */
export function onStopSignals(runtime: Runtime, store: string | undefined, run: RunState): () => void {
  const { stdout, stderr } = process;
  const say = (text: string) => {
    if (run.progress) run.progress.note(text);
    else stdout.write(`${text}\n`);
  };
  const onSignal = (signal: StopSignal) => {
    if (run.stop.signal !== undefined) {
      run.progress?.stop();
      stderr.write(`\nInterrupted again (${signal}): exiting now${store === undefined ? ' (results may be incomplete)' : '; the store keeps what it had saved'}.\n`);
      removeListeners();
      // Re-raised with no listener, the signal ends the process at once, as if never caught: process.exit() would
      // wait for a stuck file write (libuv joins its threads on exit).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      else process.exit(EXIT_CODES[signal]);
      return;
    }
    run.stop.signal = signal;
    const again = `${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to exit at once`;
    if (store !== undefined) {
      say(`Interrupted (${signal}): suspending the running jobs and keeping them in ${store} (${again}).`);
      // The state each job is saved with, taken in the same step as the save (shutdown snapshots synchronously).
      for (const job of run.live) run.suspended.set(job.id, job.state);
      run.stop.stopping = runtime.shutdown({ suspend: true }).catch((error: unknown) => {
        run.stop.suspendError = error;
      });
    } else {
      say(`Interrupted (${signal}): cancelling the running jobs and writing what they did (${again}).`);
      runtime.cancelAll(`interrupted (${signal})`);
    }
  };
  const onSigint = () => {
    onSignal('SIGINT');
  };
  const onSigterm = () => {
    onSignal('SIGTERM');
  };
  const removeListeners = () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return removeListeners;
}
