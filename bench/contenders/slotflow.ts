/* eslint-disable @typescript-eslint/require-await -- every contender's step is a trivial async function on purpose (the shape being measured), and sessions open asynchronously */
/**
 * The subject: slotflow, used exactly as SPEC.md sections 1-4 say a user would. One runtime per workload,
 * reused across every run of that workload, shut down at the end.
 */
import type { Contender, ScaleHandle, Session } from '../lib/types.js';
import { chainFlow as chainFlow_, incRoutine } from '../lib/chainFlow.js';
import { deferred, errorText, expect, runPool, sleep } from '../lib/util.js';

type Slotflow = typeof import('slotflow');

/**
 * A variant of the subject, to measure what a default costs in the same rounds (`--contenders
 * plain,slotflow,slotflow-nometrics,slotflow-observed`): metrics off, or a subscriber on `runtime.events$`.
 */
export interface SlotflowVariant {
  readonly name: string;
  /** `createRuntime({ metrics })`. @default true (the library's default) */
  readonly metrics?: boolean;
  /** Subscribe to `runtime.events$` (every job then builds and delivers its events). @default false */
  readonly observed?: boolean;
  /**
   * chain only: slotflow/server serving the runtime with 1,000 other jobs running (each waiting on a window policy's
   * timer). `'page'`: what an open monitor page does (one job's event stream, the job list read every second);
   * `'all'`: a client reading `/api/events` with no filter (every event of every job); `'none'`: the 1,000 jobs
   * without the server (the baseline of the other two: a larger heap alone changes the cost per hop). @default none
   */
  readonly monitor?: 'none' | 'page' | 'all';
}

/** The event stream's reader (a child process): counts the bytes, reads the job list every second, prints the count at the end. */
const READER = `
const [events, jobs] = process.argv.slice(1);
let bytes = 0;
if (jobs) setInterval(() => fetch(jobs).then((r) => r.json()).catch(() => undefined), 1000).unref();
fetch(events).then(async (res) => {
  process.stdout.write('open\\n');
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ done: true }));
    if (done) break;
    bytes += value.length;
  }
  process.stdout.write(String(bytes));
  process.exit(0);
});
`;

/** The monitor variant's setup: the server, the 1,000 running jobs and the event stream reader. Returns its close. */
async function openMonitor(sf: Slotflow, runtime: ReturnType<Slotflow['createRuntime']>, fromDist: boolean, mode: 'none' | 'page' | 'all'): Promise<() => Promise<void>> {
  const server = (fromDist ? await import(new URL('../../dist/server.js', import.meta.url).href) : await import('slotflow/server')) as typeof import('slotflow/server');
  const waiting = sf.defineRoutine({ name: 'waiting', slots: ['in'], policy: sf.policies.window(3_600_000), run() {
    // Never reached in the measurement: the window stays open for an hour.
  } });
  const flow = sf.createFlow('waiting').add('w', waiting).entry('w', 'in');
  const waitingJobs: ReturnType<typeof runtime.exec>[] = [];
  for (let i = 0; i < 1000; i++) waitingJobs.push(runtime.exec(flow, { params: { n: i } }));
  const running = runtime.listJobs({ status: 'running', flowId: 'waiting' }).length;
  expect(running === 1000, `monitor: ${running} of 1,000 waiting jobs running`);
  if (mode === 'none')
    return async () => {
      for (const job of waitingJobs) job.cancel();
    };
  const monitor = await server.createServer(runtime, { port: 0 });
  // The client reads in a process of its own, as a browser would: only the server's side is measured here.
  const { spawn } = await import('node:child_process');
  const query = mode === 'page' ? `?jobId=${waitingJobs[0]?.id ?? ''}` : '';
  const reader = spawn(process.execPath, ['-e', READER, `${monitor.url}/api/events${query}`, mode === 'page' ? `${monitor.url}/api/jobs` : ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  let bytes = '';
  await new Promise<void>((resolve, reject) => {
    reader.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      bytes += chunk;
      if (bytes.startsWith('open\n')) resolve();
    });
    reader.once('close', () => {
      reject(new Error('monitor: the event stream reader ended before it connected'));
    });
  });
  return async () => {
    await monitor.close();
    await new Promise((resolve) => reader.once('close', resolve));
    const read = Number(bytes.slice('open\n'.length));
    expect(read > 0, `monitor: the event stream carried nothing (${bytes})`);
    for (const job of waitingJobs) job.cancel();
  };
}

/**
 * Loads the library: by default the source (tsconfig `paths` maps 'slotflow' to src/index.ts; tsx honours it), or
 * the built package (dist/index.js, after `npm run build`) when SLOTFLOW_BENCH_BUILD=dist (`run.ts --dist`).
 * Throws when absent.
 */
export async function loadSlotflow(variant?: SlotflowVariant): Promise<Contender> {
  const fromDist = process.env.SLOTFLOW_BENCH_BUILD === 'dist';
  const distEntry = new URL('../../dist/index.js', import.meta.url).href;
  const sf = fromDist ? ((await import(distEntry)) as Slotflow) : await import('slotflow');
  const { defineRoutine, createFlow, policies } = sf;
  const createRuntime: Slotflow['createRuntime'] = (options) => {
    const runtime = sf.createRuntime({ ...options, ...(variant?.metrics !== undefined && { metrics: variant.metrics }) });
    if (variant?.observed === true) runtime.events$.subscribe(() => undefined);
    return runtime;
  };

  /** The trivial step every contender runs: n -> n + 1, as an async function. */
  const inc = incRoutine(sf);
  const chainFlow = (id: string, length: number) => chainFlow_(sf, id, length, inc);

  type Runtime = ReturnType<typeof createRuntime>;
  type Job = ReturnType<Runtime['exec']>;
  type JobState = Awaited<ReturnType<Job['wait']>>;

  const outputN = (state: JobState, key: string): number[] => {
    const outputs = state.outputs as Readonly<Record<string, readonly { readonly n?: unknown }[] | undefined>>;
    return (outputs[key] ?? []).map((p) => Number(p.n));
  };

  const expectCompleted = (state: JobState, what: string): void => {
    const error = (state as { error?: unknown }).error;
    expect(state.status === 'completed', `${what}: status '${state.status}'${error === undefined ? '' : ` (${errorText(error)})`}`);
  };

  function session(runtime: Runtime, verify: () => Promise<void>, run: (count: number) => Promise<void>, notes: string[] = []): Session {
    return { verify, run, notes, close: () => runtime.shutdown() };
  }

  let version = '0.0.0';
  try {
    const { readFile } = await import('node:fs/promises');
    version = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    // the version is only printed
  }

  const contender: Contender = {
    name: variant?.name ?? 'slotflow',
    role: variant ? 'variant' : 'subject',
    version: `slotflow ${version} (${fromDist ? 'dist' : 'src'})${variant ? `, ${variant.name}` : ''}`,

    async chain() {
      const runtime = createRuntime({ concurrency: 10 });
      const flow = chainFlow('chain5', 5);
      const once = () => runtime.exec(flow, { params: { n: 0 } }).wait();
      const verifyChain = async () => {
        const state = await once();
        expectCompleted(state, 'chain job');
        const out = outputN(state, 'r4.out');
        expect(out.length === 1 && out[0] === 5, `chain outputs['r4.out'] = ${JSON.stringify(state.outputs['r4.out'])}, expected [{ n: 5 }]`);
      };
      const closeMonitor = variant?.monitor === undefined ? undefined : await openMonitor(sf, runtime, fromDist, variant.monitor);
      if (closeMonitor)
        return {
          ...session(runtime, verifyChain, async (count) => {
            for (let i = 0; i < count; i++) await once();
          }),
          close: async () => {
            await closeMonitor();
            await runtime.shutdown();
          },
        };
      return session(
        runtime,
        verifyChain,
        async (count) => {
          for (let i = 0; i < count; i++) await once();
        },
      );
    },

    async jobsize(length) {
      const runtime = createRuntime({ concurrency: 10 });
      const flow = chainFlow(`chain${length}`, length);
      const once = () => runtime.exec(flow, { params: { n: 0 } }).wait();
      return session(
        runtime,
        async () => {
          const state = await once();
          expectCompleted(state, `chain job of ${length}`);
          const out = outputN(state, `r${length - 1}.out`);
          expect(out.length === 1 && out[0] === length, `chain of ${length}: outputs['r${length - 1}.out'] = ${JSON.stringify(state.outputs[`r${length - 1}.out`])}, expected [{ n: ${length} }]`);
        },
        async (count) => {
          for (let i = 0; i < count; i++) await once();
        },
      );
    },

    async cycle(target) {
      const runtime = createRuntime({ concurrency: 10 });
      const flow = createFlow('cycle')
        .add('loop', inc)
        .connect('loop.out', 'loop.in', { maxIterations: 10_000, until: (payload) => Number(payload.n) >= target })
        .entry('loop', 'in');
      const once = () => runtime.exec(flow, { params: { n: 0 } }).wait();
      const notes: string[] = [];
      return session(
        runtime,
        async () => {
          const state = await once();
          expectCompleted(state, 'cycle job');
          const activations = state.routines.loop?.activations;
          expect(activations === target, `cycle: routines.loop.activations = ${String(activations)}, expected ${target}`);
          const cycle = state.cycles['loop.out->loop.in'];
          expect(cycle?.converged === true, `cycle: cycles['loop.out->loop.in'] = ${JSON.stringify(cycle)}, expected converged: true`);
          // SPEC 2.1: `iterations` counts deliveries over the edge: params start it, so target - 1 loop-backs
          if (cycle.iterations !== target - 1) notes.push(`cycle: cycles[...].iterations = ${cycle.iterations} (expected ${target - 1} deliveries over the edge)`);
        },
        async (count) => {
          for (let i = 0; i < count; i++) await once();
        },
        notes,
      );
    },

    async fanout({ jobs, inFlight, branchMs }) {
      // maxJobs bounds the jobs in flight (the runtime queues the rest); concurrency leaves room for every branch
      const runtime = createRuntime({ concurrency: inFlight * 4 + 16, maxJobs: inFlight });
      const branch = defineRoutine({
        name: 'branch',
        slots: ['in'],
        events: { done: ['n'] },
        async run(ctx) {
          await sleep(branchMs, ctx.signal);
          ctx.emit('done', { n: Number(ctx.slots.in[0]?.n) + 1 });
        },
      });
      const join = defineRoutine({
        name: 'join',
        slots: ['b0', 'b1', 'b2', 'b3'],
        events: { out: ['n'] },
        policy: policies.allReady(),
        async run(ctx) {
          const { b0, b1, b2, b3 } = ctx.slots;
          ctx.emit('out', { n: [b0, b1, b2, b3].reduce((total, items) => total + Number(items[0]?.n), 0) });
        },
      });
      const flow = createFlow('fanout')
        .add('fork', inc)
        .add('b0', branch)
        .add('b1', branch)
        .add('b2', branch)
        .add('b3', branch)
        .add('join', join)
        .connect('fork.out', 'b0.in')
        .connect('fork.out', 'b1.in')
        .connect('fork.out', 'b2.in')
        .connect('fork.out', 'b3.in')
        .connect('b0.done', 'join.b0')
        .connect('b1.done', 'join.b1')
        .connect('b2.done', 'join.b2')
        .connect('b3.done', 'join.b3')
        .entry('fork', 'in');
      const batch = async (): Promise<JobState[]> => {
        const handles: Job[] = [];
        for (let i = 0; i < jobs; i++) handles.push(runtime.exec(flow, { params: { n: 0 } }));
        return Promise.all(handles.map((job) => job.wait()));
      };
      return session(
        runtime,
        async () => {
          const states = await batch();
          for (const state of states) {
            expectCompleted(state, 'fan-out job');
            const out = outputN(state, 'join.out');
            expect(out.length === 1 && out[0] === 8, `fan-out outputs['join.out'] = ${JSON.stringify(state.outputs['join.out'])}, expected [{ n: 8 }]`);
          }
        },
        async (count) => {
          for (let i = 0; i < count; i++) await batch();
        },
      );
    },

    async throughput({ inFlight }) {
      const runtime = createRuntime({ concurrency: inFlight });
      const flow = chainFlow('chain3', 3);
      const once = () => runtime.exec(flow, { params: { n: 0 } }).wait();
      return session(
        runtime,
        async () => {
          const state = await once();
          expectCompleted(state, 'chain3 job');
          const out = outputN(state, 'r2.out');
          expect(out.length === 1 && out[0] === 3, `chain3 outputs['r2.out'] = ${JSON.stringify(state.outputs['r2.out'])}, expected [{ n: 3 }]`);
        },
        (count) => runPool(count, inFlight, once),
      );
    },

    async scale(n): Promise<ScaleHandle> {
      const runtime = createRuntime({ concurrency: 10 });
      let processed = 0;
      let allProcessed = deferred();
      const sink = defineRoutine({
        name: 'sink',
        slots: ['in'],
        events: { out: ['n'] },
        async run({ slots }) {
          processed += slots.in.length;
          if (processed === n) allProcessed.resolve();
        },
      });
      const flow = createFlow('scale').add('sink', sink).entry('sink', 'in');
      const jobs: Job[] = [];
      for (let i = 0; i < n; i++) jobs.push(runtime.exec(flow, { keepAlive: true }));
      // every job must have settled into 'idle' before memory is measured
      const deadline = Date.now() + 120_000;
      for (;;) {
        const notIdle = jobs.filter((job) => job.status !== 'idle');
        if (notIdle.length === 0) break;
        if (Date.now() > deadline) throw new Error(`scale: ${notIdle.length} of ${n} keepAlive jobs never became 'idle' (e.g. status '${notIdle[0]?.status}')`);
        await sleep(5);
      }
      return {
        async postAll() {
          processed = 0;
          allProcessed = deferred();
          for (const job of jobs) job.post('sink', 'in', { n: 1 });
          await allProcessed.promise;
        },
        async completeAll() {
          for (const job of jobs) job.complete();
          const states = await Promise.all(jobs.map((job) => job.wait()));
          for (const state of states) {
            expectCompleted(state, 'keepAlive job after complete()');
            expect(state.routines.sink?.activations === 1, `keepAlive job: routines.sink.activations = ${String(state.routines.sink?.activations)}, expected 1`);
          }
        },
        async close() {
          jobs.length = 0;
          await runtime.shutdown();
        },
      };
    },
  };
  if (variant?.monitor === undefined) return contender;
  const monitorOnly = 'the monitor variant measures the chain workload only';
  return { name: contender.name, role: contender.role, version: contender.version, chain: () => (contender.chain as NonNullable<Contender['chain']>)(), skip: { cycle: monitorOnly, fanout: monitorOnly, throughput: monitorOnly, jobsize: monitorOnly, scale: monitorOnly, soak: monitorOnly } };
}

/** The flow builder seen without its compile-time id tracking (for flows built in a loop). */
