/**
 * threadWorker: the pool's worker entry. It imports the routine's module (once per thread), takes the export that
 * is a routine definition with the task's `name`, and runs one activation on a copy of its context, posting what
 * `run` does back to the main thread as it happens. It imports no part of the runtime: a thread stays light.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { enablePatches, Immer } from 'immer';
// The one runtime file a thread imports: the error class `resource()` rejects with (it imports only the base class).
import { ThreadResourceError } from '../errors/resourceErrors.js';
import { findRoutine, type Routine } from './findRoutine.js';
import { deepFreeze } from '../util/deepFreeze.js';
import { deserializeError, serializeError, type FromThread, type ThreadContext, type ThreadTask, type ToThread } from './protocol.js';

enablePatches();
// On, as on the main thread: `run` in a thread gets the same immutable state and shared data as inline.
const immer = new Immer({ autoFreeze: true });

const routines = new Map<string, Promise<Routine | undefined>>();
const TYPESCRIPT = /\.(?:[cm]?ts|tsx)$/i;

/** Runs one activation; resolves when `run` has ended and `done` or `failed` is posted. */
export default async function runThreadTask(task: ThreadTask): Promise<void> {
  const { port } = task;
  const post = (message: FromThread) => {
    port.postMessage(message);
  };
  try {
    const ctx = receiveMessageOnPort(port)?.message as ThreadContext | undefined;
    if (ctx === undefined) throw new Error('slotflow: a thread task arrived without its context');
    let routine: Routine | undefined;
    try {
      routine = await loadRoutine(task.module, task.name);
    } catch (error) {
      post({ type: 'missing', message: `cannot import ${task.module}: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (!routine) {
      post({ type: 'missing', message: `module ${task.module} exports no routine definition named '${task.name}'` });
      return;
    }
    await runActivation(routine, ctx, port, post);
  } finally {
    port.removeAllListeners('message');
    port.unref();
  }
}

async function runActivation(routine: Routine, ctx: ThreadContext, port: MessagePort, post: (message: FromThread) => void): Promise<void> {
  const controller = new AbortController();
  port.on('message', (message: ToThread) => {
    controller.abort(deserializeError(message.reason));
  });
  // The context is this thread's own copy: frozen so that a mutation throws here as it does inline.
  deepFreeze(ctx.slots);
  deepFreeze(ctx.config);
  let ended = false;
  /** Posts one step of `run`; a value that cannot be copied fails the activation (on the main thread too) and throws here. */
  const send = (what: string, message: FromThread) => {
    if (ended) throw new Error(`${what} was called after the activation of routine '${ctx.routineId}' ended; await the work that calls it`);
    try {
      port.postMessage(message);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      post({ type: 'uncloneable', what, message: text });
      throw Object.assign(new Error(`${what} of routine '${ctx.routineId}': the value cannot be copied to the main thread (${text})`), { name: 'DataCloneError' });
    }
  };
  const context = runContext(ctx, controller, send);
  try {
    await routine.run(context);
    ended = true;
    post({ type: 'done' });
  } catch (error) {
    ended = true;
    post({ type: 'failed', error: serializeError(error) });
  }
}

/**
 * The `ctx` that `run` gets in the thread: the copied context, with each call posted to the main thread by `send`.
 * Apart from `runActivation` so that the state this thread keeps (its `state` and `shared`) is local to it.
 */
function runContext(ctx: ThreadContext, controller: AbortController, send: (what: string, message: FromThread) => void) {
  let state = deepFreeze(ctx.state);
  let shared = deepFreeze(ctx.shared);
  return {
    slots: ctx.slots,
    config: ctx.config,
    trigger: ctx.trigger,
    job: ctx.job,
    routineId: ctx.routineId,
    attempt: ctx.attempt,
    get state() {
      return state;
    },
    get shared() {
      return shared;
    },
    get signal() {
      return controller.signal;
    },
    emit: (event: string, payload: unknown) => {
      send(`event '${event}'`, { type: 'emit', event, payload: deepFreeze(payload) });
    },
    setState: (update: unknown) => {
      if (typeof update === 'function') {
        const [next, patches] = immer.produceWithPatches(state, update as (draft: unknown) => unknown);
        send('setState()', { type: 'state', patches });
        state = next;
      } else {
        send('setState()', { type: 'state.replace', value: update });
        state = deepFreeze(update);
      }
    },
    setShared: (update: unknown) => {
      if (typeof update === 'function') {
        const [next, patches] = immer.produceWithPatches(shared, update as (draft: unknown) => unknown);
        send('setShared()', { type: 'shared', patches });
        shared = next;
      } else {
        send('setShared()', { type: 'shared.replace', value: update });
        shared = deepFreeze(update);
      }
    },
    log: (entry: unknown) => {
      send('log()', { type: 'log', entry });
    },
    // Checked (unknown keys, ranges) and throttled on the main thread, by the inline code: a bad update fails the
    // activation there with InvalidOptionError.
    progress: (update: unknown) => {
      send('progress()', { type: 'progress', update });
    },
    // A resource is a live object of the main thread: it cannot cross. A rejection (the signature is async), so a
    // routine may catch it; uncaught, the activation fails with it.
    resource: (name: string) => Promise.reject(new ThreadResourceError(ctx.job.flowId, ctx.routineId, name)),
  };
}

function loadRoutine(module: string, name: string): Promise<Routine | undefined> {
  const key = `${module}\n${name}`;
  let found = routines.get(key);
  if (!found) {
    found = importModule(module).then((exports) => findRoutine(exports, name));
    routines.set(key, found);
    // A failed import is not cached: the next activation tries again (the file may be fixed meanwhile).
    found.catch(() => routines.delete(key));
  }
  return found;
}

async function importModule(module: string): Promise<Record<string, unknown>> {
  try {
    return (await import(module)) as Record<string, unknown>;
  } catch (error) {
    // A TypeScript module, and no TypeScript loader in this thread (on Node.js 20, `--import tsx` registers its
    // ES module hooks on the main thread only): import it through tsx's API, found from the module or the cwd.
    if (!TYPESCRIPT.test(module) || (error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    const { tsImport } = await tsxApi(fileURLToPath(module));
    return (await tsImport(module, module)) as Record<string, unknown>;
  }
}

async function tsxApi(file: string): Promise<{ tsImport: (specifier: string, parentURL: string) => Promise<unknown> }> {
  for (const from of [dirname(file), process.cwd()]) {
    let api: string;
    try {
      api = tsxApiIn(from);
    } catch {
      continue;
    }
    return (await import(pathToFileURL(api).href)) as { tsImport: (specifier: string, parentURL: string) => Promise<unknown> };
  }
  throw new Error(`${file} is TypeScript, and loading it in a worker thread needs tsx, which neither its folder nor the working directory can find (npm install -D tsx)`);
}

/** tsx's ES module API file as seen from `dir` (`require.resolve` gives the CommonJS entry, which cannot `register()`). */
function tsxApiIn(dir: string): string {
  const manifest = createRequire(join(dir, 'noop.js')).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> };
  let target = exports?.['./esm/api'];
  while (typeof target === 'object' && target !== null) target = (target as Record<string, unknown>).import ?? (target as Record<string, unknown>).default;
  if (typeof target !== 'string') throw new Error('tsx exports no ./esm/api');
  return join(dirname(manifest), target);
}
