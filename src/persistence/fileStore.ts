/**
 * createFileStore: the embedded checkpoint store, one JSON file per job in a directory.
 *
 * Layout (`<name>` is the job id made file-safe, see jobFileName.ts):
 *   <dir>/<name>.json                          the last snapshot of an unfinished job
 *   <dir>/finished/<name>.json                 the last snapshot of a completed, failed or cancelled job
 *   <dir>/[finished/]<name>.json.<pid>.<hex>.tmp   a write in progress (or left by a crash)
 *
 * A save writes a unique temp file next to its target, fdatasyncs it, renames it over the target (atomic: a crash
 * leaves the old file or the new one, never a torn one) and fsyncs the directory so the rename itself survives a
 * power loss. Keeping finished jobs in their own directory makes `listUnfinished` one readdir, without reading a
 * file. When a job moves between the two (its first finished snapshot), the new file is written before the old one
 * is removed; if a crash falls in between, both exist and the finished one wins (a finished job does not run
 * again), and the store removes the other when it opens.
 */
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointError, InvalidOptionError, isSlotflowError } from '../errors/index.js';
import type { CheckpointStore } from './CheckpointStore.js';
import type { JobSnapshot } from './JobSnapshot.js';
import { isHashedName, jobFileName, jobIdOfFileName } from './jobFileName.js';
import { fromStoredText, peekStoredText, toStoredText } from './storedSnapshot.js';
import { isFinalStatus } from '../types/JobStatus.js';
import { WriteLanes } from './WriteLanes.js';

export interface FileStoreOptions {
  /**
   * `'fsync'`: a save resolves once the snapshot is on disk (the file is fdatasynced before the rename, the
   * directory fsynced after it): a checkpoint survives a power loss or a kernel crash.
   * `'none'`: the same atomic rename without the syncs, several times faster: a checkpoint survives a crash of the
   * process (the kernel still holds the write), but the last seconds of checkpoints may be lost with the machine.
   * @default 'fsync'
   */
  readonly durability?: 'fsync' | 'none';
}

/** The file store: a `CheckpointStore` whose `close()` waits for the writes in flight. */
export type FileStore = CheckpointStore & { close(): Promise<void> };

type Place = 'unfinished' | 'finished';
type Operation = { readonly kind: 'save'; readonly text: string; readonly finished: boolean } | { readonly kind: 'delete' };

const FINISHED_DIR = 'finished';
/** A temp file older than this is left over whatever its pid says (the pid may have been reused). */
const STALE_TEMP_MS = 10 * 60_000;
const TEMP_NAME = /\.(\d+)\.[0-9a-f]+\.tmp$/;

/**
 * A checkpoint store that keeps each job's last snapshot in a JSON file under `dir` (created if missing),
 * written atomically. The directory is scanned when the store is first used: temp files left by a crashed process
 * are removed then.
 *
 * @example
 * const runtime = createRuntime({ store: createFileStore('./checkpoints') });
 * const recovered = await runtime.recover(); // after a crash: every unfinished job, running again
 */
export function createFileStore(dir: string, options: FileStoreOptions = {}): FileStore {
  if (typeof dir !== 'string' || dir === '') throw new InvalidOptionError('dir', 'a directory path', dir);
  assertKnownKeys('createFileStore(dir, options)', options, ['durability']);
  const durability: unknown = options.durability ?? 'fsync';
  if (durability !== 'fsync' && durability !== 'none') throw new InvalidOptionError('durability', `'fsync' or 'none'`, durability);
  const root = resolve(dir);
  try {
    mkdirSync(join(root, FINISHED_DIR), { recursive: true });
  } catch (error) {
    throw new CheckpointError('open', undefined, error);
  }
  return new FileCheckpointStore(root, durability === 'fsync');
}

class FileCheckpointStore implements FileStore {
  readonly #dirs: Readonly<Record<Place, string>>;
  readonly #fsync: boolean;
  readonly #lanes = new WriteLanes<Operation>((jobId, op) => this.#apply(jobId, op));
  /** Where this store last wrote a job's file (the other place is known to be empty); unfinished jobs only. */
  readonly #places = new Map<string, Place>();
  readonly #dirSyncs: Readonly<Record<Place, GroupSync>>;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(root: string, fsync: boolean) {
    this.#dirs = { unfinished: root, finished: join(root, FINISHED_DIR) };
    this.#fsync = fsync;
    this.#dirSyncs = {
      unfinished: new GroupSync(() => fsyncDirectory(this.#dirs.unfinished)),
      finished: new GroupSync(() => fsyncDirectory(this.#dirs.finished)),
    };
  }

  save(snapshot: JobSnapshot): Promise<void> {
    let op: Operation;
    let jobId: string;
    try {
      const serialized = toStoredText(snapshot);
      jobId = serialized.snapshot.jobId;
      op = { kind: 'save', text: serialized.text, finished: isFinalStatus(serialized.snapshot.status) };
      this.#assertOpen('save', jobId);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return this.#lanes.push(jobId, op);
  }

  async load(jobId: string): Promise<JobSnapshot | undefined> {
    assertJobId(jobId);
    this.#assertOpen('load', jobId);
    await this.#ready();
    await this.#lanes.idle(jobId);
    const name = jobFileName(jobId);
    const order: Place[] = this.#places.get(jobId) === 'unfinished' ? ['unfinished', 'finished'] : ['finished', 'unfinished'];
    for (const place of order) {
      const path = this.#path(place, name);
      let text: string | undefined;
      try {
        text = await readIfExists(path);
      } catch (error) {
        throw new CheckpointError('load', jobId, error);
      }
      if (text !== undefined) return fromStoredText(text, jobId, path);
    }
    return undefined;
  }

  async listUnfinished(): Promise<string[]> {
    this.#assertOpen('list', undefined);
    await this.#ready();
    const ids: string[] = [];
    try {
      for (const entry of await readdir(this.#dirs.unfinished)) {
        if (!entry.endsWith('.json')) continue;
        const name = entry.slice(0, -'.json'.length);
        const jobId = jobIdOfFileName(name);
        if (jobId !== undefined) ids.push(jobId);
        else if (isHashedName(name)) {
          // a hashed name cannot be decoded: the id is in the file
          const text = await readIfExists(join(this.#dirs.unfinished, entry));
          const peek = text === undefined ? undefined : peekStoredText(text);
          if (peek !== undefined && !peek.finished && jobFileName(peek.jobId) === name) ids.push(peek.jobId);
        }
      }
    } catch (error) {
      throw new CheckpointError('list', undefined, error);
    }
    // in id order: for the default ids (UUID v7) that is the order the jobs were created in
    return ids.sort();
  }

  delete(jobId: string): Promise<void> {
    try {
      assertJobId(jobId);
      this.#assertOpen('delete', jobId);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return this.#lanes.push(jobId, { kind: 'delete' });
  }

  close(): Promise<void> {
    this.#closing ??= this.#lanes.drain();
    return this.#closing;
  }

  #assertOpen(operation: CheckpointError['operation'], jobId: string | undefined): void {
    if (this.#closing !== undefined) throw new CheckpointError(operation, jobId, new Error('the store is closed'));
  }

  #path(place: Place, name: string): string {
    return join(this.#dirs[place], `${name}.json`);
  }

  /** The first use opens the store: temp files a crash left are removed, half-done moves are finished. */
  #ready(): Promise<void> {
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined;
      throw new CheckpointError('open', undefined, error);
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const [unfinished, finished] = await Promise.all([readdir(this.#dirs.unfinished), readdir(this.#dirs.finished)]);
    await Promise.all([...removeStaleTemps(this.#dirs.unfinished, unfinished), ...removeStaleTemps(this.#dirs.finished, finished)]);
    const finishedNames = new Set(finished.filter((entry) => entry.endsWith('.json')));
    const moved = unfinished.filter((entry) => entry.endsWith('.json') && finishedNames.has(entry));
    await Promise.all(moved.map((entry) => unlinkIfExists(join(this.#dirs.unfinished, entry))));
    if (moved.length > 0 && this.#fsync) await this.#dirSyncs.unfinished.sync();
  }

  async #apply(jobId: string, op: Operation): Promise<void> {
    try {
      await this.#ready();
      if (op.kind === 'save') await this.#save(jobId, op.text, op.finished);
      else await this.#delete(jobId);
    } catch (error) {
      throw isSlotflowError(error) ? error : new CheckpointError(op.kind, jobId, error);
    }
  }

  async #save(jobId: string, text: string, finished: boolean): Promise<void> {
    const place: Place = finished ? 'finished' : 'unfinished';
    const other: Place = finished ? 'unfinished' : 'finished';
    const name = jobFileName(jobId);
    const target = this.#path(place, name);
    const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(text);
        if (this.#fsync) await file.datasync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true }).catch(ignore);
      throw error;
    }
    if (this.#fsync) await this.#dirSyncs[place].sync();
    // the new file is durable: now the old one, if the job changed place
    if (this.#places.get(jobId) !== place && (await unlinkIfExists(this.#path(other, name))) && this.#fsync) {
      await this.#dirSyncs[other].sync();
    }
    // a finished job is rarely saved again: forget it rather than keep an entry per job ever run
    if (finished) this.#places.delete(jobId);
    else this.#places.set(jobId, place);
  }

  async #delete(jobId: string): Promise<void> {
    const name = jobFileName(jobId);
    this.#places.delete(jobId);
    for (const place of ['unfinished', 'finished'] as const) {
      if ((await unlinkIfExists(this.#path(place, name))) && this.#fsync) await this.#dirSyncs[place].sync();
    }
  }
}

/**
 * Directory fsyncs shared by concurrent writers (group commit): a caller waits for a sync that started after it
 * asked, and every caller that asked while one was running shares the next.
 */
class GroupSync {
  readonly #sync: () => Promise<void>;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(sync: () => Promise<void>) {
    this.#sync = sync;
  }

  sync(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    if (this.#running === undefined) return this.#start();
    const queued = this.#running.then(ignore, ignore).then(() => {
      this.#queued = undefined;
      return this.#start();
    });
    this.#queued = queued;
    return queued;
  }

  #start(): Promise<void> {
    const running: Promise<void> = this.#sync().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}

function assertJobId(jobId: unknown): asserts jobId is string {
  if (typeof jobId !== 'string') throw new InvalidOptionError('jobId', 'a string', jobId);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function ignore(): void {
  // best effort
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** True when the file was there. */
async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory; its renames are durable without this
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes the temp files of writers that are gone: a pid that no longer runs (or an unreadable name), or older
 * than STALE_TEMP_MS. A live process's temp file may be a write in flight (a store shared by processes, or a
 * second store in this one), so it stays.
 */
function removeStaleTemps(dir: string, entries: readonly string[]): Promise<void>[] {
  return entries
    .filter((entry) => entry.endsWith('.tmp'))
    .map(async (entry) => {
      const path = join(dir, entry);
      const pid = Number(TEMP_NAME.exec(entry)?.[1] ?? Number.NaN);
      if (Number.isSafeInteger(pid) && pid > 0 && isRunning(pid)) {
        const info = await stat(path).catch(() => undefined);
        if (info === undefined || Date.now() - info.mtimeMs < STALE_TEMP_MS) return;
      }
      await rm(path, { force: true });
    });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user
    return errorCode(error) === 'EPERM';
  }
}
