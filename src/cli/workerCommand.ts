/**
 * workerCommand: `slotflow worker <manifest>... --routines <module> --redis <url>`. Runs the manifests' flows as a
 * distributed worker (slotflow/distributed) until SIGTERM or Ctrl-C, which close it cleanly: running jobs are
 * checkpointed and handed back to the queue for another worker, and the process exits 0. On a terminal, one live
 * line shows the jobs running, done and failed.
 */
import type { FlowBuilder, RoutineMap } from 'slotflow';
import type { WorkerStats } from 'slotflow/distributed';
import { CliError, messageOf } from './CliError.js';
import { loadManifestFlow } from './loadManifest.js';

export interface WorkerCommandOptions {
  readonly routines: string;
  readonly redis: string;
  readonly queue: string;
  readonly concurrency: number;
}

export async function workerCommand(manifests: readonly string[], options: WorkerCommandOptions): Promise<number> {
  const { stdout, stderr } = process;
  const distributed = await loadDistributed();
  if (!/^rediss?:\/\//.test(options.redis)) throw new CliError(`--redis: expected a redis:// or rediss:// URL, got '${options.redis}'.`);
  const flows: FlowBuilder<RoutineMap>[] = [];
  for (const manifest of manifests) flows.push(await loadManifestFlow(manifest, options.routines));

  const worker = distributed.createWorker({
    connection: options.redis,
    queue: options.queue,
    flows,
    concurrency: options.concurrency,
    onError: (error) => {
      line.clear();
      stderr.write(`slotflow worker: ${error.message}\n`);
    },
  });
  const line = statusLine(worker, options.queue);
  const { stopped, stop } = untilSignal();
  try {
    await worker.ready();
  } catch (error) {
    await worker.close();
    stop();
    throw new CliError(messageOf(error));
  }
  const names = flows.map((f) => `'${f.id}'`).join(', ');
  stdout.write(`slotflow worker: consuming queue '${options.queue}' (flows ${names}) at ${options.redis.replace(/\/\/[^@/]*@/, '//')}; Ctrl-C or SIGTERM to stop.\n`);
  const timer = stdout.isTTY ? setInterval(() => { line.draw(); }, 250) : undefined;
  const signal = await stopped;
  if (timer) clearInterval(timer);
  line.clear();
  stdout.write(`slotflow worker: ${signal} received, handing running jobs back to the queue...\n`);
  await worker.close();
  const s = worker.stats();
  stdout.write(`slotflow worker: stopped (${String(s.completed)} done, ${String(s.failed)} failed, ${String(s.cancelled)} cancelled, ${String(s.released)} handed back).\n`);
  return 0;
}

/** slotflow/distributed, loaded here and not at the top: bullmq and ioredis are optional, needed by this command only. */
async function loadDistributed(): Promise<typeof import('slotflow/distributed')> {
  try {
    return await import('slotflow/distributed');
  } catch (error) {
    throw new CliError(`slotflow worker needs the packages 'bullmq' and 'ioredis' (npm install bullmq ioredis): ${messageOf(error)}`);
  }
}

/**
 * The one live line a terminal shows (queue, running, done, failed). Its own object because the worker's error
 * reports must clear it first, so an error never lands in the middle of the line.
 */
function statusLine(worker: { stats(): WorkerStats }, queue: string) {
  const { stdout } = process;
  return {
    shown: false,
    clear() {
      if (this.shown) stdout.write('\r\x1b[2K');
      this.shown = false;
    },
    draw() {
      const s = worker.stats();
      stdout.write(`\r\x1b[2Kqueue '${queue}': ${String(s.running)} running, ${String(s.completed)} done, ${String(s.failed)} failed, ${String(s.cancelled)} cancelled`);
      this.shown = true;
    },
  };
}

/**
 * Resolves with the name of the first SIGTERM or SIGINT; `stop()` resolves it with '' instead. Listening starts
 * here, before the worker connects, so a Ctrl-C while connecting is not the default instant exit.
 */
function untilSignal(): { stopped: Promise<string>; stop: () => void } {
  let stop: () => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = () => { resolve(''); };
    const onSignal = (signal: NodeJS.Signals) => {
      resolve(signal);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  return { stopped, stop };
}
