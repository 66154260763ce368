import fc from 'fast-check';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  createFileStore,
  createMemoryStore,
  InvalidOptionError,
  isCheckpointError,
  SnapshotError,
  type CheckpointStore,
  type JobSnapshot,
  type JobStatus,
} from 'slotflow';
import { makeSnapshot, seqOf } from './fixtures/snapshot.js';

const dirs: string[] = [];
const stores: CheckpointStore[] = [];

afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map(async (store) => store.close?.()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slotflow-stores-'));
  dirs.push(dir);
  return dir;
}

function track<T extends CheckpointStore>(store: T): T {
  stores.push(store);
  return store;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Every entry under `dir`, recursively, as paths relative to it. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

const UNFINISHED: readonly JobStatus[] = ['queued', 'running', 'paused', 'idle'];
const FINISHED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
const ODD_IDS = ['../x', 'a/b', '', '.', '..', 'Job', 'job', 'con', 'Ünïcødé 🚀 ids', '\u{d800}lone', 'x'.repeat(300), 'é'.repeat(200)];

/** Any string, lone surrogates included, plus the ids most likely to break a file name. */
const anyId = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(...ODD_IDS),
);

const kinds = [
  { name: 'memory store', open: () => Promise.resolve(createMemoryStore()) },
  { name: "file store, durability 'fsync'", open: async () => createFileStore(await tempDir()) },
  { name: "file store, durability 'none'", open: async () => createFileStore(await tempDir(), { durability: 'none' }) },
];

describe.each(kinds)('CheckpointStore contract: $name', ({ open }) => {
  const openStore = async (): Promise<CheckpointStore> => track(await open());

  it('loads undefined for a job it does not hold', async () => {
    const store = await openStore();
    expect(await store.load('nobody')).toBeUndefined();
    expect(await store.listUnfinished()).toEqual([]);
  });

  it('loads the last saved snapshot of a job, as JSON hands it back', async () => {
    const store = await openStore();
    const snapshot = makeSnapshot('job-1', { seq: 1 });
    await store.save(snapshot);
    expect(await store.load('job-1')).toEqual(JSON.parse(JSON.stringify(snapshot)));
    await store.save(makeSnapshot('job-1', { seq: 2, status: 'paused' }));
    const loaded = await store.load('job-1');
    expect(seqOf(loaded!)).toBe(2);
    expect(loaded!.status).toBe('paused');
  });

  it('lists only the jobs whose last snapshot is unfinished', async () => {
    const store = await openStore();
    for (const status of [...UNFINISHED, ...FINISHED]) await store.save(makeSnapshot(`job-${status}`, { status }));
    expect((await store.listUnfinished()).sort()).toEqual(UNFINISHED.map((s) => `job-${s}`).sort());
    for (const status of FINISHED) expect((await store.load(`job-${status}`))?.status).toBe(status);
  });

  it('takes a job off the list when it finishes, and back when its id is saved unfinished again', async () => {
    const store = await openStore();
    await store.save(makeSnapshot('job', { seq: 1, status: 'running' }));
    expect(await store.listUnfinished()).toEqual(['job']);
    await store.save(makeSnapshot('job', { seq: 2, status: 'completed' }));
    expect(await store.listUnfinished()).toEqual([]);
    expect(seqOf((await store.load('job'))!)).toBe(2);
    await store.save(makeSnapshot('job', { seq: 3, status: 'queued' }));
    expect(await store.listUnfinished()).toEqual(['job']);
    expect(seqOf((await store.load('job'))!)).toBe(3);
  });

  it('forgets a deleted job; deleting it again, or a job it never held, is fine', async () => {
    const store = await openStore();
    await store.save(makeSnapshot('a'));
    await store.save(makeSnapshot('b', { status: 'completed' }));
    await store.delete('a');
    await store.delete('b');
    await store.delete('a');
    await store.delete('never');
    expect(await store.load('a')).toBeUndefined();
    expect(await store.load('b')).toBeUndefined();
    expect(await store.listUnfinished()).toEqual([]);
  });

  it('hands back data JSON changes as JSON changes it: a Date as its string, undefined dropped, a Map as {}', async () => {
    const store = await openStore();
    await store.save(makeSnapshot('job', { shared: { when: new Date(0), gone: undefined, map: new Map([[1, 2]]) } }));
    const shared = (await store.load('job'))!.shared;
    expect(shared.when).toBe('1970-01-01T00:00:00.000Z');
    expect('gone' in shared).toBe(false);
    expect(shared.map).toEqual({});
  });

  it('rejects a snapshot JSON cannot hold (a BigInt, a cycle) with a CheckpointError, and keeps the previous one', async () => {
    const store = await openStore();
    await store.save(makeSnapshot('job', { seq: 1 }));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [{ big: 1n }, { cycle }]) {
      const error = await rejection(store.save(makeSnapshot('job', { seq: 2, shared: bad })));
      expect(error).toBeInstanceOf(CheckpointError);
      expect(error).toMatchObject({ operation: 'save', jobId: 'job' });
    }
    expect(seqOf((await store.load('job'))!)).toBe(1);
  });

  it("rejects what is not a job snapshot with SnapshotError 'malformed'", async () => {
    const store = await openStore();
    const notSnapshots = [{}, null, 'text', { ...makeSnapshot('job'), format: 'other' }, { ...makeSnapshot('job'), status: 'done' }, { ...makeSnapshot('job'), jobId: 7 }];
    for (const value of notSnapshots) {
      const error = await rejection(store.save(value as JobSnapshot));
      expect(error).toBeInstanceOf(SnapshotError);
      expect(error).toMatchObject({ reason: 'malformed' });
    }
    expect(await store.listUnfinished()).toEqual([]);
  });

  it('gives every load a copy of its own', async () => {
    const store = await openStore();
    await store.save(makeSnapshot('job', { seq: 1 }));
    const first = (await store.load('job'))!;
    (first.shared as Record<string, unknown>).seq = 99;
    expect(seqOf((await store.load('job'))!)).toBe(1);
  });

  it('ends with the last of many saves of one job made at once, whatever the statuses in between', async () => {
    const store = await openStore();
    const statuses: JobStatus[] = ['running', 'completed', 'idle', 'failed', 'paused'];
    const saves = Array.from({ length: 40 }, (_, seq) => store.save(makeSnapshot('job', { seq, status: statuses[seq % statuses.length]! })));
    saves.push(store.save(makeSnapshot('other', { seq: 7 })));
    await Promise.all(saves);
    const last = (await store.load('job'))!;
    expect(seqOf(last)).toBe(39);
    expect(last.status).toBe('paused');
    expect((await store.listUnfinished()).sort()).toEqual(['job', 'other']);
  });

  it('applies saves and deletes of one job in the order they were made', async () => {
    const store = await openStore();
    await Promise.all([store.save(makeSnapshot('a', { seq: 1 })), store.delete('a'), store.save(makeSnapshot('a', { seq: 2, status: 'cancelled' }))]);
    expect(seqOf((await store.load('a'))!)).toBe(2);
    await Promise.all([store.save(makeSnapshot('b', { seq: 1 })), store.save(makeSnapshot('b', { seq: 2 })), store.delete('b')]);
    expect(await store.load('b')).toBeUndefined();
    expect(await store.listUnfinished()).toEqual([]);
  });

  it('keeps every job apart, whatever its id', async () => {
    const store = await openStore();
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(anyId, { minLength: 1, maxLength: 5 }), fc.nat(), async (ids, salt) => {
        await Promise.all(ids.map((id, i) => store.save(makeSnapshot(id, { seq: salt + i, bytes: 200 }))));
        expect((await store.listUnfinished()).sort()).toEqual([...ids].sort());
        for (const [i, id] of ids.entries()) {
          const loaded = (await store.load(id))!;
          expect(loaded.jobId).toBe(id);
          expect(seqOf(loaded)).toBe(salt + i);
        }
        await Promise.all(ids.map((id) => store.delete(id)));
        expect(await store.listUnfinished()).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it('rejects every call after close() with a CheckpointError', async () => {
    const store = await openStore();
    await store.save(makeSnapshot('job'));
    await store.close?.();
    for (const call of [store.save(makeSnapshot('job')), store.load('job'), store.listUnfinished(), store.delete('job')]) {
      const error = await rejection(call);
      expect(isCheckpointError(error)).toBe(true);
      expect((error as Error).message).toContain('closed');
    }
  });
});

describe('createMemoryStore', () => {
  it('counts its jobs and saves, and lists their ids in the order first saved', async () => {
    const store = createMemoryStore();
    await store.save(makeSnapshot('b'));
    await store.save(makeSnapshot('a', { status: 'completed' }));
    await store.save(makeSnapshot('b', { seq: 2 }));
    expect(store.size).toBe(2);
    expect(store.saves).toBe(3);
    expect(store.ids()).toEqual(['b', 'a']);
    await store.delete('b');
    expect(store.ids()).toEqual(['a']);
  });
});

describe('createFileStore', () => {
  it('names each file after its job id, safely and uniquely, inside its directory', async () => {
    const dir = await tempDir();
    const store = track(createFileStore(dir, { durability: 'none' }));
    await Promise.all(ODD_IDS.map((id) => store.save(makeSnapshot(id, { bytes: 100 }))));
    const names = await files(dir);
    expect(names).toHaveLength(ODD_IDS.length);
    for (const name of names) {
      expect(name).toMatch(/^[a-z0-9_%~-]+\.json$/);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    }
    expect(names).toEqual(expect.arrayContaining(['%2e%2e%2fx.json', 'a%2fb.json', '%.json', '%2e.json', '%4aob.json', 'job.json', '%63on.json']));
    // ids longer than a file name end in a hash: the store reads their id from the file
    expect(names.filter((name) => name.includes('~'))).toHaveLength(2);
    expect((await store.listUnfinished()).sort()).toEqual([...ODD_IDS].sort());
    for (const id of ODD_IDS) expect((await store.load(id))?.jobId).toBe(id);
  });

  it('writes finished jobs under finished/, and moves a job back when its id is saved unfinished', async () => {
    const dir = await tempDir();
    const store = track(createFileStore(dir));
    await store.save(makeSnapshot('job', { status: 'running' }));
    expect(await files(dir)).toEqual(['job.json']);
    await store.save(makeSnapshot('job', { status: 'failed' }));
    expect(await files(dir)).toEqual(['finished/job.json']);
    await store.save(makeSnapshot('job', { status: 'idle' }));
    expect(await files(dir)).toEqual(['job.json']);
    expect(JSON.parse(await readFile(path.join(dir, 'job.json'), 'utf8'))).toMatchObject({ jobId: 'job', status: 'idle' });
  });

  it('creates missing directories, and takes options it knows only', async () => {
    const dir = path.join(await tempDir(), 'a', 'b');
    const store = track(createFileStore(dir));
    await store.save(makeSnapshot('job'));
    expect(await files(dir)).toEqual(['job.json']);
    expect(() => createFileStore('')).toThrow(InvalidOptionError);
    expect(() => createFileStore(dir, { durability: 'sometimes' as 'none' })).toThrow(/Expected `durability` to be 'fsync' or 'none', got 'sometimes'/);
    await writeFile(path.join(dir, 'a-file'), '');
    expect(() => createFileStore(path.join(dir, 'a-file', 'below'))).toThrow(CheckpointError);
  });

  it('removes the temp files of dead writers when first used, and keeps a live writer’s recent one', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'finished'));
    const dead = ['job.json.99999999.0a1b2c.tmp', 'finished/job.json.99999999.0a1b2c.tmp', 'no-pid.tmp'];
    const live = `other.json.${process.pid}.abcdef.tmp`;
    const oldLive = `old.json.${process.pid}.abcdef.tmp`;
    for (const name of [...dead, live, oldLive]) await writeFile(path.join(dir, name), '{"torn":');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(path.join(dir, oldLive), hourAgo, hourAgo);
    await writeFile(path.join(dir, 'job.json'), JSON.stringify(makeSnapshot('job', { seq: 4 })));

    const store = track(createFileStore(dir));
    expect(await files(dir)).toHaveLength(6); // opening is lazy: createFileStore stays synchronous
    expect(await store.listUnfinished()).toEqual(['job']);
    expect(await files(dir)).toEqual(['job.json', live].sort());
    expect(seqOf((await store.load('job'))!)).toBe(4);
  });

  it('finishes a move a crash interrupted: the finished snapshot wins', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'finished'));
    await writeFile(path.join(dir, 'job.json'), JSON.stringify(makeSnapshot('job', { seq: 1, status: 'running' })));
    await writeFile(path.join(dir, 'finished', 'job.json'), JSON.stringify(makeSnapshot('job', { seq: 2, status: 'completed' })));
    const store = track(createFileStore(dir));
    expect(await store.listUnfinished()).toEqual([]);
    expect(seqOf((await store.load('job'))!)).toBe(2);
    expect(await files(dir)).toEqual(['finished/job.json']);
  });

  it("rejects a file that is not a whole snapshot of its job with SnapshotError 'malformed', naming the file", async () => {
    const dir = await tempDir();
    const store = track(createFileStore(dir));
    const contents = ['', '{"format":"slotflow/job-snap', '[1,2]', JSON.stringify({ ...makeSnapshot('job'), version: 'one' }), JSON.stringify(makeSnapshot('another-job'))];
    for (const content of contents) {
      await writeFile(path.join(dir, 'job.json'), content);
      const error = await rejection(store.load('job'));
      expect(error).toBeInstanceOf(SnapshotError);
      expect(error).toMatchObject({ reason: 'malformed', jobId: 'job' });
      expect((error as Error).message).toContain(path.join(dir, 'job.json'));
    }
    // listing reads no file: the corrupt job is listed, and its load says what is wrong
    expect(await store.listUnfinished()).toEqual(['job']);
  });

  it('reports I/O failures as CheckpointError and leaves no temp file behind', async () => {
    const dir = await tempDir();
    const store = track(createFileStore(dir));
    await mkdir(path.join(dir, 'job.json'));
    const loadError = await rejection(store.load('job'));
    expect(loadError).toBeInstanceOf(CheckpointError);
    expect(loadError).toMatchObject({ operation: 'load', jobId: 'job' });
    const saveError = await rejection(store.save(makeSnapshot('job')));
    expect(saveError).toMatchObject({ code: 'CHECKPOINT', operation: 'save', jobId: 'job' });
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    // a directory removed under a store that has not opened yet
    const gone = track(createFileStore(path.join(dir, 'store')));
    await rm(path.join(dir, 'store'), { recursive: true });
    expect(await rejection(gone.save(makeSnapshot('job')))).toMatchObject({ code: 'CHECKPOINT', operation: 'open' });
  });

  it('waits in close() for the writes in flight', async () => {
    const dir = await tempDir();
    const store = createFileStore(dir);
    let saved = 0;
    const saves = Array.from({ length: 5 }, (_, i) => store.save(makeSnapshot(`job-${i}`, { seq: i })).then(() => saved++));
    await store.close();
    expect(saved).toBe(5);
    await Promise.all(saves);
    const reopened = track(createFileStore(dir));
    for (let i = 0; i < 5; i++) expect(seqOf((await reopened.load(`job-${i}`))!)).toBe(i);
  });
});
