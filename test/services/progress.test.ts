import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, isInvalidOptionError, type Job, type JobEvent, type RunContext } from 'slotflow';
import { createTestRuntime, type TestRuntime } from 'slotflow/testing';

/** Subscribes in the same tick and collects the job's events; `done` resolves when its stream completes. */
function record(job: Job): { readonly events: JobEvent[]; readonly done: Promise<void> } {
  const events: JobEvent[] = [];
  const done = new Promise<void>((resolve) => {
    job.events$.subscribe({ next: (e) => events.push(e), complete: resolve });
  });
  return { events, done };
}

type Ctx = RunContext<Record<string, unknown>, Record<string, unknown>, object, unknown>;

/** A one-routine flow whose routine runs `script` (with the test runtime, to sleep on its clock). */
function scripted(rt: TestRuntime, script: (ctx: Ctx, rt: TestRuntime) => Promise<void> | void, id = 'progress_flow') {
  const work = defineRoutine({
    name: 'work',
    slots: ['in'],
    async run(ctx) {
      await script(ctx as unknown as Ctx, rt);
    },
  });
  return createFlow(id).add('work', work);
}

/** The progress events, as `[at, done, message]`. */
const progressOf = (events: readonly JobEvent[]) =>
  events.flatMap((e) => (e.type === 'routine.progress' ? [{ at: e.at, routineId: e.routineId, done: e.done, total: e.total, message: e.message }] : []));

describe('ctx.progress()', () => {
  it('publishes routine.progress events spaced 100 ms apart on the runtime clock, the newest held update going out when the spacing ends', async () => {
    await using rt = createTestRuntime();
    const flow = scripted(rt, async ({ progress }, { clock }) => {
      progress({ done: 0, total: 4, message: 'start' }); // t=0: out at once
      progress({ done: 1, total: 4 }); // t=0: held
      await clock.sleep(30);
      progress({ done: 2, total: 4 }); // t=30: replaces the held one, out at t=100
      await clock.sleep(120);
      progress({ done: 3, total: 4 }); // t=150: 50 ms after the last, held until t=200
      await clock.sleep(100);
      progress({ done: 4, total: 4 }); // t=250: 50 ms after t=200: held, out at t=300
      await clock.sleep(200);
    });
    const job = rt.exec(flow, { params: {} });
    const { events, done } = record(job);
    await rt.clock.advance(500);
    await job.wait();
    await done;
    expect(progressOf(events)).toEqual([
      { at: 0, routineId: 'work', done: 0, total: 4, message: 'start' },
      { at: 100, routineId: 'work', done: 2, total: 4, message: undefined },
      { at: 200, routineId: 'work', done: 3, total: 4, message: undefined },
      { at: 300, routineId: 'work', done: 4, total: 4, message: undefined },
    ]);
    // Only the fields given are on the event.
    const second = events.find((e) => e.type === 'routine.progress' && e.at === 100);
    expect(second && 'message' in second).toBe(false);
    expect(second).toMatchObject({ type: 'routine.progress', jobId: job.id, flowId: 'progress_flow' });
  });

  it("delivers an activation's last update at once when it ends, before its routine.completed, exempt from the spacing", async () => {
    await using rt = createTestRuntime();
    const flow = scripted(rt, async ({ progress }, { clock }) => {
      for (let i = 1; i <= 1000; i++) progress({ done: i, total: 1000 });
      await clock.sleep(10);
      progress({ done: 1000, total: 1000, message: 'done' });
    });
    const job = rt.exec(flow, { params: {} });
    const { events, done } = record(job);
    await rt.clock.advance(10);
    await job.wait();
    await done;
    expect(progressOf(events)).toEqual([
      { at: 0, routineId: 'work', done: 1, total: 1000, message: undefined },
      { at: 10, routineId: 'work', done: 1000, total: 1000, message: 'done' },
    ]);
    const order = events.map((e) => e.type).filter((t) => t.startsWith('routine.'));
    expect(order).toEqual(['routine.started', 'routine.progress', 'routine.progress', 'routine.completed']);
  });

  it('delivers the held update before routine.failed, and before job.cancelled when the job is cancelled mid-activation', async () => {
    await using rt = createTestRuntime();
    const failing = scripted(
      rt,
      ({ progress }) => {
        progress({ done: 1 });
        progress({ done: 2 });
        throw new Error('boom');
      },
      'failing',
    );
    const job = rt.exec(failing, { params: {} });
    const { events, done } = record(job);
    await job.wait();
    await done;
    expect(progressOf(events).map((p) => p.done)).toEqual([1, 2]);
    const types = events.map((e) => e.type);
    expect(types.indexOf('routine.failed')).toBeGreaterThan(types.lastIndexOf('routine.progress'));

    const slow = scripted(
      rt,
      async ({ progress, signal }, { clock }) => {
        progress({ done: 1 });
        progress({ done: 2, message: 'last words' });
        await clock.sleep(1000, signal);
      },
      'slow',
    );
    const cancelled = rt.exec(slow, { params: {} });
    const seen = record(cancelled);
    await rt.settle();
    cancelled.cancel();
    await cancelled.wait();
    await seen.done;
    expect(progressOf(seen.events).map((p) => p.message)).toEqual([undefined, 'last words']);
    const kinds = seen.events.map((e) => e.type);
    expect(kinds.indexOf('job.cancelled')).toBeGreaterThan(kinds.lastIndexOf('routine.progress'));
  });

  it('spaces each routine of a job, and each job, on its own', async () => {
    await using rt = createTestRuntime();
    const work = defineRoutine({
      name: 'work',
      slots: ['in'],
      events: { out: ['n'] },
      run({ progress, emit }) {
        progress({ done: 1 });
        emit('out', { n: 1 });
      },
    });
    const flow = createFlow('two').add('a', work).add('b', work).connect('a.out', 'b.in');
    const jobs = [rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} })];
    const records = jobs.map(record);
    await Promise.all(jobs.map((j) => j.wait()));
    await Promise.all(records.map((r) => r.done));
    for (const { events } of records) expect(progressOf(events).map((p) => [p.routineId, p.at])).toEqual([['a', 0], ['b', 0]]);
  });

  it('rejects a malformed update with InvalidOptionError naming the routine, the flow and the closest key', async () => {
    await using rt = createTestRuntime();
    const caught: unknown[] = [];
    const flow = scripted(rt, ({ progress }) => {
      for (const bad of [{ don: 1 }, { done: -1 }, { total: Number.NaN }, { message: 3 }, 'half', null]) {
        try {
          progress(bad as never);
        } catch (error) {
          caught.push(error);
        }
      }
    });
    await rt.exec(flow, { params: {} }).wait();
    expect(caught).toHaveLength(6);
    for (const error of caught) expect(isInvalidOptionError(error)).toBe(true);
    const messages = caught.map((e) => (e as Error).message);
    expect(messages[0]).toContain("progress() of routine 'work' in flow 'progress_flow'");
    expect(messages[0]).toContain("did you mean 'done'?");
    expect(messages[1]).toContain('a finite number >= 0');
    expect(messages[3]).toContain('a string');
  });

  it('an uncaught bad update fails the activation through its error strategy', async () => {
    await using rt = createTestRuntime();
    const flow = scripted(rt, ({ progress }) => {
      progress({ done: '3' as unknown as number });
    });
    const job = rt.exec(flow, { params: {} });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(isInvalidOptionError((job.error as Error & { cause?: unknown }).cause)).toBe(true);
  });

  it('throws ActivationEndedError naming the routine and the call when called after the activation ended, and after the job ended', async () => {
    await using rt = createTestRuntime();
    let late: ((update: { done: number }) => void) | undefined;
    const flow = scripted(rt, ({ progress }) => {
      late = progress;
    });
    const job = rt.exec(flow, { params: {}, keepAlive: true });
    await rt.settle();
    expect(job.status).toBe('idle');
    expect(() => late?.({ done: 1 })).toThrow(expect.objectContaining({ name: 'ActivationEndedError' }) as Error);
    job.complete();
    await job.wait();
    let thrown: unknown;
    try {
      late?.({ done: 1 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'ActivationEndedError', message: expect.stringContaining('progress()') as string });
  });
});
