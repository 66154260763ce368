import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, type CleanupContext, type Job, type JobEvent } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

function record(job: Job): { readonly events: JobEvent[]; readonly done: Promise<void> } {
  const events: JobEvent[] = [];
  const done = new Promise<void>((resolve) => {
    job.events$.subscribe({ next: (e) => events.push(e), complete: resolve });
  });
  return { events, done };
}

type Seen = Omit<CleanupContext<{ count: number }>, 'resource'>;

/** `counter` counts its activations in its state and passes each payload on; `idle` is never reached. */
function counting(calls: Seen[], cleanup?: (ctx: CleanupContext<{ count: number }>) => void | Promise<void>) {
  const counter = defineRoutine({
    name: 'counter',
    slots: ['in'],
    events: { out: ['n'] },
    initialState: { count: 0 },
    run({ slots, emit, setState }) {
      setState((s) => {
        s.count += 1;
      });
      for (const { n } of slots.in) if (Number(n) > 0) emit('out', { n: Number(n) - 1 });
    },
    cleanup(ctx) {
      const { resource, ...rest } = ctx;
      expect(typeof resource).toBe('function');
      calls.push(rest);
      return cleanup?.(ctx);
    },
  });
  return createFlow('counting').add('counter', counter).add('idle', counter).connect('counter.out', 'counter.in', { maxIterations: 10 }).connect('idle.out', 'idle.in', { maxIterations: 1 });
}

describe('cleanup(ctx) on defineRoutine', () => {
  it('runs once per job for each routine that ran, after its last activation, with the final status and state', async () => {
    const calls: Seen[] = [];
    const rt = runtime();
    const flow = counting(calls);
    const [a, b] = [rt.exec(flow, { params: { n: 2 } }), rt.exec(flow, { params: { n: 0 } })];
    await Promise.all([a.wait(), b.wait()]);
    expect(calls).toHaveLength(2);
    expect(calls).toContainEqual({ job: { id: a.id, flowId: 'counting' }, routineId: 'counter', status: 'completed', state: { count: 3 } });
    expect(calls).toContainEqual({ job: { id: b.id, flowId: 'counting' }, routineId: 'counter', status: 'completed', state: { count: 1 } });
  });

  it('runs whatever the final status: failed and cancelled jobs too', async () => {
    const calls: string[] = [];
    const rt = runtime();
    const gate = deferred();
    const step = defineRoutine({
      name: 'step',
      slots: ['in'],
      async run({ slots }) {
        if (slots.in.some((p) => p.fail === true)) throw new Error('nope');
        await gate.promise;
      },
      cleanup({ status, job }) {
        calls.push(`${job.id}:${status}`);
      },
    });
    const flow = createFlow('steps').add('step', step);
    const failed = rt.exec(flow, { params: { fail: true }, jobId: 'f' });
    const cancelled = rt.exec(flow, { params: {}, jobId: 'c' });
    await failed.wait();
    await flush();
    cancelled.cancel('enough');
    await cancelled.wait();
    expect(failed.status).toBe('failed');
    expect(cancelled.status).toBe('cancelled');
    expect(calls).toEqual(['f:failed', 'c:cancelled']);
  });

  it('runs after a cut-short activation was aborted, without waiting for a run that ignores its signal', async () => {
    const order: string[] = [];
    const rt = runtime();
    const never = new Promise<void>(() => undefined);
    const stuck = defineRoutine({
      name: 'stuck',
      slots: ['in'],
      async run({ signal }) {
        signal.addEventListener('abort', () => order.push('aborted'), { once: true });
        await never; // blocked on something that ignores the signal
      },
      cleanup({ status }) {
        order.push(`cleanup ${status}`);
      },
    });
    const job = rt.exec(createFlow('stuck').add('stuck', stuck), { params: {} });
    await flush();
    job.cancel();
    await job.wait();
    expect(order).toEqual(['aborted', 'cleanup cancelled']);
  });

  it('is awaited before wait() resolves, before the final event, and before waitForAll and shutdown', async () => {
    const done = deferred();
    const order: string[] = [];
    const calls: Seen[] = [];
    const rt = createRuntime({ resources: { conn: { create: () => 'conn', dispose: () => void order.push('dispose conn') } } });
    const flow = counting(calls, async ({ resource }) => {
      order.push(`cleanup got ${String(await resource('conn'))}`);
      await done.promise;
      order.push('cleanup done');
    });
    const job = rt.exec(flow, { params: { n: 0 } });
    const { events, done: streamDone } = record(job);
    void job.wait().then(() => order.push('wait resolved'));
    void rt.waitForAll().then(() => order.push('waitForAll resolved'));
    const down = rt.shutdown({ wait: true }).then(() => order.push('shutdown resolved'));
    await flush(6);
    expect(job.status).toBe('completed');
    expect(order).toEqual(['cleanup got conn']);
    expect(events.map((e) => e.type)).not.toContain('job.completed');
    // A subscriber arriving while cleanups run still gets the final event, and its stream completes after it.
    const late = record(job);
    done.resolve();
    await down;
    await streamDone;
    await late.done;
    expect(order).toEqual(['cleanup got conn', 'cleanup done', 'wait resolved', 'waitForAll resolved', 'dispose conn', 'shutdown resolved']);
    expect(events.at(-1)?.type).toBe('job.completed');
    expect(late.events.map((e) => e.type)).toEqual(['job.completed']);
  });

  it('a throwing or rejecting cleanup is a job.warning before the final event, never a changed status', async () => {
    const rt = runtime();
    const make = (name: string, cleanup: () => void | Promise<void>) => defineRoutine({ name, slots: ['in'], events: { out: [] }, run: ({ emit }) => emit('out', {}), cleanup });
    const flow = createFlow('warned')
      .add(
        'sync',
        make('sync', () => {
          throw new TypeError('bad handle');
        }),
      )
      .add(
        'async',
        make('async', () => Promise.reject(new Error('ENOENT'))),
      )
      .add(
        'fine',
        make('fine', () => undefined),
      )
      .connect('sync.out', 'async.in')
      .connect('async.out', 'fine.in');
    const job = rt.exec(flow, { params: {} });
    const { events, done } = record(job);
    const state = await job.wait();
    await done;
    expect(state.status).toBe('completed');
    expect(job.error).toBeUndefined();
    const warnings = events.filter((e) => e.type === 'job.warning');
    expect(warnings).toEqual([
      {
        type: 'job.warning',
        jobId: job.id,
        flowId: 'warned',
        at: expect.any(Number) as number,
        code: 'cleanup.failed',
        message: `The cleanup of routine 'sync' in job '${job.id}' of flow 'warned' threw (the job's status stays 'completed'): TypeError: bad handle`,
        routineId: 'sync',
      },
      expect.objectContaining({ code: 'cleanup.failed', routineId: 'async', message: expect.stringContaining('Error: ENOENT') as string }),
    ]);
    expect(events.at(-1)?.type).toBe('job.completed');
  });

  it('rejects a cleanup that is not a function', () => {
    expect(() => defineRoutine({ name: 'x', slots: ['in'], run() {}, cleanup: 'later' as never })).toThrow(expect.objectContaining({ name: 'InvalidOptionError' }) as Error);
  });
});
