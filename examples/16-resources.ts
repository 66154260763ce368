/**
 * Runtime services: a shared connection pool (a resource), a routine that reports progress while it works, and a
 * cleanup that runs once per job whatever its outcome. Then a per-job override.
 *
 * Shows createRuntime({ resources }), ctx.resource(name), ctx.progress(), cleanup(ctx), routine.progress and
 * job.warning events, runtime.metrics().resources, exec({ overrides }) and shutdown() disposing the pool.
 */
import { createFlow, createRuntime, defineRoutine, event, slot } from 'slotflow';

/** Stands in for a database pool: created once, shared by every job, closed at shutdown. */
class Pool {
  static created = 0;
  open = true;
  constructor() {
    Pool.created++;
  }
  async query(sql: string): Promise<number> {
    await Promise.resolve();
    if (!this.open) throw new Error('pool is closed');
    return sql.length;
  }
  end(): void {
    this.open = false;
    console.log('pool closed');
  }
}

declare module 'slotflow' {
  interface ResourceTypes {
    db: Pool;
  }
}

const importer = defineRoutine({
  name: 'importer',
  slots: { batch: slot<{ rows: string[] }>() },
  events: { imported: event<{ count: number }>() },
  config: { table: 'events' },
  initialState: { tempFiles: 0 },
  async run({ slots, config, resource, progress, emit, setState }) {
    const db = await resource('db');
    const rows = slots.batch.flatMap((b) => b.rows);
    setState((s) => {
      s.tempFiles += 1; // say the import spills to a temp file
    });
    for (const [i, row] of rows.entries()) {
      await db.query(`insert into ${config.table} values ('${row}')`);
      progress({ done: i + 1, total: rows.length });
    }
    if (rows.includes('bad')) throw new Error(`row 'bad' rejected by ${config.table}`);
    emit('imported', { count: rows.length });
  },
  cleanup({ job, status, state }) {
    console.log(`cleanup of ${job.id}: ${status}, removing ${state.tempFiles} temp file(s)`);
  },
});

const flow = createFlow('import').add('importer', importer);

const runtime = createRuntime({
  resources: { db: { create: () => new Pool(), dispose: (pool: Pool) => { pool.end(); } } },
});
runtime.events$.subscribe((e) => {
  if (e.type === 'routine.progress') console.log(`  ${e.jobId} progress ${e.done}/${e.total}`);
});

const first = await runtime.exec(flow, { jobId: 'job-1', params: { rows: ['a', 'b', 'c'] } }).wait();
console.log(`job-1 ${first.status}: imported ${first.outputs['importer.imported']?.[0]?.count}`);
const bad = runtime.exec(flow, { jobId: 'job-2', params: { rows: ['x', 'bad'] } });
const second = await bad.wait();
console.log(`job-2 ${second.status}: ${(bad.error?.cause as Error).message}`);

// Per job: this one writes to another table.
const archived = await runtime.exec(flow, { jobId: 'job-3', params: { rows: ['z'] }, overrides: { importer: { config: { table: 'archive' } } } }).wait();
console.log(`job-3 ${archived.status}: imported ${archived.outputs['importer.imported']?.[0]?.count}`);

console.log(`pools created: ${Pool.created}, db accesses: ${runtime.metrics().resources.db?.accesses}`);
await runtime.shutdown();
