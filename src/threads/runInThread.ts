/**
 * runInThread: the main thread's side of one threaded activation. It copies the context to a worker thread and
 * replays what `run` does there (emit, setState, setShared, log, progress) through the activation's own context, in order,
 * as it happens: routing, validation, history, events and metrics are the inline ones, so a threaded activation
 * looks the same in JobState as an inline one. Its promise settles like an inline `run`'s.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { enablePatches, Immer, type Patch } from 'immer';
import { ActivationEndedError, FlowValidationError, JobFinishedError, PayloadError, ResourceLimitError, ThreadResourceError, WorkerCrashedError } from '../errors/index.js';
import type { ProgressUpdate } from '../types/ProgressUpdate.js';
import type { Payload, RunContext } from '../routine/index.js';
import type { ThreadResourceLimits } from './isolation.js';
import { deserializeError, serializeError, type FromThread, type SerializedError, type ThreadContext, type ThreadTask, type ToThread } from './protocol.js';
import type { ThreadPools } from './ThreadPools.js';

type Context = RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown>;

/** Which routine a threaded activation runs, for the worker and for error messages. */
export interface ThreadTarget {
  readonly flowId: string;
  /** The routine's id in the flow. */
  readonly routineId: string;
  /** The definition's `name` and module, which the worker imports. */
  readonly name: string;
  readonly module: string;
  readonly resourceLimits: ThreadResourceLimits | undefined;
}

let immer: Immer | undefined;
function patcher(): Immer {
  if (!immer) {
    enablePatches();
    immer = new Immer({ autoFreeze: false });
  }
  return immer;
}

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
  return exchange(pools, pool.run.bind(pool), ctx, target, port1, port2, release, failJob);
}

type RunTask = (task: ThreadTask, options: { transferList: readonly MessagePort[]; signal: AbortSignal }) => Promise<unknown>;

function exchange(pools: ThreadPools, runTask: RunTask, ctx: Context, target: ThreadTarget, port: MessagePort, theirs: MessagePort, release: () => void, failJob: (error: Error) => void): Promise<void> {
  const signal = ctx.signal;
  return new Promise<void>((resolve, reject) => {
    const terminate = new AbortController();
    let settled = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const settle = (error?: { readonly error: unknown }) => {
      if (settled) return;
      settled = true;
      // The value `run` rejected with, as inline: not always an Error.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      if (error) reject(error.error);
      else resolve();
    };
    /** Tells the thread to stop (its signal aborts), and terminates it if it has not ended after the grace period. */
    const stop = (reason: unknown) => {
      if (grace !== undefined || terminate.signal.aborted) return;
      const message: ToThread = { type: 'abort', reason: serializeError(reason) };
      port.postMessage(message);
      grace = setTimeout(() => {
        terminate.abort(reason);
      }, pools.abortGraceMs);
      // A thread left to end by itself must not keep the process alive.
      grace.unref();
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settle({ error });
      stop(error);
    };
    const onAbort = () => {
      stop(signal.reason);
      settle({ error: signal.reason });
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const handle = (message: FromThread) => {
      if (settled && message.type !== 'done' && message.type !== 'failed') return;
      try {
        switch (message.type) {
          case 'emit':
            ctx.emit(message.event, message.payload as Payload);
            return;
          case 'state':
            ctx.setState(applyPatches(ctx.state, message.patches));
            return;
          case 'state.replace':
            ctx.setState(message.value);
            return;
          case 'shared':
            ctx.setShared(applyPatches(ctx.shared, message.patches) as Record<string, unknown>);
            return;
          case 'shared.replace':
            ctx.setShared(message.value as Record<string, unknown>);
            return;
          case 'log':
            ctx.log(message.entry);
            return;
          case 'progress':
            ctx.progress(message.update as ProgressUpdate);
            return;
          case 'uncloneable':
            fail(new PayloadError(target.flowId, target.routineId, message.what, [`cannot be copied from the worker thread to the main thread (${message.message})`]));
            return;
          case 'missing':
            fail(moduleProblem(target, message.message, failJob));
            return;
          case 'done':
            settle();
            return;
          case 'failed':
            settle({ error: fromThread(message.error) });
            return;
        }
      } catch (error) {
        // The activation already ended (timeout, job over): what the thread still does is not wanted.
        if (error instanceof ActivationEndedError || error instanceof JobFinishedError) return;
        fail(error);
      }
    };
    port.on('message', handle);

    const finish = () => {
      signal.removeEventListener('abort', onAbort);
      if (grace !== undefined) clearTimeout(grace);
      port.close();
      release();
    };
    runTask({ module: target.module, name: target.name, port: theirs }, { transferList: [theirs], signal: terminate.signal }).then(
      () => {
        // The thread's last messages may still be on their way: take them before closing the port.
        drain(port, handle);
        finish();
        settle({ error: new WorkerCrashedError(target.flowId, target.routineId, target.name, 'ended its task without reporting the outcome') });
      },
      (error: unknown) => {
        drain(port, handle);
        finish();
        if (terminate.signal.aborted) settle({ error: terminate.signal.reason });
        else settle({ error: crashError(target, error) });
      },
    );
  });
}

/**
 * The error `run` failed with. Classes do not cross threads; slotflow's own ThreadResourceError (thrown by the
 * thread's `resource()`) is rebuilt as itself, so `instanceof` and its guard hold on the main thread.
 */
function fromThread(data: SerializedError): unknown {
  const { flowId, routineId, resource } = data.props;
  if (data.isError && data.name === 'ThreadResourceError' && data.props.code === 'THREAD_RESOURCE' && typeof flowId === 'string' && typeof routineId === 'string' && typeof resource === 'string') {
    const error = new ThreadResourceError(flowId, routineId, resource);
    if (data.stack !== undefined) error.stack = data.stack;
    return error;
  }
  return deserializeError(data);
}

function drain(port: MessagePort, handle: (message: FromThread) => void): void {
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) handle(next.message as FromThread);
}

function applyPatches(base: unknown, patches: Patch[]): unknown {
  return patcher().applyPatches(base as object, patches);
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

function crashError(target: ThreadTarget, error: unknown): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return new ResourceLimitError(target.flowId, target.routineId, target.name, { ...(target.resourceLimits ?? {}) }, { cause: error });
  const text = error instanceof Error ? error.message : String(error);
  const exited = /exit(?:ed with)? code:? (-?\d+)/i.exec(text);
  const reason = exited ? `exited with code ${exited[1] ?? '?'}` : code === 'ERR_WORKER_INIT_FAILED' ? `failed to start: ${text}` : `crashed: ${text}`;
  return new WorkerCrashedError(target.flowId, target.routineId, target.name, reason, { cause: error });
}

function moduleProblem(target: ThreadTarget, message: string, failJob: (error: Error) => void): FlowValidationError {
  const error = new FlowValidationError(target.flowId, [{ path: `routines.${target.routineId}.module`, message: `routine '${target.routineId}' (definition '${target.name}') runs in a thread, but ${message}` }]);
  failJob(error);
  return error;
}
