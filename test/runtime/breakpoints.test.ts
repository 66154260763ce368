import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, InvalidOptionError, JobFinishedError, UnknownSlotError, type JobEvent } from 'slotflow';
import { createTestRuntime } from 'slotflow/testing';

/** a -> b -> c, each passing `n` on; `ran` records the order of activations. */
function chain() {
  const ran: string[] = [];
  const step = (name: string) =>
    defineRoutine({
      name,
      slots: ['input'],
      events: { output: ['n'] },
      run({ slots, emit }) {
        ran.push(name);
        const n = (slots.input[0] as { n: number }).n;
        emit('output', { n: n + 1 });
      },
    });
  const flow = createFlow('abc')
    .add('a', step('a'))
    .add('b', step('b'))
    .add('c', step('c'))
    .connect('a.output', 'b.input')
    .connect('b.output', 'c.input')
    .entry('a', 'input');
  return { flow, ran };
}

function recordEvents(job: { events$: { subscribe(fn: (e: JobEvent) => void): unknown } }): JobEvent[] {
  const events: JobEvent[] = [];
  job.events$.subscribe((e) => events.push(e));
  return events;
}

describe('Job breakpoints', () => {
  it('pauses before a breakpointed routine, with a job.breakpoint event carrying what it would consume', async () => {
    const rt = createTestRuntime();
    const { flow, ran } = chain();
    const job = rt.exec(flow, { params: { n: 1 }, breakpoints: [{ routine: 'b' }] });
    const events = recordEvents(job);
    await rt.settle();
    expect(ran).toEqual(['a']);
    expect(job.status).toBe('paused');
    expect(job.breakpoints).toEqual([{ routine: 'b' }]);
    const hit = events.find((e) => e.type === 'job.breakpoint');
    expect(hit).toMatchObject({ type: 'job.breakpoint', routineId: 'b', consumed: { input: [{ n: 2 }] } });
    expect(events.map((e) => e.type)).toContain('job.paused');
    // The held activation's data shows nowhere as pending: it is taken, waiting to run.
    expect(job.state.routines.b?.status).toBe('running');
    expect(job.pausedAt).toBe('b');

    job.resume();
    await rt.settle();
    expect(job.pausedAt).toBeUndefined();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(job.status).toBe('completed');
    expect(job.state.outputs['c.output']).toEqual([{ n: 4 }]);
  });

  it('step() runs exactly the next activation and pauses again; a step with nothing left completes the job', async () => {
    const rt = createTestRuntime();
    const { flow, ran } = chain();
    const job = rt.exec(flow, { params: { n: 1 }, breakpoints: [{ routine: 'a' }] });
    await rt.settle();
    expect(ran).toEqual([]);
    expect(job.status).toBe('paused');

    job.step();
    await rt.settle();
    expect(ran).toEqual(['a']);
    expect(job.status).toBe('paused');

    job.step();
    await rt.settle();
    expect(ran).toEqual(['a', 'b']);
    expect(job.status).toBe('paused');

    job.step();
    await rt.settle();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(job.status).toBe('completed');
    expect(() => {
      job.step();
    }).toThrow(JobFinishedError);
  });

  it('step() also works on a job paused by pause(), and resume() goes on to the next breakpoint', async () => {
    const rt = createTestRuntime();
    const { flow, ran } = chain();
    const job = rt.exec(flow, { params: { n: 1 } });
    job.pause();
    await rt.settle();
    expect(ran).toEqual([]);
    expect(job.status).toBe('paused');
    job.setBreakpoints([{ routine: 'c' }]);

    job.step();
    await rt.settle();
    expect(ran).toEqual(['a']);
    expect(job.status).toBe('paused');

    job.resume();
    await rt.settle();
    expect(ran).toEqual(['a', 'b']);
    expect(job.status).toBe('paused'); // before c

    job.setBreakpoints([]);
    job.resume();
    await rt.settle();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(job.status).toBe('completed');
  });

  it('a breakpoint hit by many activations of one routine stops before each of them', async () => {
    const rt = createTestRuntime();
    const seen: number[] = [];
    const split = defineRoutine({
      name: 'split',
      slots: ['input'],
      events: { item: ['i'] },
      run({ emit }) {
        for (let i = 0; i < 3; i++) emit('item', { i });
      },
    });
    const sink = defineRoutine({
      name: 'sink',
      slots: ['item'],
      run({ slots }) {
        for (const p of slots.item) seen.push((p as { i: number }).i);
      },
    });
    const flow = createFlow('fan').add('split', split).add('sink', sink).connect('split.item', 'sink.item').entry('split', 'input');
    const job = rt.exec(flow, { params: {}, breakpoints: [{ routine: 'sink' }] });
    const events = recordEvents(job);
    await rt.settle();
    expect(job.status).toBe('paused');
    // The immediate policy took the first item; the other two wait in the slot.
    expect(seen).toEqual([]);
    expect(job.state.routines.sink?.pending.item).toHaveLength(2);
    let stops = 1;
    while (job.status === 'paused') {
      job.resume();
      await rt.settle();
      if ((job.status as string) === 'paused') stops++;
    }
    expect(job.status).toBe('completed');
    expect(seen).toEqual([0, 1, 2]);
    // One stop per activation of sink (the first took item 0, the next what had queued meanwhile).
    const activations = job.state.routines.sink?.activations ?? 0;
    expect(activations).toBeGreaterThan(1);
    expect(stops).toBe(activations);
    expect(events.filter((e) => e.type === 'job.breakpoint')).toHaveLength(activations);
  });

  it('cancel() on a job held at a breakpoint puts the held data back as pending', async () => {
    const rt = createTestRuntime();
    const { flow } = chain();
    const job = rt.exec(flow, { params: { n: 1 }, breakpoints: [{ routine: 'b' }] });
    await rt.settle();
    job.cancel();
    const state = await job.wait();
    expect(state.status).toBe('cancelled');
    expect(state.routines.b?.pending.input).toEqual([{ n: 2 }]);
  });

  it('breakpoints leave other jobs running', async () => {
    const rt = createTestRuntime({ concurrency: 1 });
    const { flow, ran } = chain();
    const held = rt.exec(flow, { params: { n: 1 }, breakpoints: [{ routine: 'b' }] });
    const free = rt.exec(flow, { params: { n: 10 } });
    await rt.settle();
    expect(held.status).toBe('paused');
    expect(free.status).toBe('completed');
    expect(ran.filter((r) => r === 'c')).toHaveLength(1);
  });

  it('rejects unknown routines and malformed breakpoints with typed errors', () => {
    const rt = createTestRuntime();
    const { flow } = chain();
    expect(() => rt.exec(flow, { breakpoints: [{ routine: 'nope' }] })).toThrow(UnknownSlotError);
    expect(() => rt.exec(flow, { breakpoints: [{ routine: 'nope' }] })).toThrow(/no routine 'nope'; expected one of 'a', 'b', 'c'/);
    // @ts-expect-error -- not an array
    expect(() => rt.exec(flow, { breakpoints: { routine: 'a' } })).toThrow(InvalidOptionError);
    // @ts-expect-error -- a misspelt key
    expect(() => rt.exec(flow, { breakpoints: [{ routin: 'a' }] })).toThrow(/breakpoints \}\)\[0\]\.routin/);
    expect(rt.listJobs()).toHaveLength(0);
    const job = rt.exec(flow, { keepAlive: true });
    expect(() => {
      job.setBreakpoints([{ routine: 'x' }]);
    }).toThrow(UnknownSlotError);
    job.cancel();
  });

  it('a routine in retry backoff waits out its delay on the test clock, then stops at its breakpoint before the retry', async () => {
    const rt = createTestRuntime();
    let attempts = 0;
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['input'],
      onError: { retry: { max: 2, backoffMs: 1000 } },
      run() {
        attempts++;
        if (attempts === 1) throw new Error('first attempt fails');
      },
    });
    const flow = createFlow('retry').add('f', flaky).entry('f', 'input');
    const job = rt.exec(flow, { params: {} });
    const events = recordEvents(job);
    await rt.settle();
    expect(attempts).toBe(1);
    // In backoff: a breakpoint set now holds the retry when its timer fires.
    job.setBreakpoints([{ routine: 'f' }]);
    await rt.clock.advance(999);
    expect(job.status).toBe('running');
    await rt.clock.advance(1);
    expect(job.status).toBe('paused');
    expect(job.pausedAt).toBe('f');
    expect(attempts).toBe(1);
    expect(events.filter((e) => e.type === 'job.breakpoint')).toHaveLength(1);
    job.step();
    await rt.settle();
    expect(attempts).toBe(2);
    expect(job.status).toBe('completed');
  });

  it('step() on a running job lets the next activation start and pauses before the one after', async () => {
    const rt = createTestRuntime();
    const { flow, ran } = chain();
    const job = rt.exec(flow, { params: { n: 1 } });
    job.step();
    await rt.settle();
    expect(ran).toEqual(['a']);
    expect(job.status).toBe('paused');
    expect(job.pausedAt).toBeUndefined(); // held by the step, not by a breakpoint
    job.resume();
    await rt.settle();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(job.status).toBe('completed');
  });

  it('a job held at a breakpoint snapshots as paused and restores paused, its held activation run on resume', async () => {
    const rt = createTestRuntime();
    const { flow, ran } = chain();
    const job = rt.exec(flow, { params: { n: 1 }, breakpoints: [{ routine: 'b' }] });
    await rt.settle();
    const snapshot = job.snapshot();
    job.cancel();
    expect(snapshot.status).toBe('paused');
    const other = createTestRuntime();
    other.register(flow);
    const restored = other.restore(snapshot);
    await other.settle();
    expect(restored.status).toBe('paused');
    restored.resume();
    await other.settle();
    expect(restored.status).toBe('completed');
    expect(restored.state.outputs['c.output']).toEqual([{ n: 4 }]);
    expect(ran).toEqual(['a', 'b', 'c']);
  });
});
