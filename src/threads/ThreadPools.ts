/**
 * ThreadPools: a runtime's worker threads. Pools (piscina) are created on the first threaded activation, one per
 * distinct `resourceLimits`, and closed by `shutdown`. `max` bounds the threads computing at once across every pool.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Piscina } from 'piscina';
import { RuntimeClosedError } from '../errors/index.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { assertDuration, assertPositiveInteger } from '../util/assertOption.js';
import type { ThreadResourceLimits } from './isolation.js';
import { findRoutine } from './findRoutine.js';

/** Options of `createRuntime({ threads })`. */
export interface ThreadsOptions {
  /** Threads computing at once, across every pool. @default os.availableParallelism() */
  readonly max?: number;
  /** An idle thread ends after this long (a new one starts on demand). @default 30000 */
  readonly idleTimeoutMs?: number;
  /**
   * After an activation's signal aborts (job cancelled or failed, activation timed out), how long its thread may run
   * on to end by itself before it is terminated. @default 100
   */
  readonly abortGraceMs?: number;
}

const KEYS = ['max', 'idleTimeoutMs', 'abortGraceMs'];

export class ThreadPools {
  readonly max: number;
  readonly idleTimeoutMs: number;
  readonly abortGraceMs: number;
  readonly #pools = new Map<string, Promise<Piscina>>();
  readonly #modules = new Map<string, Promise<string | undefined>>();
  readonly #waiting: (() => void)[] = [];
  #busy = 0;
  #closed = false;

  constructor(options: ThreadsOptions = {}) {
    assertKnownKeys('threads', options, KEYS);
    this.max = options.max ?? availableParallelism();
    assertPositiveInteger('threads.max', this.max);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    assertDuration('threads.idleTimeoutMs', this.idleTimeoutMs);
    this.abortGraceMs = options.abortGraceMs ?? 100;
    assertDuration('threads.abortGraceMs', this.abortGraceMs);
  }

  /** Threads computing now (busy, across pools). */
  get busy(): number {
    return this.#busy;
  }

  /**
   * Imports `module` on this thread once and looks for the routine: `undefined` when found, else why not. Runs
   * before a job's first threaded activation, so a bad module fails the job as a flow problem, not as a crash.
   */
  checkModule(module: string, name: string): Promise<string | undefined> {
    const key = `${module}\n${name}`;
    let check = this.#modules.get(key);
    if (!check) {
      check = (import(module) as Promise<Record<string, unknown>>).then(
        (exports) => (findRoutine(exports, name) ? undefined : `module ${module} exports no routine definition named '${name}'; export the value defineRoutine({ name: '${name}', ... }) returns`),
        (error: unknown) => `module ${module} cannot be imported: ${error instanceof Error ? error.message : String(error)}`,
      );
      this.#modules.set(key, check);
    }
    return check;
  }

  /** Waits for a thread place (at most `max` busy); `signal` aborting while waiting gives up the place. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (this.#closed) return Promise.reject(new RuntimeClosedError('run an activation on a thread'));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy--;
    };
    if (this.#busy < this.max) {
      this.#busy++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(grant);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  /** The pool for these limits, created on first use. */
  pool(limits: ThreadResourceLimits | undefined): Promise<Piscina> {
    if (this.#closed) return Promise.reject(new RuntimeClosedError('run an activation on a thread'));
    const key = JSON.stringify(limits ?? {});
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = import('piscina').then(({ Piscina: PiscinaClass }) => {
        const { filename, execArgv } = workerEntry();
        return new PiscinaClass({
          filename,
          minThreads: 0,
          maxThreads: this.max,
          idleTimeout: this.idleTimeoutMs,
          ...(limits ? { resourceLimits: { ...limits } } : {}),
          ...(execArgv ? { execArgv } : {}),
          // Measured: 'sync' (a sleeping thread woken through Atomics) costs ~80 µs more per task than messages here.
          atomics: 'disabled',
          recordTiming: false,
        });
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Ends every thread (running activations' jobs are over by now: `shutdown` waits for them first). */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    for (const grant of this.#waiting.splice(0)) grant();
    await Promise.all(pools.map(async (pool) => (await pool).destroy()));
  }
}

/**
 * The worker entry next to this module: `threadWorker.ts` when slotflow runs from its TypeScript source (its tests,
 * examples and benchmarks), `threadWorker.js` in the built package. From source, a worker needs tsx to load it: the
 * workers inherit the process's `--import tsx` when it has one, else get it here.
 */
function workerEntry(): { filename: string; execArgv: string[] | undefined } {
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  const source = new URL(here).pathname.endsWith('.ts');
  const filename = new URL(source ? './threadWorker.ts' : './threadWorker.js', here).href;
  if (!existsSync(fileURLToPath(filename))) throw new Error(`slotflow: the worker thread entry ${fileURLToPath(filename)} is missing; reinstall slotflow`);
  if (!source || typeScriptLoaderActive()) return { filename, execArgv: undefined };
  return { filename, execArgv: [...process.execArgv, '--import', tsxLoader(fileURLToPath(here))] };
}

/** Started through tsx (`tsx app.ts`, `node --import tsx`, NODE_OPTIONS): workers inherit it. */
function typeScriptLoaderActive(): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.some((arg) => /(?:^|[\\/=])tsx(?:[\\/@.]|$)/.test(arg));
}

/** tsx's ES module loader (what `--import tsx` loads), as a file URL found from `file`. */
function tsxLoader(file: string): string {
  const manifest = createRequire(file).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> };
  let target = exports?.['.'];
  while (typeof target === 'object' && target !== null) target = (target as Record<string, unknown>).import ?? (target as Record<string, unknown>).default;
  if (typeof target !== 'string') throw new Error('slotflow: tsx exports no ES module entry');
  return pathToFileURL(join(dirname(manifest), target)).href;
}
