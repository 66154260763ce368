/**
 * runCommand: `slotflow run <manifest>`. Runs N jobs of the manifest's flow over one runtime, shows progress,
 * writes each final job state and the event log to `--out`, prints a per-routine summary, and exits 0 only when
 * every job completed.
 *
 * Ctrl-C (SIGINT) or SIGTERM: with `--store`, the run is suspended (running activations are aborted, every
 * unfinished job is saved as it is and kept in the store for the next run); without, the jobs are cancelled. Either
 * way the summary and `--out` are written and the exit code is 128 + the signal (130, 143). A second signal exits at
 * once: the store's writes are atomic (write, then rename), so what it already holds stays whole.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileStore, createRuntime, type FileStore, type FlowMetrics, type Job, type JobState, type Payload } from 'slotflow';
import { jobFileName } from '../persistence/jobFileName.js';
import { CliError, messageOf } from './CliError.js';
import { loadManifestFlow } from './loadManifest.js';
import { createProgress, type JobOutcome } from './Progress.js';
import { routineTable } from './summary.js';
import { printable, printableId } from './terminalText.js';
import { toJson } from './toJson.js';

export interface RunOptions {
  readonly routines: string;
  readonly params?: Payload;
  readonly concurrency: number;
  readonly jobs: number;
  /** `threads.max` of the runtime. */
  readonly threads?: number;
  readonly store?: string;
  readonly out?: string;
}

/** The exit code of an interrupted run: 128 + the signal's number, as shells report it. */
export const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof EXIT_CODES;

/** The reason `runtime.shutdown({ suspend: true })` cancels each job it saved with. */
const SUSPENDED = 'runtime suspended';

/** Failures listed one by one at the end; past this, counted. */
const LISTED_FAILURES = 5;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function runCommand(manifest: string, options: RunOptions): Promise<number> {
  const { stdout, stderr } = process;
  if (options.jobs === 0 && options.store === undefined) throw new CliError('--jobs 0 starts no job: it only resumes the unfinished jobs of a store; give --store <dir> too, or --jobs 1 and up.', 2);
  const flow = await loadManifestFlow(manifest, options.routines);
  const routineIds = [...flow.compile().routines.keys()];
  const store: FileStore | undefined = options.store === undefined ? undefined : createFileStore(options.store);
  // The CLI holds its own job handles and writes each final state as the job ends: the runtime keeps none (`retain: 0`).
  const runtime = createRuntime({ concurrency: options.concurrency, retain: 0, ...(store ? { store } : {}), ...(options.threads === undefined ? {} : { threads: { max: options.threads } }) });
  runtime.register(flow);

  const live = new Set<Job>();
  /** Jobs suspended by a signal, with their state as saved (status kept). */
  const suspended = new Map<string, JobState>();
  const stop: { signal?: StopSignal; stopping?: Promise<void>; suspendError?: unknown } = {};
  let progress: ReturnType<typeof createProgress> | undefined = undefined;
  const say = (text: string) => {
    if (progress) progress.note(text);
    else stdout.write(`${text}\n`);
  };
  // Installed first: until a listener exists, SIGINT kills node without a word.
  const onSignal = (signal: StopSignal) => {
    if (stop.signal !== undefined) {
      progress?.stop();
      stderr.write(`\nInterrupted again (${signal}): exiting now${store ? '; the store keeps what it had saved' : ' (results may be incomplete)'}.\n`);
      removeListeners();
      // Re-raised with no listener, the signal ends the process at once, as if never caught: process.exit() would
      // wait for a stuck file write (libuv joins its threads on exit).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      else process.exit(EXIT_CODES[signal]);
      return;
    }
    stop.signal = signal;
    if (store) {
      say(`Interrupted (${signal}): suspending the running jobs and keeping them in ${options.store ?? ''} (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to exit at once).`);
      // The state each job is saved with, taken in the same step as the save (shutdown snapshots synchronously).
      for (const job of live) suspended.set(job.id, job.state);
      stop.stopping = runtime.shutdown({ suspend: true }).catch((error: unknown) => {
        stop.suspendError = error;
      });
    } else {
      say(`Interrupted (${signal}): cancelling the running jobs and writing what they did (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to exit at once).`);
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

  const out = options.out;
  let events: WriteStream | undefined;
  let eventCount = 0;
  const written = { jobs: 0, failed: 0, eventLogFailed: false };
  if (out !== undefined) {
    try {
      mkdirSync(join(out, 'jobs'), { recursive: true });
    } catch (error) {
      await runtime.shutdown();
      removeListeners();
      throw new CliError(`--out: cannot create directory '${join(out, 'jobs')}': ${messageOf(error)}`, 1, { cause: error });
    }
    events = createWriteStream(join(out, 'events.jsonl'));
    events.once('error', (error) => {
      stderr.write(`slotflow: cannot write ${join(out, 'events.jsonl')}: ${error.message}\n`);
      written.eventLogFailed = true;
      events = undefined;
    });
  }
  // Counts, and the first few unsuccessful jobs for the closing messages: a run of a million jobs holds no more.
  const writing = new Set<Promise<void>>();
  let finished = 0;
  let unsuccessfulCount = 0;
  const unsuccessful: JobState[] = [];

  // Subscribed before anything runs, so the log holds every job's every event.
  const subscription = runtime.events$.subscribe((event) => {
    progress?.event(event);
    // A suspended job is stopped here by cancelling it, but it is not cancelled: it goes on in the next run.
    if (event.type === 'job.cancelled' && store && stop.signal !== undefined && (event.error as { reason?: unknown }).reason === SUSPENDED) return;
    if (events) {
      events.write(`${toJson(event)}\n`);
      eventCount++;
    }
  });

  // Jobs a crashed (or suspended) run left in the store come first.
  let recovered: Job[] = [];
  if (store) {
    try {
      const found = await runtime.recover();
      recovered = found;
      for (const { jobId, error } of found.skipped) stdout.write(`Left job ${printableId(jobId)} in the store: ${printable(messageOf(error))}\n`);
    } catch (error) {
      // Stopped while loading: what was restored is suspended again by the shutdown; nothing else to do.
      if (stop.signal === undefined) throw error;
    }
  }
  const total = recovered.length + (stop.signal === undefined ? options.jobs : 0);
  if (recovered.length > 0) stdout.write(`Resuming ${plural(recovered.length, 'unfinished job')} from ${options.store ?? ''}\n`);
  else if (options.jobs === 0) stdout.write(`Nothing to resume in ${options.store ?? ''}\n`);
  for (const job of recovered) {
    // A job nobody can post to or resume from here must not make the run wait forever.
    if (job.snapshot().keepAlive) {
      stdout.write(`Job ${printableId(job.id)} was started with keepAlive: completing it once its queued work is done.\n`);
      job.complete();
    }
    if (job.status === 'paused') {
      stdout.write(`Job ${printableId(job.id)} was paused: resuming it.\n`);
      job.resume();
    }
  }
  if (options.jobs > 0) stdout.write(`Running ${plural(options.jobs, 'job')} of flow '${flow.id}' (concurrency ${options.concurrency})\n`);
  progress = createProgress({ total, stream: stderr, live: stderr.isTTY, lines: stdout });

  // Jobs waiting on nothing the event loop knows of (a promise that settles on a signal) must not let node exit.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const started = performance.now();
  let metrics: FlowMetrics | undefined;
  const inFlight = new Set<Promise<void>>();
  const follow = (job: Job) => {
    live.add(job);
    const done = job.wait().then((final) => {
      live.delete(job);
      // A job restored while the signal arrived was suspended without being followed yet: its error says so.
      const kept = suspended.get(job.id) ?? (store && stop.signal !== undefined && (final.error as { reason?: unknown } | undefined)?.reason === SUSPENDED ? final : undefined);
      const state = kept ?? final;
      const outcome: JobOutcome = kept ? 'suspended' : state.status === 'completed' || state.status === 'failed' ? state.status : 'cancelled';
      finished++;
      if ((outcome === 'failed' || outcome === 'cancelled') && unsuccessfulCount++ < LISTED_FAILURES) unsuccessful.push(state);
      progress.job(state, outcome);
      if (out !== undefined) {
        const write: Promise<void> = writeJob(join(out, 'jobs', `${jobFileName(state.jobId)}.json`), state).then((ok) => {
          written[ok ? 'jobs' : 'failed']++;
          writing.delete(write);
        });
        writing.add(write);
      }
    });
    const tracked = done.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  for (const job of recovered) follow(job);
  // Jobs are started as places free up: more jobs in flight than activations can run adds memory, not speed.
  const window = Math.max(2 * options.concurrency, 16);
  try {
    for (let i = 0; i < options.jobs && stop.signal === undefined; i++) {
      follow(runtime.exec(flow.id, { params: options.params ?? {} }));
      while (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // Events reach subscribers a microtask after the step that made them: let the last ones arrive.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    clearInterval(keepAlive);
    progress.stop();
    subscription.unsubscribe();
    metrics = runtime.metrics().flows[flow.id];
    await (stop.stopping ?? runtime.shutdown());
    await Promise.all(writing);
    const log = events;
    if (log)
      await new Promise<void>((resolve) => {
        log.end((error?: Error | null) => {
          // An error while flushing also reaches the 'error' listener, which reports it.
          if (error) written.eventLogFailed = true;
          resolve();
        });
      });
    await store?.close();
    removeListeners();
  }

  const seconds = (performance.now() - started) / 1000;
  const { completed, failed, cancelled, suspended: kept } = progress.counts;
  const notStarted = total - finished;
  stdout.write(
    `\n${plural(finished, 'job')} of flow '${flow.id}' in ${seconds.toFixed(2)} s: ${completed} completed, ${failed} failed, ${cancelled} cancelled` +
      `${kept > 0 ? `, ${kept} suspended` : ''}${notStarted > 0 ? `, ${notStarted} not started` : ''}\n\n`,
  );
  stdout.write(`${routineTable(metrics, routineIds)}\n`);
  const { eventLogFailed } = written;
  const writeFailed = written.failed > 0 || eventLogFailed;
  if (out !== undefined) {
    const log = eventLogFailed ? '' : ` and ${eventCount} events to ${join(out, 'events.jsonl')}`;
    stdout.write(`\nWrote ${plural(written.jobs, 'job state')} to ${join(out, 'jobs')}${log}\n`);
    if (writeFailed) {
      const what = [written.failed > 0 ? plural(written.failed, 'job state') : '', eventLogFailed ? 'the event log' : ''].filter(Boolean).join(' and ');
      stderr.write(`slotflow: ${what} could not be written (see above)\n`);
    }
  }

  if (stop.signal !== undefined) {
    if (stop.suspendError !== undefined) stderr.write(`\nslotflow: saving the suspended jobs failed: ${printable(messageOf(stop.suspendError))}\n`);
    if (store) {
      const resume = ['slotflow', 'run', manifest, '--routines', options.routines, '--store', options.store ?? '', '--jobs', '0'].map(shellWord).join(' ');
      stderr.write(`\nInterrupted: ${plural(kept, 'job')} suspended and kept in ${printable(options.store ?? '')}; \`${printable(resume)}\` resumes ${kept === 1 ? 'it' : 'them'}.\n`);
    }
    else stderr.write(`\nInterrupted: ${plural(cancelled, 'job')} cancelled.\n`);
    return EXIT_CODES[stop.signal];
  }
  if (unsuccessfulCount === 0) return writeFailed ? 1 : 0;
  stderr.write('\n');
  for (const state of unsuccessful) stderr.write(`Job ${printableId(state.jobId)} ${state.status}: ${state.error ? printable(messageOf(state.error)) : '(no error recorded)'}\n`);
  if (unsuccessfulCount > LISTED_FAILURES) stderr.write(`... and ${unsuccessfulCount - LISTED_FAILURES} more (see the job states${out === undefined ? '; --out DIR writes them' : ` in ${join(out, 'jobs')}`})\n`);
  return 1;
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Writes one final job state: true once written; a failure is reported, not thrown (the other results still get written). */
async function writeJob(path: string, state: JobState): Promise<boolean> {
  try {
    await writeFile(path, `${toJson(state, 2)}\n`);
    return true;
  } catch (error) {
    process.stderr.write(`slotflow: cannot write ${path}: ${printable(messageOf(error))}\n`);
    return false;
  }
}
