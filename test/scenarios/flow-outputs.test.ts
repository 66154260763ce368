/**
 * A flow's results: payloads of events that no connection takes are collected in the job state's
 * `outputs['<routineId>.<event>']`, in emission order.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, RoutineError } from 'slotflow';

const classify = defineRoutine({
  name: 'classify',
  slots: ['numbers'],
  events: { even: ['n'], odd: ['n'], summary: ['count'] },
  run({ slots, emit }) {
    let count = 0;
    for (const { values } of slots.numbers)
      for (const n of values as number[]) {
        emit(n % 2 === 0 ? 'even' : 'odd', { n });
        count++;
      }
    emit('summary', { count });
  },
});

const store = defineRoutine({
  name: 'store',
  slots: ['in'],
  events: { stored: ['n', 'key'] },
  run({ slots, emit }) {
    for (const { n } of slots.in) emit('stored', { n, key: `k${String(n)}` });
  },
});

const flow = createFlow('classify_numbers').add('classify', classify).add('store', store).connect('classify.even', 'store.in');

describe('scenario: flow outputs', () => {
  it('collects the payloads of unconnected events, per routine and event, in order', async () => {
    await using rt = createRuntime();
    const state = await rt.exec(flow, { params: { values: [1, 2, 3, 4, 5, 6] } }).wait();

    expect(state.status).toBe('completed');
    expect(state.outputs).toEqual({
      'classify.odd': [{ n: 1 }, { n: 3 }, { n: 5 }],
      'classify.summary': [{ count: 6 }],
      'store.stored': [
        { n: 2, key: 'k2' },
        { n: 4, key: 'k4' },
        { n: 6, key: 'k6' },
      ],
    });
    // A connected event is delivered, not collected.
    expect(state.outputs['classify.even']).toBeUndefined();
  });

  it('gives each job its own outputs', async () => {
    await using rt = createRuntime();
    const [a, b] = await Promise.all([rt.exec(flow, { params: { values: [1] } }).wait(), rt.exec(flow, { params: { values: [2, 4] } }).wait()]);

    expect(a.outputs).toEqual({ 'classify.odd': [{ n: 1 }], 'classify.summary': [{ count: 1 }] });
    expect(b.outputs).toEqual({
      'classify.summary': [{ count: 2 }],
      'store.stored': [
        { n: 2, key: 'k2' },
        { n: 4, key: 'k4' },
      ],
    });
  });

  it('keeps what was emitted before a failure: in the outputs of a failed job, and delivered under continue', async () => {
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      events: { partial: ['step'], forward: ['step'] },
      run({ emit }) {
        emit('partial', { step: 1 });
        emit('forward', { step: 1 });
        throw new Error('half way');
      },
    });
    const after = defineRoutine({
      name: 'after',
      slots: ['in'],
      events: { seen: ['step'] },
      run({ slots, emit }) {
        for (const { step } of slots.in) emit('seen', { step });
      },
    });
    const build = (id: string) => createFlow(id).add('flaky', flaky).add('after', after).connect('flaky.forward', 'after.in');
    await using rt = createRuntime();

    const stopped = rt.exec(build('stops'), { params: {} });
    const failed = await stopped.wait();
    expect(failed.status).toBe('failed');
    expect(stopped.error).toBeInstanceOf(RoutineError);
    expect(failed.outputs['flaky.partial']).toEqual([{ step: 1 }]);

    const goesOn = await rt.exec(build('continues').onError('continue'), { params: {} }).wait();
    expect(goesOn.status).toBe('completed');
    expect(goesOn.outputs['flaky.partial']).toEqual([{ step: 1 }]);
    expect(goesOn.outputs['after.seen']).toEqual([{ step: 1 }]);
    expect(goesOn.routines.flaky?.errors).toBe(1);
  });

  it('has empty outputs when every event is connected', async () => {
    const relay = defineRoutine({
      name: 'relay',
      slots: ['in'],
      events: { out: ['v'] },
      run({ slots, emit }) {
        for (const { v } of slots.in) emit('out', { v });
      },
    });
    const quiet = defineRoutine({ name: 'quiet', slots: ['in'], run() {} });
    await using rt = createRuntime();
    const state = await rt.exec(createFlow('closed').add('relay', relay).add('quiet', quiet).connect('relay.out', 'quiet.in'), { params: { v: 1 } }).wait();
    expect(state.outputs).toEqual({});
  });
});
