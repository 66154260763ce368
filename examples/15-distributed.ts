/**
 * Distributed: jobs run on worker processes through a Redis queue (BullMQ), and any process queues, watches and
 * drives them.
 *
 * Run it with `npx tsx examples/15-distributed.ts` (it needs `redis-server` installed: it starts a throw-away one
 * on a free port), or point it at your own Redis with `REDIS_URL=redis://127.0.0.1:6379`. The script plays every
 * part: it forks itself twice as a worker, then queues jobs as a producer.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom, map, toArray } from 'rxjs';
import { createFlow, defineRoutine, event, slot } from 'slotflow';
import { createDistributedRuntime, createWorker } from 'slotflow/distributed';

/** An order flow of three routines; the same module is loaded by every worker and by the producer. */
function orderFlow() {
  const fetchOrder = defineRoutine({
    name: 'fetch_order',
    slots: { input: slot<{ orderId: number }>() },
    events: { order: event<{ orderId: number; items: number }>(['orderId', 'items']) },
    async run({ slots, emit }) {
      for (const { orderId } of slots.input) {
        await sleep(50);
        emit('order', { orderId, items: orderId >= 7 ? 4 : (orderId % 3) + 1 });
      }
    },
  });
  const price = defineRoutine({
    name: 'price',
    slots: { order: slot<{ orderId: number; items: number }>() },
    events: { priced: event<{ orderId: number; total: number }>(['orderId', 'total']) },
    run({ slots, emit }) {
      for (const { orderId, items } of slots.order) emit('priced', { orderId, total: items * 12.5 });
    },
  });
  const approve = defineRoutine({
    name: 'approve',
    slots: { priced: slot<{ orderId: number; total: number }>(), decision: slot<{ ok: boolean }>() },
    events: { done: event<{ orderId: number; total: number; approved: boolean }>(['orderId', 'total', 'approved']) },
    // Big orders wait for a decision posted from outside; small ones pass at once.
    run({ slots, emit, state, setState }) {
      const pending = [...state, ...slots.priced];
      const decision = slots.decision.at(-1);
      const waiting: typeof pending = [];
      for (const order of pending) {
        if (order.total < 40) emit('done', { ...order, approved: true });
        else if (decision) emit('done', { ...order, approved: decision.ok });
        else waiting.push(order);
      }
      setState(() => waiting);
    },
    initialState: [] as { orderId: number; total: number }[],
  });
  return createFlow('order_flow').add('fetch', fetchOrder).add('price', price).add('approve', approve).connect('fetch.order', 'price.order').connect('price.priced', 'approve.priced');
}

const [role, url = ''] = process.argv.slice(2);

if (role === 'worker') {
  const worker = createWorker({ connection: url, queue: 'orders', flows: [orderFlow()], concurrency: 4 });
  await worker.ready();
  process.send?.('ready');
  // A deploy: SIGTERM checkpoints running jobs and hands them to the other workers.
  process.on('SIGTERM', () => {
    void worker.close().then(() => { process.disconnect(); });
  });
} else {
  let redis: { url: string; stop: () => Promise<void> } | undefined;
  const workers: ChildProcess[] = [];
  try {
    redis = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop: () => Promise.resolve() } : await startRedis();
    for (let i = 0; i < 2; i++) workers.push(fork(fileURLToPath(import.meta.url), ['worker', redis.url], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
    console.log('2 workers consuming queue orders');

    const runtime = createDistributedRuntime({ connection: redis.url, queue: 'orders', flows: [orderFlow()] });
    const jobs = await Promise.all([1, 2, 3, 4, 5].map((orderId) => runtime.exec('order_flow', { params: { orderId } })));
    for (const job of jobs) {
      const state = await job.wait({ timeoutMs: 20_000 });
      console.log(`order ${String((state.params as { orderId: number }).orderId)}: ${state.status} ${JSON.stringify(state.outputs['approve.done'])}`);
    }

    // A keepAlive job waits for a decision; any process can post it.
    const big = await runtime.exec('order_flow', { params: { orderId: 7 }, keepAlive: true });
    // Its events, from its start: the stream completes after the job's final event.
    const started = firstValueFrom(big.events$.pipe(filter((e) => e.type === 'routine.started'), map((e) => e.routineId), toArray()));
    while ((await big.getState())?.routines.approve?.activations !== 1) await sleep(20);
    console.log(`order 7 waits for approval: ${JSON.stringify((await big.getState())?.routines.approve?.state)}`);
    await big.post('approve', 'decision', { ok: true });
    await big.complete();
    const final = await big.wait({ timeoutMs: 20_000 });
    console.log(`order 7: ${final.status} ${JSON.stringify(final.outputs['approve.done'])}`);
    console.log(`order 7 activations: ${(await started).join(' -> ')}`);
    console.log(`jobs in Redis: ${JSON.stringify((await runtime.listJobs()).map((j) => j.status))}`);
    await runtime.close();
  } finally {
    // SIGTERM: each worker closes (nothing is running now) and exits.
    await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve) => {
            if (w.exitCode !== null) { resolve(null); return; }
            w.once('exit', resolve);
            w.kill('SIGTERM');
          }),
      ),
    );
    await redis?.stop();
  }
}

/** A throw-away redis-server on a free loopback port, without persistence. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => { resolve(typeof address === 'object' && address ? address.port : 0); });
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'slotflow-redis-'));
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${String(port)}`;
  // Ready once it answers (the workers' ready() would also wait, up to their connectTimeoutMs).
  const probe = createDistributedRuntime({ connection: url, connectTimeoutMs: 5_000 });
  await probe.ready().finally(() => probe.close());
  return {
    url,
    stop: async () => {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
