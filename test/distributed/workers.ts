/**
 * Forks real worker processes (fixtures/worker.ts) and stops them again.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const forked = new Set<ChildProcess>();

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves once the worker consumes jobs. */
  readonly ready: Promise<void>;
  /** Resolves with the worker's stats when it closed cleanly (IPC 'close' or SIGTERM). */
  readonly closed: Promise<{ running: number; completed: number; released: number }>;
  /** Resolves with the exit code (or signal) when the process ended. */
  readonly exited: Promise<number | string>;
}

/** `options`: more `createWorker` options (JSON data), over the fixture's (lock 2 s, stalled check every 1 s). */
export function forkWorker(url: string, queue: string, workMs: number, options: Record<string, unknown> = {}): WorkerProcess {
  const child = fork(script, [url, queue, String(workMs), JSON.stringify(options)], { execArgv: ['--conditions=development', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  forked.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      forked.delete(child);
      resolve(code ?? signal ?? -1);
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') resolve();
    });
    void exited.then((code) => {
      reject(new Error(`worker exited (${String(code)}) before it was ready`));
    });
  });
  const closed = new Promise<{ running: number; completed: number; released: number }>((resolve) => {
    child.on('message', (m: { type?: string; stats?: { running: number; completed: number; released: number } }) => {
      if (m.type === 'closed' && m.stats) resolve(m.stats);
    });
  });
  ready.catch(() => undefined);
  return { child, ready, closed, exited };
}

/** SIGKILLs every worker still running (after a failed test). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...forked].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
