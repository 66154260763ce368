/**
 * runCommand: `slotflow run <manifest>`. Runs N jobs of the manifest's flow over one runtime, shows progress,
 * writes each final job state and the event log to `--out`, prints a per-routine summary, and exits 0 only when
 * every job completed. Ctrl-C cancels the running jobs and writes what there is (exit 130); a second Ctrl-C exits
 * at once.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileStore, createRuntime, type FileStore, type FlowMetrics, type Job, type JobState, type Payload } from 'slotflow';
import { CliError, messageOf } from './CliError.js';
import { loadManifestFlow } from './loadManifest.js';
import { createProgress, type Progress } from './Progress.js';
import { routineTable } from './summary.js';
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

/** The exit code of an interrupted run (128 + SIGINT), as shells report it. */
export const INTERRUPTED = 130;

/** Failures listed one by one at the end; past this, counted. */
const LISTED_FAILURES = 5;

export async function runCommand(manifest: string, options: RunOptions): Promise<number> {
  const { stdout, stderr } = process;
  const flow = await loadManifestFlow(manifest, options.routines);
  const routineIds = [...flow.compile().routines.keys()];
  const store: FileStore | undefined = options.store === undefined ? undefined : createFileStore(options.store);
  // The CLI holds its own job handles and writes each final state as the job ends: the runtime keeps none (`retain: 0`).
  const runtime = createRuntime({ concurrency: options.concurrency, retain: 0, ...(store ? { store } : {}), ...(options.threads === undefined ? {} : { threads: { max: options.threads } }) });
  runtime.register(flow);

  // Installed first: until a listener exists, SIGINT kills node without a word.
  const run = { interrupted: false };
  const live: { progress?: Progress } = {};
  const onSigint = () => {
    if (run.interrupted) {
      live.progress?.stop();
      stderr.write('\nInterrupted again: exiting now (results may be incomplete).\n');
      process.off('SIGINT', onSigint);
      // Re-raised with no listener, SIGINT ends the process at once, as if we never caught it: process.exit()
      // would wait for a stuck file write (libuv joins its threads on exit).
      if (process.listenerCount('SIGINT') === 0) process.kill(process.pid, 'SIGINT');
      else process.exit(INTERRUPTED);
      return;
    }
    run.interrupted = true;
    const note = 'Interrupted: cancelling the running jobs and writing what they did (Ctrl-C again to exit at once).';
    if (live.progress) live.progress.note(note);
    else stdout.write(`${note}\n`);
    runtime.cancelAll('interrupted (SIGINT)');
  };
  process.on('SIGINT', onSigint);

  const out = options.out;
  let events: WriteStream | undefined;
  let eventCount = 0;
  let activations = 0;
  if (out !== undefined) {
    try {
      mkdirSync(join(out, 'jobs'), { recursive: true });
    } catch (error) {
      await runtime.shutdown();
      process.off('SIGINT', onSigint);
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
  const written = { jobs: 0, failed: 0, eventLogFailed: false };
  let finished = 0;
  let unsuccessfulCount = 0;
  const unsuccessful: JobState[] = [];

  // Subscribed before anything runs, so the log holds every job's every event.
  const subscription = runtime.events$.subscribe((event) => {
    if (event.type === 'routine.completed' || event.type === 'routine.failed') activations++;
    if (events) {
      events.write(`${toJson(event)}\n`);
      eventCount++;
    }
  });

  // Jobs a crashed run left in the store come first.
  const recovered = store ? await runtime.recover() : Object.assign([] as Job[], { skipped: [] });
  const total = recovered.length + options.jobs;
  if (recovered.length > 0) stdout.write(`Resuming ${recovered.length} unfinished job${recovered.length === 1 ? '' : 's'} from ${options.store ?? ''}\n`);
  for (const { jobId, error } of recovered.skipped) stdout.write(`Left job ${jobId} in the store: ${messageOf(error)}\n`);
  stdout.write(`Running ${options.jobs} job${options.jobs === 1 ? '' : 's'} of flow '${flow.id}' (concurrency ${options.concurrency})\n`);
  const progress = createProgress({ total, stream: stderr, live: stderr.isTTY, lines: stdout, activations: () => activations });
  live.progress = progress;

  // Jobs waiting on nothing the event loop knows of (a promise that settles on a signal) must not let node exit.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const started = performance.now();
  let metrics: FlowMetrics | undefined;
  const inFlight = new Set<Promise<void>>();
  const follow = (job: Job) => {
    const done = job.wait().then((state) => {
      finished++;
      if (state.status !== 'completed' && unsuccessfulCount++ < LISTED_FAILURES) unsuccessful.push(state);
      progress.job(state);
      if (out !== undefined) {
        const write: Promise<void> = writeJob(join(out, 'jobs', `${encodeURIComponent(state.jobId)}.json`), state).then((ok) => {
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
    for (let i = 0; i < options.jobs && !run.interrupted; i++) {
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
    await runtime.shutdown();
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
    process.off('SIGINT', onSigint);
  }

  const seconds = (performance.now() - started) / 1000;
  const { completed, failed, cancelled } = progress.counts;
  const notStarted = total - finished;
  stdout.write(
    `\n${finished} job${finished === 1 ? '' : 's'} of flow '${flow.id}' in ${seconds.toFixed(2)} s: ${completed} completed, ${failed} failed, ${cancelled} cancelled` +
      `${notStarted > 0 ? `, ${notStarted} not started` : ''}\n\n`,
  );
  stdout.write(`${routineTable(metrics, routineIds)}\n`);
  const { eventLogFailed } = written;
  const writeFailed = written.failed > 0 || eventLogFailed;
  if (out !== undefined) {
    const log = eventLogFailed ? '' : ` and ${eventCount} events to ${join(out, 'events.jsonl')}`;
    stdout.write(`\nWrote ${written.jobs} job state${written.jobs === 1 ? '' : 's'} to ${join(out, 'jobs')}${log}\n`);
    if (writeFailed) {
      const what = [written.failed > 0 ? `${written.failed} job state${written.failed === 1 ? '' : 's'}` : '', eventLogFailed ? 'the event log' : ''].filter(Boolean).join(' and ');
      stderr.write(`slotflow: ${what} could not be written (see above)\n`);
    }
  }

  if (run.interrupted) {
    stderr.write(`\nInterrupted: ${cancelled} job${cancelled === 1 ? '' : 's'} cancelled.\n`);
    return INTERRUPTED;
  }
  if (unsuccessfulCount === 0) return writeFailed ? 1 : 0;
  stderr.write('\n');
  for (const state of unsuccessful) stderr.write(`Job ${state.jobId} ${state.status}: ${state.error ? messageOf(state.error) : '(no error recorded)'}\n`);
  if (unsuccessfulCount > LISTED_FAILURES) stderr.write(`... and ${unsuccessfulCount - LISTED_FAILURES} more (see the job states${out === undefined ? '; --out DIR writes them' : ` in ${join(out, 'jobs')}`})\n`);
  return 1;
}

/** Writes one final job state: true once written; a failure is reported, not thrown (the other results still get written). */
async function writeJob(path: string, state: JobState): Promise<boolean> {
  try {
    await writeFile(path, `${toJson(state, 2)}\n`);
    return true;
  } catch (error) {
    process.stderr.write(`slotflow: cannot write ${path}: ${messageOf(error)}\n`);
    return false;
  }
}
