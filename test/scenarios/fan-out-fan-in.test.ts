/**
 * A request is split into items, each item goes to two branches in parallel (one slow, one fast), and a join
 * pairs the branch results up again with `policies.allReady()`.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, policies, type PolicyMessage } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { flush } from '../helpers/flush.js';

function build(clock: ManualClock) {
  const split = defineRoutine({
    name: 'split',
    slots: ['request'],
    events: { item: ['n'] },
    run({ slots, emit }) {
      for (const { items } of slots.request) for (const n of items as number[]) emit('item', { n });
    },
  });

  // One definition, two instances configured differently.
  const math = defineRoutine({
    name: 'math',
    slots: ['input'],
    events: { result: ['n', 'value'] },
    config: { op: 'square', delayMs: 10 },
    async run({ slots, emit, config, signal }) {
      for (const { n } of slots.input) {
        await clock.sleep(config.delayMs, signal);
        const x = Number(n);
        emit('result', { n: x, value: config.op === 'square' ? x * x : x * 2 });
      }
    },
  });

  const triggers: PolicyMessage[] = [];
  const join = defineRoutine({
    name: 'join',
    slots: ['squares', 'doubles'],
    events: { pair: ['n', 'square', 'double', 'matched'] },
    policy: policies.allReady(),
    run({ slots, emit, trigger }) {
      if (trigger.message) triggers.push(trigger.message);
      expect(slots.squares).toHaveLength(1);
      expect(slots.doubles).toHaveLength(1);
      const [sq] = slots.squares;
      const [db] = slots.doubles;
      emit('pair', { n: sq?.n, square: sq?.value, double: db?.value, matched: sq?.n === db?.n });
    },
  });

  const flow = createFlow('fan_out_fan_in')
    .add('split', split)
    .add('square', math, { config: { op: 'square', delayMs: 30 } })
    .add('double', math, { config: { op: 'double', delayMs: 10 } })
    .add('join', join)
    .connect('split.item', 'square.input')
    .connect('split.item', 'double.input')
    .connect('square.result', 'join.squares')
    .connect('double.result', 'join.doubles')
    .entry('split', 'request');
  return { flow, triggers };
}

describe('scenario: fan-out / fan-in', () => {
  it('runs both branches for every item and joins their results pairwise, in order', async () => {
    const clock = new ManualClock();
    const { flow, triggers } = build(clock);
    await using rt = createRuntime({ clock, concurrency: 4 });

    const job = rt.exec(flow, { params: { items: [1, 2, 3] } });
    await flush();
    // The fast branch is done long before the slow one: the join waits for both.
    await clock.advance(30);
    expect(job.status).toBe('running');
    expect(job.state.routines.join?.pending.doubles?.length).toBeGreaterThanOrEqual(1);
    await clock.advance(100);
    const state = await job.wait();

    expect(state.status).toBe('completed');
    expect(state.outputs['join.pair']).toEqual([
      { n: 1, square: 1, double: 2, matched: true },
      { n: 2, square: 4, double: 4, matched: true },
      { n: 3, square: 9, double: 6, matched: true },
    ]);
    expect(triggers).toEqual([{ reason: 'allReady' }, { reason: 'allReady' }, { reason: 'allReady' }]);
    expect(state.routines.join?.activations).toBe(3);
    expect(state.routines.join?.pending).toEqual({});
    const consumedBy = (id: string) => state.history.filter((r) => r.routineId === id).reduce((sum, r) => sum + (r.consumed.input ?? 0), 0);
    expect(consumedBy('square')).toBe(3);
    expect(consumedBy('double')).toBe(3);
    expect(state.outputs['split.item']).toBeUndefined();
  });

  it('keeps concurrent jobs of the same flow apart', async () => {
    const clock = new ManualClock();
    const { flow } = build(clock);
    await using rt = createRuntime({ clock, concurrency: 3 });

    const a = rt.exec(flow, { params: { items: [1, 2] } });
    const b = rt.exec(flow, { params: { items: [10] } });
    await flush();
    await clock.advance(200);
    const [sa, sb] = await Promise.all([a.wait(), b.wait()]);

    expect(sa.outputs['join.pair']).toEqual([
      { n: 1, square: 1, double: 2, matched: true },
      { n: 2, square: 4, double: 4, matched: true },
    ]);
    expect(sb.outputs['join.pair']).toEqual([{ n: 10, square: 100, double: 20, matched: true }]);
  });

  it('reports a half-finished join as pending when one branch fails', async () => {
    const clock = new ManualClock();
    const split = defineRoutine({
      name: 'split',
      slots: ['request'],
      events: { item: ['n'] },
      run({ emit }) {
        emit('item', { n: 1 });
      },
    });
    const ok = defineRoutine({
      name: 'ok',
      slots: ['input'],
      events: { result: ['n'] },
      run({ slots, emit }) {
        for (const { n } of slots.input) emit('result', { n });
      },
    });
    const broken = defineRoutine({
      name: 'broken',
      slots: ['input'],
      events: { result: ['n'] },
      run() {
        throw new Error('branch down');
      },
    });
    const join = defineRoutine({ name: 'join', slots: ['left', 'right'], policy: policies.allReady(), run() {} });
    const flow = createFlow('half_join')
      .add('split', split)
      .add('ok', ok)
      .add('broken', broken)
      .add('join', join)
      .connect('split.item', 'ok.input')
      .connect('split.item', 'broken.input')
      .connect('ok.result', 'join.left')
      .connect('broken.result', 'join.right')
      .onError('continue');
    await using rt = createRuntime({ clock });

    const state = await rt.exec(flow, { params: {} }).wait();

    expect(state.status).toBe('completed');
    expect(state.routines.broken?.errors).toBe(1);
    expect(state.routines.join?.activations).toBe(0);
    expect(state.routines.join?.pending).toEqual({ left: [{ n: 1 }] });
  });
});
