/**
 * The file store under SIGKILL: a child process (fixtures/crash-writer.ts) saves snapshots of several jobs in a
 * tight loop and is killed mid-write, 20 times over; after each kill a fresh store on the same directory must load
 * a whole snapshot of every job (the one saved last or the one before, never a torn file), nothing older than what
 * the child had seen acknowledged, and list exactly the jobs left unfinished.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore, parseSnapshot } from 'slotflow';
import { statusAt, type FromWriter, type Go } from './fixtures/crash-protocol.js';
import { seqOf } from './fixtures/snapshot.js';

const KILLS = 20;
/** Children loaded ahead of time (each takes ~0.5 s to load slotflow through tsx), so kills follow each other. */
const WARM = 3;
const JOBS = ['job-a', 'job-b', 'job-c', 'Job/D', 'x'.repeat(300)];

const writerPath = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Writer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

const children: ChildProcess[] = [];
let dir: string | undefined;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function startWriter(): Writer {
  // tsx loads the TypeScript fixture and maps 'slotflow' to src/ through tsconfig paths (it reads the tsconfig in cwd)
  const child = fork(writerPath, [], { cwd: repoRoot, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: FromWriter) => {
      if (message.type === 'ready') resolve();
    });
    void exited.then(() => { reject(new Error('the writer exited before it was ready')); });
  });
  return { child, ready, exited };
}

/** Resolves after `turns` turns of the event loop (each a few microseconds while nothing else is due). */
async function afterTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A small seeded generator (mulberry32): the same kill points on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('createFileStore under SIGKILL', () => {
  it(`leaves a whole snapshot of every job, never older than acknowledged, after ${KILLS} kills mid-write`, async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slotflow-crash-'));
    const next = random(0x5107f10);
    const warm: Writer[] = Array.from({ length: WARM }, startWriter);
    let started = WARM;
    const lastSeq = new Map<string, number>();
    let firstSeq = 0;

    for (let kill = 0; kill < KILLS; kill++) {
      const writer = warm.shift()!;
      if (started++ < KILLS) warm.push(startWriter());
      await writer.ready;

      // once the child reports round k saved, it is writing the next rounds: kill it a random few event-loop
      // turns later, so the kill lands anywhere in a write (open, write, sync, rename, unlink)
      const killAfter = firstSeq + Math.floor(next() * 5);
      const turns = Math.floor(next() * 200);
      let acked = -1;
      writer.child.on('message', (message: FromWriter) => {
        if (message.type !== 'acked') return;
        acked = message.seq;
        if (acked === killAfter) void afterTurns(turns).then(() => writer.child.kill('SIGKILL'));
      });
      const go: Go = { type: 'go', dir, jobs: JOBS, durability: kill % 2 === 0 ? 'fsync' : 'none', firstSeq };
      writer.child.send(go);
      await writer.exited;
      expect(writer.child.signalCode).toBe('SIGKILL');
      expect(acked).toBeGreaterThanOrEqual(killAfter);

      const store = createFileStore(dir);
      const unfinished = new Set(await store.listUnfinished());
      for (const jobId of JOBS) {
        const snapshot = await store.load(jobId);
        if (snapshot === undefined) throw new Error(`kill ${kill}: job '${jobId.slice(0, 20)}' has no snapshot`);
        expect(parseSnapshot(snapshot).jobId).toBe(jobId);
        const seq = seqOf(snapshot);
        expect(seq, `kill ${kill}: '${jobId.slice(0, 20)}' lost an acknowledged save`).toBeGreaterThanOrEqual(acked);
        expect(seq).toBeGreaterThanOrEqual(lastSeq.get(jobId) ?? 0);
        expect(snapshot.status).toBe(statusAt(seq));
        expect(unfinished.has(jobId)).toBe(statusAt(seq) !== 'completed');
        lastSeq.set(jobId, seq);
      }
      expect(unfinished.size).toBe(JOBS.filter((jobId) => statusAt(lastSeq.get(jobId) ?? 0) !== 'completed').length);
      // the fresh store removed the dead child's temp files when it opened
      const leftovers = (await readdir(dir, { recursive: true })).filter((name) => name.endsWith('.tmp'));
      expect(leftovers).toEqual([]);
      await store.close();
      firstSeq = Math.max(...lastSeq.values()) + 1;
    }
    for (const writer of warm) writer.child.kill('SIGKILL');
  }, 120_000);
});
