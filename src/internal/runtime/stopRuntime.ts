/**
 * stopRuntime: `waitForAll` and `shutdown`. Shutdown stops taking jobs, then cancels, waits for or suspends the
 * unfinished ones, lets the store catch up, and only then closes the thread pools and disposes the resources
 * (every job and its cleanups are done with them by then).
 */
import type { Clock } from '../../clock/Clock.js';
import { InvalidOptionError, WaitTimeoutError } from '../../errors/index.js';
import type { Job } from '../../job/Job.js';
import type { JobRunner } from '../job/JobRunner.js';
import type { JobState } from '../../types/JobState.js';
import type { RuntimeServices } from '../job/RuntimeServices.js';
import type { Checkpointer } from '../../persistence/Checkpointer.js';

/** What waiting for and stopping jobs needs of the runtime. */
export interface Stoppable {
  readonly services: RuntimeServices;
  readonly checkpointer: Checkpointer | undefined;
  /** The unfinished jobs' runners. */
  live(): Iterable<JobRunner>;
  getJob(jobId: string): Job | undefined;
}

/** The final states once no job is unfinished (jobs started meanwhile included); `timeoutMs` on the runtime's clock. */
export async function waitForAll(runtime: Stoppable, timeoutMs: number | undefined): Promise<JobState[]> {
  if (timeoutMs === undefined) return allFinished(runtime);
  const clock: Clock = runtime.services.clock;
  let timedOut!: (error: WaitTimeoutError) => void;
  const timeout = new Promise<never>((_, reject) => {
    timedOut = reject;
  });
  const timer = clock.setTimeout(() => {
    timedOut(new WaitTimeoutError(undefined, timeoutMs));
  }, timeoutMs);
  try {
    return await Promise.race([allFinished(runtime), timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}

async function allFinished(runtime: Stoppable): Promise<JobState[]> {
  const states = new Map<string, JobState>();
  for (;;) {
    // A finished job whose cleanups still run is not done yet (`wait()` resolves after them).
    const open = [...runtime.live()].filter((r) => !r.closed);
    if (open.length === 0) break;
    for (const state of await Promise.all(open.map((r) => (runtime.getJob(r.id) as Job).wait()))) states.set(state.jobId, state);
  }
  return [...states.values()];
}

/** `shutdown(options)` once the runtime stopped taking jobs. */
export async function stopRuntime(runtime: Stoppable, options: { readonly wait?: boolean; readonly suspend?: boolean }): Promise<void> {
  if (options.suspend) {
    const checkpointer = runtime.checkpointer;
    if (!checkpointer) throw new InvalidOptionError('shutdown({ suspend })', 'a runtime created with a store (createRuntime({ store }))', true);
    // Children are saved inside their parents' snapshots.
    const suspended = [...runtime.live()].filter((runner) => runner.options.parentId === undefined).map((runner) => {
      const saved = checkpointer.suspend(runner);
      runner.cancel('runtime suspended');
      return saved;
    });
    await Promise.all(suspended);
  } else if (!options.wait) cancelAll(runtime, 'runtime shut down');
  await allFinished(runtime);
  await runtime.checkpointer?.drain();
  await runtime.services.threads.close();
  // Last: every job and its cleanups are done with them.
  await runtime.services.resources.dispose();
}

/** Cancels every unfinished job (queued ones included). */
export function cancelAll(runtime: Pick<Stoppable, 'live'>, reason?: unknown): void {
  for (const runner of [...runtime.live()]) runner.cancel(reason);
}
