/**
 * runCommand: `slotflow run <manifest>`. Runs N jobs of the manifest's flow over one runtime, shows progress,
 * writes each final job state and the event log to `--out`, prints a per-routine summary, and exits 0 only when
 * every job completed.
 *
 * Ctrl-C (SIGINT) or SIGTERM: with `--store`, the run is suspended (running activations are aborted, every
 * unfinished job is saved as it is and kept in the store for the next run); without, the jobs are cancelled. Either
 * way the summary and `--out` are written and the exit code is 128 + the signal (130, 143). A second signal exits at
 * once: the store's writes are atomic (write, then rename), so what it already holds stays whole.
 *
 * The parts live beside it: runSignals.ts (the signals), RunOutput.ts (`--out`), reportRun.ts (the closing report).
 */
import { createFileStore, createRuntime, type FileStore, type FlowMetrics, type Job, type Payload, type Runtime } from 'slotflow';
import { CliError, messageOf } from './CliError.js';
import { loadManifestFlow } from './loadManifest.js';
import { plural } from './plural.js';
import { createProgress, type JobOutcome, type Progress } from './Progress.js';
import { LISTED_FAILURES, reportRun, type EndedJobs } from './reportRun.js';
import { openRunOutput, type RunOutput } from './RunOutput.js';
import { onStopSignals, suspendedBySignal, type RunState } from './runSignals.js';
import { printable, printableId } from './terminalText.js';

export { EXIT_CODES } from './runSignals.js';

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

export async function runCommand(manifest: string, options: RunOptions): Promise<number> {
  if (options.jobs === 0 && options.store === undefined) throw new CliError('--jobs 0 starts no job: it only resumes the unfinished jobs of a store; give --store <dir> too, or --jobs 1 and up.', 2);
  const flow = await loadManifestFlow(manifest, options.routines);
  const routineIds = [...flow.compile().routines.keys()];
  const store: FileStore | undefined = options.store === undefined ? undefined : createFileStore(options.store);
  // The CLI holds its own job handles and writes each final state as the job ends: the runtime keeps none (`retain: 0`).
  const runtime = createRuntime({ concurrency: options.concurrency, retain: 0, ...(store ? { store } : {}), ...(options.threads === undefined ? {} : { threads: { max: options.threads } }) });
  runtime.register(flow);

  const run: RunState = { live: new Set(), suspended: new Map(), stop: {} };
  // Installed first: until a listener exists, SIGINT kills node without a word.
  const removeListeners = onStopSignals(runtime, options.store, run);
  let output: RunOutput;
  try {
    output = openRunOutput(options.out);
  } catch (error) {
    await runtime.shutdown();
    removeListeners();
    throw error;
  }
  // Subscribed before anything runs, so the log holds every job's every event.
  const subscription = runtime.events$.subscribe((event) => {
    run.progress?.event(event);
    // A suspended job is stopped here by cancelling it, but it is not cancelled: it goes on in the next run.
    if (event.type === 'job.cancelled' && suspendedBySignal(event.error, options.store, run)) return;
    output.logEvent(event);
  });

  const recovered = store ? await recoverJobs(runtime, options.store ?? '', options.jobs, run) : [];
  const total = recovered.length + (run.stop.signal === undefined ? options.jobs : 0);
  if (options.jobs > 0) process.stdout.write(`Running ${plural(options.jobs, 'job')} of flow '${flow.id}' (concurrency ${options.concurrency})\n`);
  const progress = createProgress({ total, stream: process.stderr, live: process.stderr.isTTY, lines: process.stdout });
  run.progress = progress;

  const started = performance.now();
  let metrics: FlowMetrics | undefined;
  let ended: EndedJobs;
  try {
    ended = await runJobs({ runtime, flowId: flow.id, options, run, progress, output }, recovered);
  } finally {
    progress.stop();
    subscription.unsubscribe();
    metrics = runtime.metrics().flows[flow.id];
    await (run.stop.stopping ?? runtime.shutdown());
    await output.close();
    await store?.close();
    removeListeners();
  }
  const seconds = (performance.now() - started) / 1000;
  return reportRun({ manifest, options, flowId: flow.id, routineIds, metrics, seconds, total, ended, counts: progress.counts, run, output });
}

/**
 * Loads the jobs a crashed (or suspended) run left in the store: they run first. Returns them ready to run: a job
 * nobody can post to or resume from here must not make the run wait forever.
 */
async function recoverJobs(runtime: Runtime, storeDir: string, jobs: number, run: RunState): Promise<Job[]> {
  const { stdout } = process;
  let recovered: Job[] = [];
  try {
    const found = await runtime.recover();
    recovered = found;
    for (const { jobId, error } of found.skipped) stdout.write(`Left job ${printableId(jobId)} in the store: ${printable(messageOf(error))}\n`);
  } catch (error) {
    // Stopped while loading: what was restored is suspended again by the shutdown; nothing else to do.
    if (run.stop.signal === undefined) throw error;
  }
  if (recovered.length > 0) stdout.write(`Resuming ${plural(recovered.length, 'unfinished job')} from ${storeDir}\n`);
  else if (jobs === 0) stdout.write(`Nothing to resume in ${storeDir}\n`);
  for (const job of recovered) {
    if (job.snapshot().keepAlive) {
      stdout.write(`Job ${printableId(job.id)} was started with keepAlive: completing it once its queued work is done.\n`);
      job.complete();
    }
    if (job.status === 'paused') {
      stdout.write(`Job ${printableId(job.id)} was paused: resuming it.\n`);
      job.resume();
    }
  }
  return recovered;
}

/** What following the jobs needs. */
interface Running {
  readonly runtime: Runtime;
  readonly flowId: string;
  readonly options: RunOptions;
  readonly run: RunState;
  readonly progress: Progress;
  readonly output: RunOutput;
}

/** Runs the recovered jobs and `--jobs` new ones, until all ended or a signal stops the run. */
async function runJobs({ runtime, flowId, options, run, progress, output }: Running, recovered: readonly Job[]): Promise<EndedJobs> {
  const ended: EndedJobs = { finished: 0, unsuccessfulCount: 0, unsuccessful: [] };
  const inFlight = new Set<Promise<void>>();
  const follow = (job: Job) => {
    run.live.add(job);
    const done = job.wait().then((final) => {
      run.live.delete(job);
      // A job restored while the signal arrived was suspended without being followed yet: its error says so.
      const kept = run.suspended.get(job.id) ?? (suspendedBySignal(final.error, options.store, run) ? final : undefined);
      const state = kept ?? final;
      const outcome: JobOutcome = kept ? 'suspended' : state.status === 'completed' || state.status === 'failed' ? state.status : 'cancelled';
      ended.finished++;
      if ((outcome === 'failed' || outcome === 'cancelled') && ended.unsuccessfulCount++ < LISTED_FAILURES) ended.unsuccessful.push(state);
      progress.job(state, outcome);
      output.writeJob(state);
    });
    const tracked = done.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  // Jobs waiting on nothing the event loop knows of (a promise that settles on a signal) must not let node exit.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  try {
    for (const job of recovered) follow(job);
    // Jobs are started as places free up: more jobs in flight than activations can run adds memory, not speed.
    const window = Math.max(2 * options.concurrency, 16);
    for (let i = 0; i < options.jobs && run.stop.signal === undefined; i++) {
      follow(runtime.exec(flowId, { params: options.params ?? {} }));
      while (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // Events reach subscribers a microtask after the step that made them: let the last ones arrive.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    clearInterval(keepAlive);
  }
  return ended;
}
