/**
 * runInThread: the main thread's side of one threaded activation. It copies the context to a worker thread and
 * replays what `run` does there (emit, setState, setShared, log, progress) through the activation's own context, in order,
 * as it happens: routing, validation, history, events and metrics are the inline ones, so a threaded activation
 * looks the same in JobState as an inline one. Its promise settles like an inline `run`'s.
 */
import { MessageChannel } from 'node:worker_threads';
import { PayloadError } from '../errors/index.js';
import { moduleProblem } from './moduleProblem.js';
import type { ThreadContext } from './protocol.js';
import { ThreadExchange, type Context } from './ThreadExchange.js';
import type { ThreadPools } from './ThreadPools.js';
import type { ThreadTarget } from './ThreadTarget.js';

export type { ThreadTarget } from './ThreadTarget.js';

/**
 * Runs one activation of `target` on a worker thread with `ctx` (the activation's context). Resolves or rejects as
 * the routine's `run` did. A module that turns out not to export the routine calls `failJob` with a
 * `FlowValidationError` (and rejects with it).
 */
export async function runInThread(pools: ThreadPools, ctx: Context, target: ThreadTarget, failJob: (error: Error) => void): Promise<void> {
  const signal = ctx.signal;
  const missing = await pools.checkModule(target.module, target.name);
  if (missing !== undefined) throw moduleProblem(target, missing, failJob);
  if (signal.aborted) throw signal.reason;

  const { port1, port2 } = new MessageChannel();
  try {
    // Posted before the port is handed over: the thread finds it queued. A part that cannot be copied fails here.
    port1.postMessage(contextOf(ctx));
  } catch (error) {
    port1.close();
    throw uncloneableContext(ctx, target, error);
  }
  let release: () => void;
  try {
    release = await pools.acquire(signal);
  } catch (error) {
    port1.close();
    throw error;
  }
  let pool: Awaited<ReturnType<ThreadPools['pool']>>;
  try {
    pool = await pools.pool(target.resourceLimits);
  } catch (error) {
    release();
    port1.close();
    throw error;
  }
  return new ThreadExchange(pools, ctx, target, port1, release, failJob).run(pool.run.bind(pool), port2);
}

function contextOf(ctx: Context): ThreadContext {
  return { slots: ctx.slots, config: ctx.config, state: ctx.state, shared: ctx.shared, job: { id: ctx.job.id, flowId: ctx.job.flowId }, trigger: ctx.trigger, attempt: ctx.attempt, routineId: ctx.routineId };
}

/** Names the part of the context that could not be copied into the thread. */
function uncloneableContext(ctx: Context, target: ThreadTarget, error: unknown): PayloadError {
  const parts: [string, unknown][] = [...Object.entries(ctx.slots).map(([slot, payloads]): [string, unknown] => [`slot '${slot}'`, payloads]), ['config', ctx.config], ['state', ctx.state], ['shared data', ctx.shared], ['trigger', ctx.trigger]];
  const culprit = parts.find(([, value]) => !cloneable(value))?.[0] ?? 'context';
  const text = error instanceof Error ? error.message : String(error);
  return new PayloadError(target.flowId, target.routineId, culprit, [`cannot be copied to a worker thread (${text}); threaded routines take data structuredClone can copy`]);
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
