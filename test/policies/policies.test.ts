import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, InvalidOptionError, policies, RoutineError, SlotQueueFullError, type ActivationPolicy, type Trigger } from 'slotflow';
import { createManualClock, flush } from '../helpers/prop-clock.js';

interface Seen {
  readonly slots: Record<string, readonly unknown[]>;
  readonly trigger: Trigger;
  readonly at: number;
}

/** A sink with slots `a` and `b` under `policy`, recording what each activation consumed. */
function sinkFlow(id: string, policy: ActivationPolicy, now: () => number = () => 0) {
  const seen: Seen[] = [];
  const sink = defineRoutine({
    name: 'sink',
    slots: ['a', 'b'],
    run({ slots, trigger }) {
      seen.push({ slots: { a: [...slots.a], b: [...slots.b] }, trigger, at: now() });
    },
  });
  const flow = createFlow(id).add('sink', sink, { policy });
  return { flow, seen };
}

const vals = (items: readonly unknown[]) => items.map((p) => (p as { v: unknown }).v);

describe('policies.immediate', () => {
  it('consumes everything queued in every slot in one activation', async () => {
    const { flow, seen } = sinkFlow('imm', policies.immediate());
    const rt = createRuntime();
    const job = rt.exec(flow, { keepAlive: true });
    job.pause();
    job.post('sink', 'a', { v: 1 });
    job.post('sink', 'a', { v: 2 });
    job.post('sink', 'b', { v: 3 });
    job.post('sink', 'a', { v: 4 });
    await flush();
    expect(seen).toHaveLength(0);
    job.resume();
    job.complete();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(seen).toHaveLength(1);
    expect(vals(seen[0]!.slots.a!)).toEqual([1, 2, 4]);
    expect(vals(seen[0]!.slots.b!)).toEqual([3]);
    expect(seen[0]!.trigger.policy).toBe('immediate');
    expect(seen[0]!.trigger.message).toEqual({ reason: 'immediate' });
    expect(state.routines.sink!.pending).toEqual({});
  });

  it('fires on the first arrival; what arrives while it runs is taken together by the next activation', async () => {
    const sink = defineRoutine({ name: 'sink', slots: ['in'], run() {} });
    const seen: number[][] = [];
    const recorder = defineRoutine({
      name: 'rec',
      slots: ['in'],
      run({ slots }) {
        seen.push(slots.in.map((p) => p.v as number));
      },
    });
    const source = defineRoutine({
      name: 'src',
      slots: ['go'],
      events: { out: ['v'] },
      run({ emit }) {
        for (let v = 1; v <= 4; v++) emit('out', { v });
      },
    });
    const flow = createFlow('imm2').add('src', source).add('rec', recorder).add('unused', sink).connect('src.out', 'rec.in');
    const state = await createRuntime().exec(flow, { params: {} }).wait();
    expect(state.status).toBe('completed');
    expect(seen).toEqual([[1], [2, 3, 4]]);
    expect(state.routines.rec!.activations).toBe(2);
  });
});

describe('policies.batch', () => {
  it('fires only when every slot holds >= n and consumes exactly n from each, FIFO; leftovers are pending', async () => {
    const { flow, seen } = sinkFlow('batch', policies.batch(2));
    const rt = createRuntime();
    const job = rt.exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 'a1' });
    job.post('sink', 'a', { v: 'a2' });
    job.post('sink', 'a', { v: 'a3' });
    job.post('sink', 'b', { v: 'b1' });
    await flush();
    expect(seen).toHaveLength(0); // b holds only 1
    job.post('sink', 'b', { v: 'b2' });
    job.post('sink', 'a', { v: 'a4' });
    job.post('sink', 'a', { v: 'a5' });
    job.post('sink', 'b', { v: 'b3' });
    job.complete();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(seen).toHaveLength(1);
    expect(vals(seen[0]!.slots.a!)).toEqual(['a1', 'a2']);
    expect(vals(seen[0]!.slots.b!)).toEqual(['b1', 'b2']);
    expect(seen[0]!.trigger.policy).toBe('batch');
    expect(seen[0]!.trigger.message).toEqual({ reason: 'batch', size: 2 });
    expect(state.routines.sink!.pending).toEqual({ a: [{ v: 'a3' }, { v: 'a4' }, { v: 'a5' }], b: [{ v: 'b3' }] });
    expect(state.history.map((h) => h.consumed)).toEqual([{ a: 2, b: 2 }]);
  });

  it('runs as many batches as the queues allow, each of exactly n', async () => {
    const { flow, seen } = sinkFlow('batch3', policies.batch(3, { slots: ['a'] }));
    const job = createRuntime().exec(flow, { keepAlive: true });
    job.pause();
    for (let v = 1; v <= 8; v++) job.post('sink', 'a', { v });
    job.post('sink', 'b', { v: 'b' });
    job.resume();
    job.complete();
    const state = await job.wait();
    expect(seen.map((s) => vals(s.slots.a!))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(seen.every((s) => s.slots.b!.length === 0)).toBe(true); // only the named slot is taken from
    expect(state.routines.sink!.pending).toEqual({ a: [{ v: 7 }, { v: 8 }], b: [{ v: 'b' }] });
  });

  it('with { slots } ignores the other slots for the guard', async () => {
    const { flow, seen } = sinkFlow('batchNamed', policies.batch(1, { slots: ['b'] }));
    const job = createRuntime().exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    await flush();
    expect(seen).toHaveLength(0);
    job.post('sink', 'b', { v: 2 });
    job.complete();
    await job.wait();
    expect(seen).toHaveLength(1);
    expect(vals(seen[0]!.slots.b!)).toEqual([2]);
  });

  it.each([0, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY])('batch(%s) throws InvalidOptionError', (n) => {
    expect(() => policies.batch(n)).toThrow(InvalidOptionError);
    try {
      policies.batch(n);
    } catch (error) {
      expect((error as Error).name).toBe('InvalidOptionError');
    }
  });
});

describe('policies.allReady', () => {
  it('joins one item from each slot when every slot has one', async () => {
    const { flow, seen } = sinkFlow('join', policies.allReady());
    const job = createRuntime().exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 'a1' });
    job.post('sink', 'a', { v: 'a2' });
    await flush();
    expect(seen).toHaveLength(0);
    job.post('sink', 'b', { v: 'b1' });
    await flush();
    expect(seen).toHaveLength(1);
    expect(vals(seen[0]!.slots.a!)).toEqual(['a1']);
    expect(vals(seen[0]!.slots.b!)).toEqual(['b1']);
    expect(seen[0]!.trigger.message).toEqual({ reason: 'allReady' });
    expect(job.state.routines.sink!.pending).toEqual({ a: [{ v: 'a2' }] });
    job.post('sink', 'b', { v: 'b2' });
    job.post('sink', 'b', { v: 'b3' });
    job.complete();
    const state = await job.wait();
    expect(seen).toHaveLength(2);
    expect(vals(seen[1]!.slots.a!)).toEqual(['a2']);
    expect(vals(seen[1]!.slots.b!)).toEqual(['b2']);
    expect(state.routines.sink!.pending).toEqual({ b: [{ v: 'b3' }] });
  });

  it('with { slots } joins only the named slots', async () => {
    const { flow, seen } = sinkFlow('joinNamed', policies.allReady({ slots: ['a'] }));
    const job = createRuntime().exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    job.post('sink', 'a', { v: 2 });
    job.complete();
    await job.wait();
    expect(seen.map((s) => vals(s.slots.a!))).toEqual([[1], [2]]);
  });
});

describe('policies.interval', () => {
  it('fires the first arrival at once, then at most once per interval with everything queued', async () => {
    const clock = createManualClock(1000);
    const { flow, seen } = sinkFlow('interval', policies.interval(100), clock.now);
    const job = createRuntime({ clock }).exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    await flush();
    expect(seen.map((s) => s.at)).toEqual([1000]);
    await clock.advance(10);
    job.post('sink', 'a', { v: 2 });
    await clock.advance(10);
    job.post('sink', 'b', { v: 3 });
    await clock.advanceTo(1099);
    expect(seen).toHaveLength(1); // data waits for the interval
    expect(job.state.routines.sink!.pending).toEqual({ a: [{ v: 2 }], b: [{ v: 3 }] });
    await clock.advanceTo(1100);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at).toBe(1100);
    expect(vals(seen[1]!.slots.a!)).toEqual([2]);
    expect(vals(seen[1]!.slots.b!)).toEqual([3]);
    expect(seen[1]!.trigger.policy).toBe('interval');
    expect(seen[1]!.trigger.message).toMatchObject({ reason: 'interval' });
    job.complete();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(clock.pending).toBe(0); // a finished job holds no timer
  });

  it('keeps a job without keepAlive running while data waits for the interval timer', async () => {
    const clock = createManualClock(0);
    const seen: number[][] = [];
    const source = defineRoutine({
      name: 'src',
      slots: ['go'],
      events: { out: ['v'] },
      run({ emit }) {
        for (let v = 1; v <= 3; v++) emit('out', { v });
      },
    });
    const slow = defineRoutine({
      name: 'slow',
      slots: ['in'],
      policy: policies.interval(50),
      run({ slots }) {
        seen.push(slots.in.map((p) => p.v as number));
      },
    });
    const flow = createFlow('interval2').add('src', source).add('slow', slow).connect('src.out', 'slow.in');
    const job = createRuntime({ clock }).exec(flow, { params: {} });
    await flush(3);
    expect(seen).toEqual([[1]]);
    expect(job.status).toBe('running');
    await clock.advance(49);
    expect(job.status).toBe('running');
    await clock.advance(1);
    expect(seen).toEqual([[1], [2, 3]]);
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(clock.pending).toBe(0);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('interval(%s) throws InvalidOptionError', (ms) => {
    expect(() => policies.interval(ms)).toThrow(InvalidOptionError);
  });
});

describe('policies.window', () => {
  it('fires ms after the first item arrived into empty queues, with everything queued by then', async () => {
    const clock = createManualClock(0);
    const { flow, seen } = sinkFlow('window', policies.window(50), clock.now);
    const job = createRuntime({ clock }).exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    await clock.advance(20);
    job.post('sink', 'b', { v: 2 });
    await clock.advanceTo(49);
    expect(seen).toHaveLength(0);
    await clock.advanceTo(50);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.at).toBe(50);
    expect(vals(seen[0]!.slots.a!)).toEqual([1]);
    expect(vals(seen[0]!.slots.b!)).toEqual([2]);
    expect(seen[0]!.trigger.message).toMatchObject({ reason: 'window' });
    // a new window opens with the next arrival
    await clock.advanceTo(70);
    job.post('sink', 'a', { v: 3 });
    await clock.advanceTo(119);
    expect(seen).toHaveLength(1);
    await clock.advanceTo(120);
    expect(seen).toHaveLength(2);
    expect(vals(seen[1]!.slots.a!)).toEqual([3]);
    job.complete();
    expect((await job.wait()).status).toBe('completed');
  });

  it('a job does not complete while a window is open', async () => {
    const clock = createManualClock(0);
    const { flow, seen } = sinkFlow('window2', policies.window(30), clock.now);
    const job = createRuntime({ clock }).exec(flow.entry('sink', 'a'), { params: { v: 'p' } });
    await flush();
    expect(job.status).toBe('running');
    await clock.advance(30);
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(seen).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it.each([-1, Number.NaN])('window(%s) throws InvalidOptionError', (ms) => {
    expect(() => policies.window(ms)).toThrow(InvalidOptionError);
  });
});

describe('policies.custom', () => {
  it('fires when ready() holds and consumes what take() returns (counts)', async () => {
    const policy = policies.custom({
      name: 'threeThenTwo',
      ready: (queues) => (queues.a?.length ?? 0) >= 3,
      take: () => ({ a: 2 }),
    });
    const { flow, seen } = sinkFlow('custom', policy);
    const job = createRuntime().exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    job.post('sink', 'a', { v: 2 });
    job.post('sink', 'b', { v: 'b' });
    await flush();
    expect(seen).toHaveLength(0);
    job.post('sink', 'a', { v: 3 });
    job.complete();
    const state = await job.wait();
    expect(seen).toHaveLength(1);
    expect(vals(seen[0]!.slots.a!)).toEqual([1, 2]);
    expect(seen[0]!.slots.b).toEqual([]);
    expect(seen[0]!.trigger.policy).toBe('threeThenTwo');
    expect(seen[0]!.trigger.message).toEqual({ reason: 'threeThenTwo' });
    expect(state.routines.sink!.pending).toEqual({ a: [{ v: 3 }], b: [{ v: 'b' }] });
  });

  it('take() may return the items themselves (a prefix of each queue)', async () => {
    const policy = policies.custom({
      name: 'headOfB',
      ready: (queues) => (queues.b?.length ?? 0) > 0,
      take: (queues) => ({ b: queues.b!.slice(0, 1) }),
    });
    const { flow, seen } = sinkFlow('custom2', policy);
    const job = createRuntime().exec(flow, { keepAlive: true });
    job.pause();
    job.post('sink', 'b', { v: 1 });
    job.post('sink', 'b', { v: 2 });
    job.post('sink', 'a', { v: 'x' });
    job.resume();
    job.complete();
    const state = await job.wait();
    expect(seen.map((s) => vals(s.slots.b!))).toEqual([[1], [2]]);
    expect(state.routines.sink!.pending).toEqual({ a: [{ v: 'x' }] });
  });

  it('without take() consumes everything; ready() sees the policy context', async () => {
    const contexts: { routineId: string; jobId: string }[] = [];
    const policy = policies.custom({
      name: 'any',
      ready: (queues, ctx) => {
        contexts.push({ routineId: ctx.routineId, jobId: ctx.jobId });
        return (queues.a?.length ?? 0) + (queues.b?.length ?? 0) >= 2;
      },
    });
    const { flow, seen } = sinkFlow('custom3', policy);
    const job = createRuntime().exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    job.post('sink', 'b', { v: 2 });
    job.complete();
    await job.wait();
    expect(seen).toHaveLength(1);
    expect(vals(seen[0]!.slots.a!)).toEqual([1]);
    expect(vals(seen[0]!.slots.b!)).toEqual([2]);
    expect(contexts.length).toBeGreaterThan(0);
    expect(contexts[0]).toEqual({ routineId: 'sink', jobId: job.id });
  });

  it('a ready() that throws fails the job with that error instead of crashing the routine actor and losing the data', async () => {
    const boom = new Error('ready boom');
    const policy = policies.custom({
      name: 'throws',
      ready: () => {
        throw boom;
      },
    });
    const { flow, seen } = sinkFlow('customThrows', policy);
    const job = createRuntime().exec(flow.entry('sink', 'a'), { params: { v: 1 } });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(seen).toHaveLength(0);
    expect(state.status).toBe('failed');
    const error = job.error as (Error & { cause?: unknown }) | undefined;
    expect(error === boom || error?.cause === boom).toBe(true);
  });

  it('a take() asking for more than is queued fails the job with InvalidOptionError', async () => {
    const policy = policies.custom({ name: 'greedy', ready: (queues) => (queues.a?.length ?? 0) > 0, take: () => ({ a: 5 }) });
    const { flow, seen } = sinkFlow('customGreedy', policy);
    const job = createRuntime().exec(flow.entry('sink', 'a'), { params: { v: 1 } });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(seen).toHaveLength(0);
    expect(state.status).toBe('failed');
    const error = job.error as (Error & { cause?: unknown }) | undefined;
    expect(error instanceof InvalidOptionError || error?.cause instanceof InvalidOptionError).toBe(true);
  });

  it("a policy reusing a built-in's guard still gets the full context in its own take(), at every activation", async () => {
    const clock = createManualClock(1000);
    const seenCtx: { now: number; lastActivationAt: number | undefined; firstArrivalAt: number | undefined; routineId: string; jobId: string }[] = [];
    const policy = policies.custom({
      name: 'mixed',
      // The built-in guard (which never reads its context) ...
      ready: policies.immediate().ready,
      // ... and a consume step of its own, which does.
      take: (queues, ctx) => {
        seenCtx.push({ now: ctx.now, lastActivationAt: ctx.lastActivationAt, firstArrivalAt: ctx.firstArrivalAt, routineId: ctx.routineId, jobId: ctx.jobId });
        return { a: queues.a?.length ?? 0, b: queues.b?.length ?? 0 };
      },
    });
    const { flow, seen } = sinkFlow('customMixed', policy);
    const job = createRuntime({ clock }).exec(flow, { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    await flush();
    await clock.advance(50);
    job.post('sink', 'b', { v: 2 });
    job.complete();
    await job.wait();
    expect(seen).toHaveLength(2);
    expect(seenCtx).toEqual([
      { now: 1000, lastActivationAt: undefined, firstArrivalAt: 1000, routineId: 'sink', jobId: job.id },
      { now: 1050, lastActivationAt: 1000, firstArrivalAt: 1050, routineId: 'sink', jobId: job.id },
    ]);
  });

  it('rejects a missing name or ready with InvalidOptionError', () => {
    expect(() => policies.custom({ name: '', ready: () => true })).toThrow(InvalidOptionError);
    expect(() => policies.custom({ name: 'x', ready: undefined as unknown as () => boolean })).toThrow(InvalidOptionError);
  });
});

describe('policy overrides', () => {
  it('a flow.add policy overrides the routine definition policy', async () => {
    const seen: number[] = [];
    const r = defineRoutine({
      name: 'r',
      slots: ['in'],
      policy: policies.batch(100),
      run({ slots }) {
        seen.push(slots.in.length);
      },
    });
    const flow = createFlow('override').add('r', r, { policy: policies.batch(2) });
    const job = createRuntime().exec(flow, { keepAlive: true });
    for (let i = 0; i < 4; i++) job.post('r', 'in', { i });
    job.complete();
    await job.wait();
    expect(seen).toEqual([2, 2]);
  });
});

describe('slot queues are bounded (maxQueue)', () => {
  const sink = defineRoutine({ name: 'sink', slots: ['a'], policy: policies.batch(10), run() {} });

  function flowWithFullQueue(onError: 'stop' | 'continue') {
    const source = defineRoutine({
      name: 'src',
      slots: ['go'],
      events: { out: ['v'] },
      onError,
      run({ emit }) {
        for (let v = 1; v <= 3; v++) emit('out', { v });
      },
    });
    return createFlow(`full-${onError}`).add('src', source).add('sink', sink, { maxQueue: 2 }).connect('src.out', 'sink.a');
  }

  it('a delivery to a full queue fails the emitting activation with SlotQueueFullError naming flow, routine and slot', async () => {
    const job = createRuntime().exec(flowWithFullQueue('stop'), { params: {} });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('failed');
    expect(job.error).toBeInstanceOf(RoutineError);
    expect((job.error as RoutineError).routineId).toBe('src');
    const cause = (job.error as RoutineError).cause;
    expect(cause).toBeInstanceOf(SlotQueueFullError);
    const full = cause as SlotQueueFullError;
    expect(full.name).toBe('SlotQueueFullError');
    expect([full.flowId, full.routineId, full.slot]).toEqual(['full-stop', 'sink', 'a']);
    expect(full.message).toContain("'full-stop'");
    expect(full.message).toContain("'sink'");
    expect(full.message).toContain("'a'");
    expect(state.routines.sink!.pending.a).toHaveLength(2);
  });

  it("the emitting routine's strategy handles it: with continue the job completes and nothing is dropped silently", async () => {
    const job = createRuntime().exec(flowWithFullQueue('continue'), { params: {} });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(state.routines.src!.errors).toBe(1);
    expect(state.history.find((h) => h.routineId === 'src')?.error).toBeInstanceOf(SlotQueueFullError);
    expect(state.routines.sink!.pending.a).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it('posting into a full queue throws SlotQueueFullError', async () => {
    const job = createRuntime().exec(createFlow('fullPost').add('sink', sink, { maxQueue: 2 }), { keepAlive: true });
    job.post('sink', 'a', { v: 1 });
    job.post('sink', 'a', { v: 2 });
    expect(() => {
      job.post('sink', 'a', { v: 3 });
    }).toThrow(SlotQueueFullError);
    expect(job.state.routines.sink!.pending.a).toHaveLength(2);
    job.complete();
    expect((await job.wait()).status).toBe('completed');
  });
});

describe('policy slots', () => {
  it('a policy naming a slot the routine does not have is a validation problem', () => {
    const { flow } = sinkFlow('badSlots', policies.batch(2, { slots: ['zzz'] }));
    const problems = flow.validate();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('routines.sink.policy');
    expect(problems[0]!.message).toContain("'zzz'");
  });
});
