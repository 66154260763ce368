/**
 * A worker process of the distributed workload: `distributed-worker.ts <slotflow|raw|local> <redisUrl> <queue> <stepMs>`.
 * `slotflow`: createWorker running a 3-routine flow, checkpointed after each turn in which an activation changed it.
 * `raw`: a plain BullMQ Worker doing the same 3 steps in one processor. `local`: a plain BullMQ Worker whose processor runs the same flow
 * in a local slotflow runtime without a store, its `events$` subscribed but the events going nowhere: what
 * slotflow/distributed adds over it is the checkpointing (fenced writes, serialised snapshots and events). Every activation records which process ran it
 * (`HSET bench:holder <jobId> <pid>`) when stepMs > 0 (the recovery part). Says 'ready' over IPC; SIGTERM closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

// The built package under SLOTFLOW_BENCH_BUILD=dist (what users run; see builtWorkerEnv in distributed.ts), else the source.
const fromDist = process.env.SLOTFLOW_BENCH_BUILD === 'dist';
const { createFlow, createRuntime, defineRoutine, event, slot } = fromDist ? ((await import(new URL('../dist/index.js', import.meta.url).href)) as typeof import('slotflow')) : await import('slotflow');
const { createWorker } = fromDist ? ((await import(new URL('../dist/distributed.js', import.meta.url).href)) as typeof import('slotflow/distributed')) : await import('slotflow/distributed');

export interface Order {
  readonly id: number;
  readonly items: readonly { readonly sku: string; readonly qty: number; readonly price: number }[];
}

/** The three steps, shared by both contenders. */
export const steps = {
  parse: (order: Order) => ({ id: order.id, lines: order.items.map((i) => ({ sku: i.sku.toUpperCase(), amount: i.qty * i.price })) }),
  price: (parsed: { id: number; lines: { sku: string; amount: number }[] }) => ({ id: parsed.id, total: parsed.lines.reduce((s, l) => s + l.amount, 0), count: parsed.lines.length }),
  summarise: (priced: { id: number; total: number; count: number }) => ({ id: priced.id, summary: `${String(priced.count)} lines, ${priced.total.toFixed(2)}` }),
};

const [mode = 'slotflow', url = '', queue = 'bench', stepMsText = '0'] = process.argv.slice(2);
const stepMs = Number(stepMsText);
const side = new Redis(url, { maxRetriesPerRequest: null });
const mark = async (jobId: string) => {
  if (stepMs > 0) {
    await side.hset('bench:holder', jobId, String(process.pid));
    await sleep(stepMs);
  }
};

/** The 3-routine flow both slotflow contenders run. */
function orderFlow() {
  const parse = defineRoutine({
    name: 'parse',
    slots: { order: slot<Order>() },
    events: { parsed: event<ReturnType<typeof steps.parse>>() },
    async run({ slots, emit, job }) {
      for (const order of slots.order) {
        await mark(job.id);
        emit('parsed', steps.parse(order));
      }
    },
  });
  const price = defineRoutine({
    name: 'price',
    slots: { parsed: slot<ReturnType<typeof steps.parse>>() },
    events: { priced: event<ReturnType<typeof steps.price>>() },
    async run({ slots, emit, job }) {
      for (const parsed of slots.parsed) {
        await mark(job.id);
        emit('priced', steps.price(parsed));
      }
    },
  });
  const summarise = defineRoutine({
    name: 'summarise',
    slots: { priced: slot<ReturnType<typeof steps.price>>() },
    events: { summary: event<ReturnType<typeof steps.summarise>>() },
    async run({ slots, emit, job }) {
      for (const priced of slots.priced) {
        await mark(job.id);
        emit('summary', steps.summarise(priced));
      }
    },
  });
  return createFlow('order').add('parse', parse).add('price', price).add('summarise', summarise).connect('parse.parsed', 'price.parsed').connect('price.priced', 'summarise.priced');
}

if (mode === 'raw') {
  const worker = new Worker(
    queue,
    async (job) => {
      await mark(job.id as string);
      const a = steps.parse(job.data as Order);
      const b = steps.price(a);
      return steps.summarise(b);
    },
    { connection: new Redis(url, { maxRetriesPerRequest: null }), concurrency: 10 },
  );
  await worker.waitUntilReady();
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
} else if (mode === 'local') {
  const runtime = createRuntime({ metrics: false });
  runtime.register(orderFlow());
  const worker = new Worker(
    queue,
    async (bullJob) => {
      const job = runtime.exec('order', { params: bullJob.data as Order as never });
      // Subscribed, as the distributed worker's relay is: the job builds its events (a job nobody watches does not).
      job.events$.subscribe(() => undefined);
      return (await job.wait()).status;
    },
    {
      connection: new Redis(url, { maxRetriesPerRequest: null }),
      concurrency: 10,
    },
  );
  await worker.waitUntilReady();
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
} else {
  // Recovery is measured with the defaults users get (lockDurationMs 5 s, stalledIntervalMs 2 s).
  const worker = createWorker({ connection: url, queue, flows: [orderFlow()], concurrency: 10, runtime: { metrics: false }, onError: () => undefined });
  await worker.ready();
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}
process.send?.('ready');
