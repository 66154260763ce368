/**
 * Subflows: an ETL flow (extract -> transform -> load) built once and reused as one routine of a nightly flow.
 * Each activation of that routine runs one child job of the ETL flow; what the child's `load` emits comes back
 * as the routine's own event.
 *
 * Shows asRoutine(flow, { name, slots, events }), child job ids and listJobs({ parentId }), a child's failure
 * failing its parent (SubflowError, with the child's error as cause), cancel reaching the child, and toMermaid
 * drawing the subflow as a nested graph.
 */
import { asRoutine, createFlow, createRuntime, defineRoutine, event, slot, toMermaid } from 'slotflow';

// --- the ETL flow, usable on its own -----------------------------------------------------------------------
const extract = defineRoutine({
  name: 'extract',
  slots: { source: slot<{ table: string; rows: string[] }>() },
  events: { row: event<{ table: string; line: string }>() },
  run({ slots, emit }) {
    for (const { table, rows } of slots.source) for (const line of rows) emit('row', { table, line });
  },
});
const transform = defineRoutine({
  name: 'transform',
  slots: { row: slot<{ table: string; line: string }>() },
  events: { record: event<{ table: string; id: number; name: string }>() },
  run({ slots, emit }) {
    for (const { table, line } of slots.row) {
      const [id, name] = line.split(',');
      if (name === undefined) throw new Error(`malformed row '${line}' in ${table}`);
      emit('record', { table, id: Number(id), name: name.trim() });
    }
  },
});
const load = defineRoutine({
  name: 'load',
  slots: { record: slot<{ table: string; id: number; name: string }>() },
  events: { loaded: event<{ table: string; id: number }>() },
  async run({ slots, emit, signal }) {
    for (const { table, id } of slots.record) {
      await new Promise((resolve) => setTimeout(resolve, 5)); // the database round trip
      signal.throwIfAborted();
      emit('loaded', { table, id });
    }
  },
});
const etl = createFlow('etl').add('extract', extract).add('transform', transform).add('load', load).connect('extract.row', 'transform.row').connect('transform.record', 'load.record');

// --- a nightly flow that runs the ETL once per table -----------------------------------------------------------
const tables = defineRoutine({
  name: 'tables',
  slots: { night: slot<{ date: string; sources: { table: string; rows: string[] }[] }>() },
  events: { source: event<{ table: string; rows: string[] }>() },
  run({ slots, emit }) {
    for (const { sources } of slots.night) for (const source of sources) emit('source', source);
  },
});
const report = defineRoutine({
  name: 'report',
  slots: { loaded: slot<{ table: string; id: number }>() },
  run({ slots }) {
    for (const { table, id } of slots.loaded) console.log(`  ${table} #${id} loaded`);
  },
});
// The ETL flow as one routine: its `source` slot feeds the child's extract.source; the child's load.loaded comes
// back as `loaded` (typed from the child: { table: string; id: number }).
const etlStep = asRoutine(etl, { name: 'etl', slots: { source: 'extract.source' }, events: { loaded: 'load.loaded' } });
const nightly = createFlow('nightly').add('tables', tables).add('etl', etlStep).add('report', report).connect('tables.source', 'etl.source').connect('etl.loaded', 'report.loaded');

const runtime = createRuntime({ maxJobs: 1 }); // children take no maxJobs place: no deadlock

console.log('night 1:');
const night1 = runtime.exec(nightly, {
  jobId: 'night-1',
  params: { date: '2026-12-01', sources: [{ table: 'users', rows: ['1, ada', '2, grace'] }] },
});
console.log(`night-1 ${(await night1.wait()).status}`);
console.log(`children: ${runtime.listJobs({ parentId: 'night-1' }).map((child) => `${child.id} (${child.flowId}, ${child.status})`).join(', ')}`);

console.log('night 2:');
const night2 = runtime.exec(nightly, {
  jobId: 'night-2',
  params: { date: '2026-12-02', sources: [{ table: 'orders', rows: ['7 no comma'] }] },
});
const failed = await night2.wait();
const cause = night2.error?.cause as Error;
console.log(`night-2 ${failed.status}: ${cause.name}: ${cause.message}`);

console.log('night 3:');
const night3 = runtime.exec(nightly, { jobId: 'night-3', params: { date: '2026-12-03', sources: [{ table: 'users', rows: ['3, linus'] }] } });
await new Promise((resolve) => setTimeout(resolve, 1));
night3.cancel('maintenance window');
console.log(`night-3 ${(await night3.wait()).status}, its child ${runtime.getJob('night-3/etl/1')?.status}`);

console.log(toMermaid(nightly).split('\n').filter((line) => line.includes('subgraph') || line.includes('-.->')).join('\n'));
await runtime.shutdown();
