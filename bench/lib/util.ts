import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

/** A timer that honours an AbortSignal (a 20 ms branch in fan-out). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return signal === undefined ? delay(ms) : delay(ms, undefined, { signal });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Run `count` tasks with at most `inFlight` at once; resolves when all are done, rejects on the first failure.
 * The same pool drives every contender of the fan-out and throughput workloads (except slotflow's fan-out,
 * which is bounded by the runtime's own `maxJobs`).
 */
export function runPool(count: number, inFlight: number, task: (index: number) => Promise<unknown>): Promise<void> {
  if (count <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let started = 0;
    let finished = 0;
    let failed = false;
    const startNext = (): void => {
      while (!failed && started < count && started - finished < inFlight) {
        const index = started++;
        task(index).then(
          () => {
            finished++;
            if (finished === count) resolve();
            else startNext();
          },
          (error: unknown) => {
            failed = true;
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }
    };
    startNext();
  });
}

/** Reject with a readable error when `promise` takes longer than `ms` (the harness must never hang). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what}: no result after ${ms} ms`)); }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const gcFunction = (globalThis as { gc?: () => void }).gc;

export const hasGc = typeof gcFunction === 'function';

/**
 * Full GC, three times, letting finalizers and pending microtasks run in between, then 30 ms of wall time for V8's
 * helper threads to finish sweeping after it: `process.cpuUsage()` counts every thread, and that leftover sweeping
 * otherwise landed inside the next measurement (measured on the fan-out workload: ~8-12 ms of a ~40 ms batch's CPU,
 * for every contender). No-op without --expose-gc.
 */
export async function fullGc(): Promise<void> {
  if (gcFunction === undefined) return;
  for (let i = 0; i < 3; i++) {
    gcFunction();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await new Promise<void>((resolve) => setTimeout(resolve, 30));
}

/** CPU time (user + system, all threads of the process) in microseconds since `start`. */
export function cpuMicros(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const at = (i: number): number => sorted[i] ?? Number.NaN;
  return sorted.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return `${name}${error.message}`;
  }
  return String(error);
}

/** A check that throws with a readable message (used by every session's `verify`). */
export function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`verify failed: ${message}`);
}

/**
 * execArgv for a bench child process: this process's flags (the tsx loader, --expose-gc), and under
 * `node --cpu-prof` a profile directory of its own per child, `<cpu-prof-dir>/<label>/` (in it, the main thread's
 * profile is the `CPU.*.<pid>.0.*.cpuprofile`; the tsx loader thread writes another). Children without a label (the
 * load probes) are not profiled.
 */
export function childExecArgv(label: string | undefined): string[] {
  const args: string[] = [];
  let profileDir = process.cwd();
  const source = process.execArgv;
  for (let i = 0; i < source.length; i++) {
    const arg = source[i] ?? '';
    if (arg.startsWith('--cpu-prof-dir') || arg.startsWith('--cpu-prof-name')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : source[++i];
      if (arg.startsWith('--cpu-prof-dir') && value !== undefined) profileDir = value;
      continue;
    }
    if (label === undefined && arg.startsWith('--cpu-prof')) {
      if (arg === '--cpu-prof-interval') i++;
      continue;
    }
    args.push(arg);
  }
  if (!args.includes('--expose-gc')) args.unshift('--expose-gc');
  if (label !== undefined && args.includes('--cpu-prof')) args.push(`--cpu-prof-dir=${profileDir}/${label}`);
  return args;
}

/**
 * Runs `node <args>` and resolves with the JSON after its `RESULT ` line on stdout. Its stderr lines indented by
 * four spaces are progress, echoed unless `quiet`; a child that exits non-zero, prints no result or outlives
 * `timeoutMs` rejects with the start of its stderr.
 */
export function runResultChild<T>(args: readonly string[], quiet: boolean, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!quiet) process.stdout.write(d.toString().split('\n').filter((l) => l.startsWith('    ')).map((l) => `${l}\n`).join(''));
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no result after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line !== undefined) resolve(JSON.parse(line.slice('RESULT '.length)) as T);
      else {
        const tail = stderr.trim().split('\n').filter((l) => !l.startsWith('    ')).slice(0, 8).join('\n      ');
        reject(new Error(`exit ${code ?? signal}${tail ? `:\n      ${tail}` : ''}`));
      }
    });
  });
}
