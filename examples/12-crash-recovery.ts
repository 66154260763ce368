/**
 * Crash recovery: a long job checkpoints to a file store; its process is killed with SIGKILL midway; a second
 * process recovers the job from the store and finishes it.
 *
 * Run it with `npx tsx examples/12-crash-recovery.ts`. The script plays both processes: it forks itself as the
 * worker, kills the worker once step 5 is on disk, then recovers in its own process. Steps that were checkpointed
 * before the kill do not run again; the step in flight at the kill runs again (delivery is at-least-once).
 */
import { fork } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createFileStore, createFlow, createRuntime, defineRoutine, event, slot } from 'slotflow';

interface Step {
  readonly n: number;
  readonly total: number;
}

const STEPS = 10;

/** A long job: ten steps of "work" (each appends a line to a side-effect log, then takes 20 ms). */
function longFlow(log: string, workMs: number) {
  const step = defineRoutine({
    name: 'step',
    slots: { in: slot<Step>() },
    events: { next: event<Step>(['n', 'total']) },
    async run({ slots, emit }) {
      for (const { n, total } of slots.in) {
        appendFileSync(log, `step ${String(n)}\n`);
        await sleep(workMs);
        emit('next', { n: n + 1, total: total + n });
      }
    },
  });
  return createFlow('long_job')
    .add('step', step)
    .connect('step.next', 'step.in', { maxIterations: STEPS, until: (p) => p.n > STEPS });
}

const [role, dir = ''] = process.argv.slice(2);

if (role === 'worker') {
  // The first process: runs the job, checkpointing every step to the file store.
  const runtime = createRuntime({ store: createFileStore(join(dir, 'store')) });
  const job = runtime.exec(longFlow(join(dir, 'side-effects.log'), 20), { jobId: 'long-job-1', params: { n: 1, total: 0 } });
  job.events$.subscribe((e) => {
    if (e.type !== 'routine.completed') return;
    const done = job.state.history.length;
    void job.checkpoint().then(() => process.send?.({ done }));
  });
} else {
  const work = mkdtempSync(join(tmpdir(), 'slotflow-example-'));
  try {
    const worker = fork(fileURLToPath(import.meta.url), ['worker', work], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    console.log('worker: running long-job-1 with a file store');
    await new Promise<void>((resolve) => {
      worker.on('message', (m: { done: number }) => {
        if (m.done >= 5) worker.kill('SIGKILL');
      });
      worker.on('exit', (_code, signal) => {
        console.log(`worker: killed (${String(signal)}) after step 5 was checkpointed`);
        resolve();
      });
    });

    // The second process (here, this one): same flow, same store.
    const store = createFileStore(join(work, 'store'));
    const runtime = createRuntime({ store });
    runtime.register(longFlow(join(work, 'side-effects.log'), 0));
    console.log(`store: unfinished jobs ${JSON.stringify(await store.listUnfinished())}`);
    const [job] = await runtime.recover();
    if (!job) throw new Error('nothing to recover');
    console.log(`recovered ${job.id}: status ${job.status}`);
    const state = await job.wait();
    console.log(`${job.id} ${state.status}: total = ${JSON.stringify(state.outputs['step.next'])}`);

    const runs = readFileSync(join(work, 'side-effects.log'), 'utf8').trim().split('\n');
    const counts = Array.from({ length: STEPS }, (_, i) => runs.filter((line) => line === `step ${String(i + 1)}`).length);
    console.log(`steps 1-5 ran once each: ${String(counts.slice(0, 5).every((c) => c === 1))}`);
    console.log(`every step ran at least once, none more than twice: ${String(counts.every((c) => c >= 1 && c <= 2))}`);
    await runtime.shutdown({ wait: true });
    console.log(`store after completion: ${JSON.stringify(await store.listUnfinished())}`);
    await store.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
