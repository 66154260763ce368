/**
 * The hot path's one-microstep transitions and direct routing behave as the machine-routed path does: an exhausted
 * `onExhausted: 'fail'` edge fails the job after the whole emission is routed, the window a firing arrival opens is
 * visible to the policy's take and message, a declined arrival asks the policy once, and the run context works
 * destructured and through a Proxy. Each case runs on the default runtime and under `inspect` (every emission through the
 * supervisor).
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, policies } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';

const loop = defineRoutine({
  name: 'loop',
  slots: ['in'],
  events: { out: ['n'] },
  run: (ctx) => {
    ctx.emit('out', { n: (ctx.slots.in[0] as { n: number }).n + 1 });
  },
});
const sink = defineRoutine({ name: 'sink', slots: ['in'], run: () => undefined });

describe("an exhausted onExhausted: 'fail' edge fails the job once the emission is routed", () => {
  for (const mode of ['default', 'inspect'] as const) {
    const options = mode === 'inspect' ? { inspect: () => undefined } : {};

    it(`${mode}: the exhausted payload is in state.outputs, as in snapshot().outputs`, async () => {
      const flow = createFlow('d1a').add('a', loop).connect('a.out', 'a.in', { maxIterations: 2, onExhausted: 'fail' });
      await using rt = createRuntime(options);
      const job = rt.exec(flow, { params: { n: 0 } });
      const state = await job.wait();
      expect(state.status).toBe('failed');
      expect(job.snapshot().outputs).toEqual({ 'a.out': [{ n: 3 }] });
      expect(state.outputs).toEqual({ 'a.out': [{ n: 3 }] });
    });

    it(`${mode}: the emission still reaches the later connections; emit does not throw`, async () => {
      const thrown: string[] = [];
      const tolerant = defineRoutine({
        name: 'tolerant',
        slots: ['in'],
        events: { out: ['n'] },
        run: (ctx) => {
          try {
            ctx.emit('out', { n: (ctx.slots.in[0] as { n: number }).n + 1 });
          } catch (error) {
            thrown.push((error as Error).name);
          }
        },
      });
      const flow = createFlow('d1b').add('a', tolerant).add('b', sink, { policy: policies.batch(10) }).connect('a.out', 'a.in', { maxIterations: 2, onExhausted: 'fail' }).connect('a.out', 'b.in');
      await using rt = createRuntime(options);
      const state = await rt.exec(flow, { params: { n: 0 } }).wait();
      expect(thrown).toEqual([]);
      expect(state.routines.b?.pending).toEqual({ in: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    });

    it(`${mode}: job.failed is the job's last event (no cycle event after it)`, async () => {
      const flow = createFlow('d1c').add('a', loop).add('b', sink).connect('a.out', 'a.in', { maxIterations: 2, onExhausted: 'fail' }).connect('a.out', 'b.in', { maxIterations: 10, until: (p) => (p.n as number) >= 3 });
      await using rt = createRuntime(options);
      const seen: string[] = [];
      rt.events$.subscribe((event) => {
        if (event.type.startsWith('job.') || event.type.startsWith('cycle.')) seen.push(event.type);
      });
      const job = rt.exec(flow, { params: { n: 0 } });
      const state = await job.wait();
      expect(seen.at(-1)).toBe('job.failed');
      expect(state.cycles).toEqual(job.snapshot().cycles);
    });
  }
});

describe('an arrival that fires the routine in one microstep', () => {
  it('window(0): trigger.message.openedAt is the arrival time', async () => {
    const opened: unknown[] = [];
    const w = defineRoutine({ name: 'w', slots: ['in'], run: (ctx) => void opened.push(ctx.trigger.message?.openedAt) });
    const clock = new ManualClock(1000);
    await using rt = createRuntime({ clock });
    await rt.exec(createFlow('d2a').add('w', w, { policy: policies.window(0) }), { params: {} }).wait();
    expect(opened).toEqual([1000]);
  });

  it("a custom policy's take() sees firstArrivalAt of the data it takes", async () => {
    const seen: unknown[] = [];
    const policy = policies.custom({
      name: 'c',
      ready: (q) => (q.in?.length ?? 0) > 0,
      take: (q, ctx) => {
        seen.push(ctx.firstArrivalAt);
        return { in: q.in?.length ?? 0 };
      },
    });
    const clock = new ManualClock(1000);
    await using rt = createRuntime({ clock });
    await rt.exec(createFlow('d2b').add('c', sink, { policy }), { params: {} }).wait();
    expect(seen).toEqual([1000]);
  });

  it("a custom policy's ready() runs once per arrival that does not fire", async () => {
    let calls = 0;
    const policy = policies.custom({ name: 'c', ready: (q) => (calls++, (q.in?.length ?? 0) >= 3) });
    await using rt = createRuntime({});
    const job = rt.exec(createFlow('d2c').add('c', sink, { policy }), { keepAlive: true });
    await new Promise((resolve) => setImmediate(resolve));
    calls = 0;
    for (let i = 0; i < 3; i++) job.post('c', 'in', { i });
    const count = calls;
    job.complete();
    await job.wait();
    expect(count).toBe(3);
  });
});

describe('how often a policy is asked', () => {
  it('once per arrival and once per activation end', async () => {
    const asked: number[] = [];
    const policy = policies.custom({
      name: 'counting',
      ready: (queues) => {
        asked.push(queues.in?.length ?? 0);
        return (queues.in?.length ?? 0) >= 2;
      },
    });
    await using rt = createRuntime({});
    const job = rt.exec(createFlow('asked').add('c', sink, { policy }), { keepAlive: true });
    await new Promise((resolve) => setImmediate(resolve));
    asked.length = 0;
    job.post('c', 'in', { i: 1 }); // asked with 1 queued: no
    job.post('c', 'in', { i: 2 }); // asked with 2 queued: yes, the activation starts
    await new Promise((resolve) => setImmediate(resolve)); // it ends: asked with 0 queued, no
    job.complete();
    expect(asked).toEqual([1, 2, 0]);
    expect((await job.wait()).routines.c?.activations).toBe(1);
  });
});

describe('the run context', () => {
  it('destructured in the parameter list (the SPEC idiom), gives every field, state current as of the call', async () => {
    const seen: unknown[] = [];
    const r = defineRoutine({
      name: 'r',
      slots: ['in'],
      events: { out: ['n'] },
      initialState: { n: 1 },
      run: ({ slots, state, shared, signal, emit, setState, setShared, log, trigger, job, routineId, attempt, config }) => {
        seen.push(state, shared, signal instanceof AbortSignal, typeof emit, typeof setState, typeof setShared, typeof log, trigger.policy, typeof job.id, routineId, attempt, config, slots.in.length);
      },
    });
    await using rt = createRuntime({});
    await rt.exec(createFlow('d3a').add('r', r), { params: {} }).wait();
    expect(seen).toEqual([{ n: 1 }, {}, true, 'function', 'function', 'function', 'function', 'immediate', 'string', 'r', 0, {}, 1]);
  });

  it('a Proxy around the context can read state', async () => {
    let read: unknown;
    const r = defineRoutine({
      name: 'r',
      slots: ['in'],
      initialState: { n: 1 },
      run: (ctx) => {
        try {
          read = new Proxy(ctx, {}).state;
        } catch (error) {
          read = (error as Error).message;
        }
      },
    });
    await using rt = createRuntime({});
    await rt.exec(createFlow('d3b').add('r', r), { params: {} }).wait();
    expect(read).toEqual({ n: 1 });
  });
});
