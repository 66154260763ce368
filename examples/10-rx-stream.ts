/**
 * RxJS streams drive jobs (slotflow/rx).
 *
 * - `runFlow` runs one job per order of a stream, at most 3 at once, and emits each job's final state as it ends;
 *   a failed job is emitted too (its state says `failed`), so one bad order does not stop the others.
 * - `throwIfFailed` turns the first failed job into an error instead: the stream stops and the jobs still running
 *   are cancelled (fail fast).
 * - `ofType` picks typed events off `runtime.events$`; `feed` streams readings into one keepAlive job.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { createFlow, createRuntime, defineRoutine, event, slot, type JobState, type RoutineError } from 'slotflow';
import { feed, isJobEndEvent, ofType, runFlow, throwIfFailed } from 'slotflow/rx';

interface Order {
  id: string;
  qty: number;
  unitPrice: number;
}

const check = defineRoutine({
  name: 'check',
  slots: { order: slot<Order>() },
  events: { ok: event<Order>(['id', 'qty', 'unitPrice']) },
  run({ slots, emit }) {
    for (const order of slots.order) {
      if (order.qty <= 0) throw new Error(`order ${order.id}: quantity must be positive, got ${order.qty}`);
      emit('ok', order);
    }
  },
});

const price = defineRoutine({
  name: 'price',
  slots: { order: slot<Order>() },
  events: { priced: event<{ id: string; total: number }>(['id', 'total']) },
  async run({ slots, emit, signal }) {
    for (const { id, qty, unitPrice } of slots.order) {
      await sleep(10 + qty * 5, undefined, { signal }); // a pricing service call
      emit('priced', { id, total: qty * unitPrice });
    }
  },
});

const orderFlow = createFlow('orders').add('check', check).add('price', price).connect('check.ok', 'price.order');

const orders: Order[] = [
  { id: 'A-1', qty: 2, unitPrice: 10 },
  { id: 'A-2', qty: 5, unitPrice: 3 },
  { id: 'A-3', qty: 1, unitPrice: 99 },
  { id: 'A-4', qty: 0, unitPrice: 7 },
  { id: 'A-5', qty: 3, unitPrice: 4 },
  { id: 'A-6', qty: 4, unitPrice: 25 },
  { id: 'A-7', qty: 1, unitPrice: 8 },
  { id: 'A-8', qty: 6, unitPrice: 2 },
];

await using runtime = createRuntime({ concurrency: 10 });

// Watch the stream of every job: how many order jobs run at once, and which routines fail.
let inFlight = 0;
let maxInFlight = 0;
runtime.events$.subscribe((e) => {
  if (e.flowId !== 'orders') return;
  if (e.type === 'job.started') maxInFlight = Math.max(maxInFlight, ++inFlight);
  else if (isJobEndEvent(e)) inFlight--;
});
const failures: string[] = [];
runtime.events$.pipe(ofType('routine.failed')).subscribe((e) => failures.push(`${e.routineId} (${e.decision}): ${e.error.message}`));

// 1. One job per order (the order is the job's params), at most 3 in flight, final states in completion order.
const states: JobState[] = await lastValueFrom(from(orders).pipe(runFlow(runtime, orderFlow, { concurrency: 3 }), toArray()));

const byStatus = (status: JobState['status']) => states.filter((s) => s.status === status).length;
console.log(`runFlow: ${states.length} jobs, at most ${maxInFlight} in flight`);
console.log(`completed: ${byStatus('completed')}, failed: ${byStatus('failed')}`);
const totals = states
  .flatMap((s) => s.outputs['price.priced'] ?? [])
  .map(({ id, total }) => `${String(id)}=${String(total)}`)
  .sort();
console.log(`totals: ${totals.join(' ')}`);
for (const failure of failures) console.log(`routine.failed: ${failure}`);

// 2. Fail fast: the first failed job errors the stream; the jobs still running are cancelled.
const before = runtime.listJobs().length;
try {
  await lastValueFrom(from(orders).pipe(runFlow(runtime, 'orders', { concurrency: 3 }), throwIfFailed()));
} catch (error) {
  const jobs = runtime.listJobs().slice(before);
  console.log(`throwIfFailed: ${(error as RoutineError).name} from routine '${(error as RoutineError).routineId}'`);
  console.log(`  jobs started: ${jobs.length} of ${orders.length}, cancelled: ${jobs.filter((j) => j.status === 'cancelled').length}`);
}

// 3. feed: a stream of readings into one keepAlive job; the stream's end completes the job.
const summer = defineRoutine({
  name: 'summer',
  slots: { reading: slot<{ value: number }>() },
  initialState: { total: 0, count: 0 },
  run({ slots, setState }) {
    setState((s) => {
      for (const { value } of slots.reading) {
        s.total += value;
        s.count += 1;
      }
    });
  },
});
const sumJob = runtime.exec(createFlow('sum').add('summer', summer), { keepAlive: true });
const readings$ = from([3, 5, 7, 9]).pipe(map((value) => ({ value })));
const final = await lastValueFrom(feed(sumJob, 'summer', 'reading', readings$));
console.log(`feed: job ${final.status}, state ${JSON.stringify(final.routines.summer?.state)}`);

// 4. The runtime's metrics for the order flow.
const metrics = runtime.metrics().flows.orders;
if (metrics) {
  const { jobs, routines } = metrics;
  console.log(`metrics: orders jobs started ${jobs.started}, completed ${jobs.completed}, failed ${jobs.failed}, cancelled ${jobs.cancelled}`);
  console.log(`metrics: price activations ${routines.price?.activations ?? 0}, p50 ${routines.price?.durationMs.p50 ?? 0} ms`);
}
