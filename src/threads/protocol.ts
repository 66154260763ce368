/**
 * The messages between the main thread and a worker thread for one threaded activation. Types and the error
 * copy only: the worker imports this file, so it must stay free of the runtime.
 *
 * One MessageChannel per activation. The main thread posts the activation's context on its end before handing the
 * other end to the pool, so a context that cannot be copied fails at once, naming its part. The thread posts what
 * `run` does (emit, setState, setShared, log, progress) in call order, then `done` or `failed`: the pool's own result can
 * overtake messages on this port, so the activation ends on `done`/`failed`, never on the pool's promise.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Patch } from 'immer';

/** The task the pool runs: which routine, and the port the rest travels over. */
export interface ThreadTask {
  /** The `file:` URL of the module exporting the routine. */
  readonly module: string;
  /** The definition's `name`. */
  readonly name: string;
  readonly port: MessagePort;
}

/** The first message on the port: the activation's context, copied. */
export interface ThreadContext {
  readonly slots: Readonly<Record<string, readonly unknown[]>>;
  readonly config: unknown;
  readonly state: unknown;
  readonly shared: unknown;
  readonly job: { readonly id: string; readonly flowId: string };
  readonly trigger: unknown;
  readonly attempt: number;
  readonly routineId: string;
}

/** Main thread -> worker, after the context. */
export interface ToThread {
  readonly type: 'abort';
  readonly reason: SerializedError;
}

/** Worker -> main thread, in the order `run` did things. */
export type FromThread =
  | { readonly type: 'emit'; readonly event: string; readonly payload: unknown }
  | { readonly type: 'state'; readonly patches: Patch[] }
  | { readonly type: 'state.replace'; readonly value: unknown }
  | { readonly type: 'shared'; readonly patches: Patch[] }
  | { readonly type: 'shared.replace'; readonly value: unknown }
  | { readonly type: 'log'; readonly entry: unknown }
  /** `progress(update)`, as called: checked and throttled on the main thread, as inline. */
  | { readonly type: 'progress'; readonly update: unknown }
  /** Something `run` handed over could not be copied back (`what`: `event 'x'`, `setState()`, `log()`). */
  | { readonly type: 'uncloneable'; readonly what: string; readonly message: string }
  /** The module does not export a routine of that name (or cannot be imported). */
  | { readonly type: 'missing'; readonly message: string }
  | { readonly type: 'done' }
  | { readonly type: 'failed'; readonly error: SerializedError };

/** An error as it crosses threads: its class cannot, so name, message, stack and own data travel instead. */
export interface SerializedError {
  readonly isError: boolean;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable properties that could be copied (`code`, ...). */
  readonly props: Record<string, unknown>;
  /** A thrown value that is not an Error, when it could be copied. */
  readonly value?: unknown;
  readonly cause?: SerializedError;
}

/** An error (or any thrown value) as data that `structuredClone` accepts. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    let value: unknown;
    try {
      value = structuredClone(error);
    } catch {
      value = String(error);
    }
    return { isError: false, name: 'Error', message: String(error), stack: undefined, props: {}, value };
  }
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'cause') continue;
    try {
      props[key] = structuredClone(value);
    } catch {
      // A property that cannot cross threads (a function, a socket) is left behind.
    }
  }
  const out: SerializedError = { isError: true, name: error.name, message: error.message, stack: error.stack, props };
  return error.cause !== undefined && depth < 5 ? { ...out, cause: serializeError(error.cause, depth + 1) } : out;
}

/** The error back as an `Error` with the same name, message, stack and data (its class is lost), or the thrown value. */
export function deserializeError(data: SerializedError): unknown {
  if (!data.isError) return data.value;
  const error = new Error(data.message, data.cause ? { cause: deserializeError(data.cause) } : undefined);
  Object.defineProperty(error, 'name', { value: data.name, enumerable: false, configurable: true, writable: true });
  if (data.stack !== undefined) error.stack = data.stack;
  Object.assign(error, data.props);
  return error;
}
