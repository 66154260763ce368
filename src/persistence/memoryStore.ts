/**
 * createMemoryStore: a checkpoint store in memory, for tests.
 *
 * It keeps each snapshot as JSON text and parses a fresh copy on every load, so a snapshot behaves as it would
 * with a file: a `Date` comes back as a string, and data JSON cannot hold (a BigInt, a cycle, a function, a Map,
 * `undefined`) fails the save, in the test rather than in production.
 */
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { CheckpointError } from '../errors/index.js';
import type { CheckpointStore } from './CheckpointStore.js';
import { fromStoredText, toStoredText } from './storedSnapshot.js';
import { isFinalStatus } from '../types/JobStatus.js';

/** The memory store: a `CheckpointStore` with a view for tests. */
export interface MemoryStore extends CheckpointStore {
  /** How many jobs it holds. */
  readonly size: number;
  /** How many saves it has taken (each `save` call). */
  readonly saves: number;
  /** The ids of the jobs it holds, in the order they were first saved. */
  ids(): string[];
  /** After `close()`, every call rejects with a `CheckpointError`. */
  close(): Promise<void>;
}

/**
 * A checkpoint store in memory: for tests, or a runtime that wants `restore()` within one process.
 *
 * @example
 * const store = createMemoryStore();
 * const runtime = createRuntime({ store });
 * // ... run jobs, then inspect: store.ids(), await store.load(id)
 */
/** `options`: none yet (an object with any key is refused, so a typo never passes silently). */
export function createMemoryStore(options?: Readonly<Record<string, never>>): MemoryStore {
  assertKnownKeys('createMemoryStore(options)', options, []);
  const jobs = new Map<string, { readonly text: string; readonly finished: boolean }>();
  let saves = 0;
  let closed = false;

  const guard = (operation: CheckpointError['operation'], jobId: string | undefined): void => {
    if (closed) throw new CheckpointError(operation, jobId, new Error('the store is closed'));
  };

  return {
    get size() {
      return jobs.size;
    },
    get saves() {
      return saves;
    },
    ids: () => [...jobs.keys()],

    save: (snapshot) =>
      settle(() => {
        const { text, snapshot: checked } = toStoredText(snapshot);
        guard('save', checked.jobId);
        saves++;
        jobs.set(checked.jobId, { text, finished: isFinalStatus(checked.status) });
      }),

    load: (jobId) =>
      settle(() => {
        guard('load', jobId);
        const entry = jobs.get(jobId);
        return entry === undefined ? undefined : fromStoredText(entry.text, jobId, 'the memory store');
      }),

    listUnfinished: () =>
      settle(() => {
        guard('list', undefined);
        return [...jobs].filter(([, entry]) => !entry.finished).map(([jobId]) => jobId);
      }),

    delete: (jobId) =>
      settle(() => {
        guard('delete', jobId);
        jobs.delete(jobId);
      }),

    close: () =>
      settle(() => {
        closed = true;
      }),
  };
}

/** `fn()` as a promise: its value, or its exception as a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
