/**
 * The checkpoint workload, measured in a fresh process (spawned by checkpoint.ts): `checkpoint-child.ts <json>`
 * with the CheckpointParams. Prints progress on stderr and one line `RESULT <json>` (a CheckpointResult) on stdout.
 *
 * Two parts, each in interleaved rounds (the order rotates every round), warmed up and calibrated like the
 * in-process workloads (lib/measure.ts):
 *   - stores: durable checkpoints per second of one ~2 KB snapshot: one job saving in sequence (each save awaited),
 *     and 32 jobs saving at once (each its own sequence); the memory store, the file store with durability 'none'
 *     and 'fsync'.
 *   - chain with a store: the chain workload (5 routines in a line, one job at a time), each step waiting one turn
 *     of the event loop before it emits (a stand-in for I/O: a runtime checkpoints a job once per turn in which it
 *     changed, so steps that run back to back in one turn would make no checkpoint but the final delete), on a
 *     runtime without a store, and with each store: every job is awaited with `job.wait()` and then
 *     `job.checkpoint()` (its last checkpoint is written, here: its delete, as the runtime deletes finished jobs by
 *     default).
 */
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { measure, warmUp, type Calibration, type Sample } from './lib/measure.js';
import type { Session } from './lib/types.js';
import { chainFlow } from './lib/chainFlow.js';
import { errorText, expect, median } from './lib/util.js';

type Slotflow = typeof import('slotflow');
type Store = ReturnType<Slotflow['createFileStore']>;
type JobSnapshot = Parameters<Store['save']>[0];

export interface CheckpointParams {
  rounds: number;
  warmupMs: number;
  roundMs: number;
  timeoutMs: number;
  /** Where the file stores write (a directory per session is made in it). */
  baseDir: string;
}

/** One measured configuration: its samples, one per round (null: that round failed). */
export interface CheckpointRow {
  part: 'stores' | 'chain';
  /** 'memory', 'file none', 'file fsync' (and 'no store' in the chain part). */
  store: string;
  /** stores: 1 or 32 jobs saving at once; chain: 1 (jobs run one at a time). */
  jobs: number;
  status: 'ok' | 'error';
  reason?: string;
  count?: number;
  rounds: (Sample | null)[];
  /** chain: store calls per job (saves, deletes), counted during verification. */
  savesPerJob?: number;
  deletesPerJob?: number;
}

export interface CheckpointResult {
  dir: string;
  /** The file system of `dir`, from statfs (`tmpfs` makes fsync free: the figures then say nothing about disks). */
  fileSystem: string;
  threadpool: number;
  rows: CheckpointRow[];
}

const FS_TYPES: Record<number, string> = { 0xef53: 'ext2/3/4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x6969: 'nfs', 0x794c7630: 'overlayfs', 0x2fc12fc1: 'zfs' };

const params = JSON.parse(process.argv[2] ?? '{}') as CheckpointParams;
const progress = (line: string): void => {
  process.stderr.write(`    ${line}\n`);
};

const fromDist = process.env.SLOTFLOW_BENCH_BUILD === 'dist';
const sf = fromDist ? ((await import(new URL('../dist/index.js', import.meta.url).href)) as Slotflow) : await import('slotflow');

/** A ~2 KB snapshot of a job in flight: a chain of 5 routines with a few queued payloads, a log and a history. */
function snapshotOf(jobId: string, seq: number): JobSnapshot {
  const routines: Record<string, JobSnapshot['routines'][string]> = {};
  for (let i = 0; i < 5; i++) {
    routines[`r${i}`] = { machine: 'idle', state: { seen: seq + i }, activations: seq, errors: 0, queues: { in: i === 2 ? [{ n: seq, note: 'queued payload' }] : [] }, lastActivationAt: 1_700_000_000_000 + seq };
  }
  return {
    format: sf.SNAPSHOT_FORMAT,
    version: sf.SNAPSHOT_VERSION,
    jobId,
    flowId: 'chain5',
    status: 'running',
    savedAt: 1_700_000_000_000 + seq,
    keepAlive: false,
    completing: false,
    admitted: true,
    params: { n: 0, customer: 'c-0042', request: 'r'.repeat(200) },
    startedAt: 1_700_000_000_000,
    outputs: { 'r4.out': [] },
    shared: { seq, progress: 'p'.repeat(300) },
    log: Array.from({ length: 4 }, (_, i) => ({ at: 1_700_000_000_000 + i, routine: `r${i}`, message: `step ${i} done` })),
    history: Array.from({ length: 4 }, (_, i) => ({ routineId: `r${i}`, attempt: 1, startedAt: 1_700_000_000_000 + i, finishedAt: 1_700_000_000_001 + i, durationMs: 1, consumed: { in: 1 }, emitted: { out: 1 }, outcome: 'ok' as const })),
    cycles: {},
    routines,
  };
}

interface StoreKind {
  name: string;
  open(): Promise<{ store: Store; dispose: () => Promise<void> }>;
}

const storeKinds: StoreKind[] = [
  { name: 'memory', open: () => Promise.resolve({ store: sf.createMemoryStore(), dispose: () => Promise.resolve() }) },
  ...(['none', 'fsync'] as const).map(
    (durability): StoreKind => ({
      name: `file ${durability}`,
      async open() {
        const dir = await mkdtemp(path.join(params.baseDir, `slotflow-bench-${durability}-`));
        const store = sf.createFileStore(dir, { durability });
        return {
          store,
          async dispose() {
            await store.close();
            await rm(dir, { recursive: true, force: true });
          },
        };
      },
    }),
  ),
];

/** stores: `run(count)` makes `count` checkpoints, over `jobs` jobs that each save in sequence. */
async function storeSession(kind: StoreKind, jobs: number): Promise<Session> {
  const { store, dispose } = await kind.open();
  const ids = Array.from({ length: jobs }, (_, i) => `019a0000-0000-7000-8000-${String(i).padStart(12, '0')}`);
  let seq = 0;
  return {
    async verify() {
      await store.save(snapshotOf(ids[0] ?? '', 7));
      const loaded = await store.load(ids[0] ?? '');
      expect((loaded?.shared as { seq?: number } | undefined)?.seq === 7, `${kind.name}: the saved snapshot did not load back`);
      expect(JSON.stringify(snapshotOf(ids[0] ?? '', 7)).length > 1_800, 'the snapshot is ~2 KB');
    },
    async run(count) {
      let left = count;
      await Promise.all(
        ids.map(async (jobId) => {
          while (left > 0) {
            left--;
            await store.save(snapshotOf(jobId, seq++));
          }
        }),
      );
    },
    close: dispose,
  };
}


/** The chain's step here: n -> n + 1 after one turn of the event loop (each activation is a turn of its own). */
function turnIncRoutine() {
  return sf.defineRoutine({
    name: 'inc',
    slots: ['in'],
    events: { out: ['n'] },
    async run(ctx) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const payload of ctx.slots.in) ctx.emit('out', { n: Number(payload.n) + 1 });
    },
  });
}

/** chain: one unit = one 5-routine chain job, awaited to its end and its last checkpoint. */
async function chainSession(kind: StoreKind | undefined, row: CheckpointRow): Promise<Session> {
  const flow = chainFlow(sf, 'chain5', 5, turnIncRoutine());

  const opened = kind === undefined ? undefined : await kind.open();
  const calls = { save: 0, delete: 0 };
  const store: Store | undefined = opened && {
    save: (snapshot) => {
      calls.save++;
      return opened.store.save(snapshot);
    },
    load: (jobId) => opened.store.load(jobId),
    listUnfinished: () => opened.store.listUnfinished(),
    delete: (jobId) => {
      calls.delete++;
      return opened.store.delete(jobId);
    },
    close: () => opened.store.close(),
  };
  const runtime = sf.createRuntime({ concurrency: 10, ...(store && { store }) });
  const once = async (): Promise<Awaited<ReturnType<ReturnType<typeof runtime.exec>['wait']>>> => {
    const job = runtime.exec(flow, { params: { n: 0 } });
    const state = await job.wait();
    await job.checkpoint();
    return state;
  };
  return {
    async verify() {
      const before = { ...calls };
      const state = await once();
      expect(state.status === 'completed', `chain job ended '${state.status}'`);
      const out = (state.outputs['r4.out'] ?? []) as readonly { n?: unknown }[];
      expect(out.length === 1 && out[0]?.n === 5, `chain output ${JSON.stringify(out)}, expected [{ n: 5 }]`);
      if (opened) {
        row.savesPerJob = calls.save - before.save;
        row.deletesPerJob = calls.delete - before.delete;
        expect(row.savesPerJob >= 1 && row.deletesPerJob === 1, `${kind?.name ?? ''}: ${row.savesPerJob} saves and ${row.deletesPerJob} deletes for one job`);
        const left = await opened.store.listUnfinished();
        expect(left.length === 0, `${kind?.name ?? ''}: the store still lists ${left.length} unfinished job(s)`);
      }
    },
    async run(count) {
      for (let i = 0; i < count; i++) await once();
    },
    async close() {
      await runtime.shutdown();
      await opened?.dispose();
    },
  };
}

interface Entry {
  row: CheckpointRow;
  open(): Promise<Session>;
  session?: Session;
}

async function main(): Promise<CheckpointResult> {
  const calibration: Calibration = { warmupMs: params.warmupMs, minWarmUnits: 2, roundMs: params.roundMs, minCount: 5, maxCount: 200_000, timeoutMs: params.timeoutMs };
  const entries: Entry[] = [];
  for (const jobs of [1, 32]) {
    for (const kind of storeKinds) {
      const row: CheckpointRow = { part: 'stores', store: kind.name, jobs, status: 'ok', rounds: [] };
      entries.push({ row, open: () => storeSession(kind, jobs) });
    }
  }
  for (const kind of [undefined, ...storeKinds]) {
    const row: CheckpointRow = { part: 'chain', store: kind?.name ?? 'no store', jobs: 1, status: 'ok', rounds: [] };
    entries.push({ row, open: () => chainSession(kind, row) });
  }

  // every session is opened before any is warmed up: warmed up before the others existed, the first chain runtime
  // measured up to 2x slower than the later ones in every round, whichever store it had (cause not pinned down)
  for (const entry of entries) {
    try {
      entry.session = await entry.open();
    } catch (error) {
      entry.row.status = 'error';
      entry.row.reason = errorText(error);
    }
  }
  for (const entry of entries) {
    if (entry.session === undefined) continue;
    try {
      await entry.session.verify();
      entry.row.count = await warmUp(entry.session, calibration);
    } catch (error) {
      entry.row.status = 'error';
      entry.row.reason = errorText(error);
      progress(`! ${entry.row.part} ${entry.row.store} x${entry.row.jobs}: ${entry.row.reason}`);
    }
  }
  for (let round = 0; round < params.rounds; round++) {
    const active = entries.filter((e) => e.row.status === 'ok');
    for (let i = 0; i < active.length; i++) {
      const entry = active[(i + round) % active.length] as Entry;
      try {
        entry.row.rounds[round] = await measure(entry.session as Session, entry.row.count ?? 1, calibration);
      } catch (error) {
        entry.row.rounds[round] = null;
        progress(`! round ${round + 1} ${entry.row.part} ${entry.row.store} x${entry.row.jobs}: ${errorText(error)}`);
      }
    }
    progress(`round ${round + 1}/${params.rounds} done`);
  }
  for (const entry of entries) {
    await entry.session?.close().catch((error: unknown) => {
      progress(`! closing ${entry.row.part} ${entry.row.store}: ${errorText(error)}`);
    });
  }
  const fs = await statfs(params.baseDir).catch(() => undefined);
  return {
    dir: params.baseDir,
    fileSystem: fs === undefined ? '?' : (FS_TYPES[fs.type] ?? `0x${fs.type.toString(16)}`),
    threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    rows: entries.map((e) => e.row),
  };
}

try {
  const result = await main();
  const medianOf = (row: CheckpointRow): number => median(row.rounds.filter((s): s is Sample => s !== null).map((s) => s.wallPerUnit));
  for (const row of result.rows) if (row.status === 'ok') progress(`${row.part} ${row.store} x${row.jobs}: ${(1000 / medianOf(row)).toFixed(0)} / s`);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (error) {
  process.stderr.write(`checkpoint workload failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
