/**
 * ThreadExchange: the message exchange of one threaded activation once its thread is taken. It replays what the
 * thread's `run` does through the activation's context, stops the thread when the activation is aborted, and settles
 * as the thread's `run` did (or with the crash that ended it).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { enablePatches, Immer, type Patch } from 'immer';
import { ActivationEndedError, JobFinishedError, PayloadError, ResourceLimitError, ThreadResourceError, WorkerCrashedError } from '../errors/index.js';
import type { ProgressUpdate } from '../types/ProgressUpdate.js';
import type { Payload, RunContext } from '../routine/index.js';
import { moduleProblem } from './moduleProblem.js';
import { deserializeError, serializeError, type FromThread, type SerializedError, type ThreadTask, type ToThread } from './protocol.js';
import type { ThreadPools } from './ThreadPools.js';
import type { ThreadTarget } from './ThreadTarget.js';

export type Context = RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown>;
export type RunTask = (task: ThreadTask, options: { transferList: readonly MessagePort[]; signal: AbortSignal }) => Promise<unknown>;

let immer: Immer | undefined;
function patcher(): Immer {
  if (!immer) {
    enablePatches();
    immer = new Immer({ autoFreeze: false });
  }
  return immer;
}

/**
 * One activation's exchange with its thread. A class rather than closures inside the Promise executor: the state
 * (settled, grace timer) is its fields, each step a method; the two callbacks handed out are bound once per activation.
 */
export class ThreadExchange {
  private readonly terminate = new AbortController();
  private settled = false;
  private grace: ReturnType<typeof setTimeout> | undefined;
  private resolve: () => void = noop;
  private reject: (reason: unknown) => void = noop;

  constructor(
    private readonly pools: ThreadPools,
    private readonly ctx: Context,
    private readonly target: ThreadTarget,
    private readonly port: MessagePort,
    private readonly release: () => void,
    private readonly failJob: (error: Error) => void,
  ) {}

  /** Hands `theirs` to a thread through `runTask` and settles as its `run` does. */
  run(runTask: RunTask, theirs: MessagePort): Promise<void> {
    const { target, port, terminate } = this;
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.ctx.signal.addEventListener('abort', this.onAbort, { once: true });
      port.on('message', this.handle);
      runTask({ module: target.module, name: target.name, port: theirs }, { transferList: [theirs], signal: terminate.signal }).then(
        () => {
          // The thread's last messages may still be on their way: take them before closing the port.
          this.drain();
          this.finish();
          this.settle({ error: new WorkerCrashedError(target.flowId, target.routineId, target.name, 'ended its task without reporting the outcome') });
        },
        (error: unknown) => {
          this.drain();
          this.finish();
          if (terminate.signal.aborted) this.settle({ error: terminate.signal.reason });
          else this.settle({ error: crashError(target, error) });
        },
      );
    });
  }

  /** One message of the thread; bound, as it is the port's listener. */
  private readonly handle = (message: FromThread): void => {
    if (this.settled && message.type !== 'done' && message.type !== 'failed') return;
    try {
      this.apply(message);
    } catch (error) {
      // The activation already ended (timeout, job over): what the thread still does is not wanted.
      if (error instanceof ActivationEndedError || error instanceof JobFinishedError) return;
      this.fail(error);
    }
  };

  /** The activation was aborted (timeout, cancel): stop the thread and reject with the reason. */
  private readonly onAbort = (): void => {
    const { signal } = this.ctx;
    this.stop(signal.reason);
    this.settle({ error: signal.reason });
  };

  /** Replays what the thread did through the activation's context, or settles on its outcome. */
  private apply(message: FromThread): void {
    const { ctx, target } = this;
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
        this.fail(new PayloadError(target.flowId, target.routineId, message.what, [`cannot be copied from the worker thread to the main thread (${message.message})`]));
        return;
      case 'missing':
        this.fail(moduleProblem(target, message.message, this.failJob));
        return;
      case 'done':
        this.settle();
        return;
      case 'failed':
        this.settle({ error: fromThread(message.error) });
        return;
    }
  }

  private settle(error?: { readonly error: unknown }): void {
    if (this.settled) return;
    this.settled = true;
    // The value `run` rejected with, as inline: not always an Error.
    if (error) this.reject(error.error);
    else this.resolve();
  }

  /** Tells the thread to stop (its signal aborts), and terminates it if it has not ended after the grace period. */
  private stop(reason: unknown): void {
    if (this.grace !== undefined || this.terminate.signal.aborted) return;
    const message: ToThread = { type: 'abort', reason: serializeError(reason) };
    this.port.postMessage(message);
    this.grace = setTimeout(() => {
      this.terminate.abort(reason);
    }, this.pools.abortGraceMs);
    // A thread left to end by itself must not keep the process alive.
    this.grace.unref();
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settle({ error });
    this.stop(error);
  }

  private finish(): void {
    this.ctx.signal.removeEventListener('abort', this.onAbort);
    if (this.grace !== undefined) clearTimeout(this.grace);
    this.port.close();
    this.release();
  }

  private drain(): void {
    for (let next = receiveMessageOnPort(this.port); next; next = receiveMessageOnPort(this.port)) this.handle(next.message as FromThread);
  }
}

function noop(): void {
  // Replaced in `run` before anything can settle: the fields are never undefined, so no check on the way.
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

function applyPatches(base: unknown, patches: Patch[]): unknown {
  return patcher().applyPatches(base as object, patches);
}

function crashError(target: ThreadTarget, error: unknown): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return new ResourceLimitError(target.flowId, target.routineId, target.name, { ...(target.resourceLimits ?? {}) }, { cause: error });
  const text = error instanceof Error ? error.message : String(error);
  const exited = /exit(?:ed with)? code:? (-?\d+)/i.exec(text);
  const reason = exited ? `exited with code ${exited[1] ?? '?'}` : code === 'ERR_WORKER_INIT_FAILED' ? `failed to start: ${text}` : `crashed: ${text}`;
  return new WorkerCrashedError(target.flowId, target.routineId, target.name, reason, { cause: error });
}
