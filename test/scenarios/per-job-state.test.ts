/**
 * One routine definition serves many jobs at once: each job has its own routine state, and the definition holds
 * none. Twenty jobs of one flow run concurrently, their activations interleaved by the scheduler and the clock.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { flush } from '../helpers/flush.js';

interface CounterState {
  count: number;
  owner: string | undefined;
  batches: number[];
}

describe('scenario: per-job routine state', () => {
  it('keeps each of 20 concurrent jobs’ routine state to itself', async () => {
    const clock = new ManualClock();
    const violations: string[] = [];

    const feeder = defineRoutine({
      name: 'feeder',
      slots: ['start'],
      events: { tick: ['i'] },
      async run({ slots, emit, signal }) {
        for (const { n, delayMs } of slots.start) {
          for (let i = 0; i < Number(n); i++) {
            await clock.sleep(Number(delayMs), signal);
            emit('tick', { i });
          }
        }
      },
    });

    const initialState: CounterState = { count: 0, owner: undefined, batches: [] };
    const counter = defineRoutine({
      name: 'counter',
      slots: ['tick'],
      events: { total: ['count'] },
      initialState,
      async run({ slots, state, setState, job, signal, emit }) {
        if (state.owner !== undefined && state.owner !== job.id) violations.push(`${job.id} saw ${state.owner}`);
        await clock.sleep(3, signal); // other jobs run meanwhile
        setState((draft) => {
          draft.owner = job.id;
          draft.count += slots.tick.length;
          draft.batches.push(slots.tick.length);
        });
        emit('total', { count: state.count + slots.tick.length });
      },
    });

    const flow = createFlow('counting').add('feeder', feeder).add('counter', counter).connect('feeder.tick', 'counter.tick');
    await using rt = createRuntime({ clock, concurrency: 5 });

    const jobs = Array.from({ length: 20 }, (_, k) => rt.exec(flow, { params: { n: k + 1, delayMs: 1 + (k % 4) } }));
    await flush();
    await clock.advance(500);
    const states = await Promise.all(jobs.map((j) => j.wait()));

    expect(violations).toEqual([]);
    states.forEach((state, k) => {
      expect(state.status).toBe('completed');
      const mine = state.routines.counter?.state as CounterState;
      expect(mine.count).toBe(k + 1);
      expect(mine.owner).toBe(jobs[k]?.id);
      expect(mine.batches.reduce((a, b) => a + b, 0)).toBe(k + 1);
      expect(state.outputs['counter.total']?.at(-1)).toEqual({ count: k + 1 });
    });
    // The definition's initial state is untouched: every job started from a clean copy.
    expect(initialState).toEqual({ count: 0, owner: undefined, batches: [] });
    expect(counter.initialState).toEqual({ count: 0, owner: undefined, batches: [] });
  });

  it('starts a later job of the same flow from the initial state again', async () => {
    const bump = defineRoutine({
      name: 'bump',
      slots: ['in'],
      initialState: { hits: 0 },
      run({ setState }) {
        setState((draft) => {
          draft.hits += 1;
        });
      },
    });
    const flow = createFlow('bumps').add('bump', bump);
    await using rt = createRuntime();

    const first = await rt.exec(flow, { params: {} }).wait();
    const second = await rt.exec(flow, { params: {} }).wait();

    expect(first.routines.bump?.state).toEqual({ hits: 1 });
    expect(second.routines.bump?.state).toEqual({ hits: 1 });
  });

  it('replaces the state when setState gets a value instead of a recipe', async () => {
    const swap = defineRoutine({
      name: 'swap',
      slots: ['in'],
      initialState: { mode: 'a' },
      run({ slots, setState }) {
        for (const { mode } of slots.in) setState({ mode: String(mode) });
      },
    });
    await using rt = createRuntime();
    const state = await rt.exec(createFlow('swap').add('swap', swap), { params: { mode: 'b' } }).wait();
    expect(state.routines.swap?.state).toEqual({ mode: 'b' });
  });
});
