/**
 * Where finished jobs share data in their final states (history counts, an empty history, no cycles), it is immutable:
 * a mutation attempt throws, and no other job's state changes. Counts differ per activation where they should.
 */
import { createFlow, defineRoutine, type JobState } from 'slotflow';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { attempt } from '../helpers/attempt.js';

const runtime = useRuntimes();

const split = defineRoutine({
  name: 'split',
  slots: ['in'],
  events: { out: ['n'], toString: ['n'] },
  run({ slots, emit }) {
    for (const { n } of slots.in as { n: number }[]) for (let i = 0; i < n; i++) emit('out', { n: i });
  },
});
const sink = defineRoutine({
  name: 'sink',
  slots: ['in'],
  run({ slots, log }) {
    log(slots.in.length);
  },
});
const flow = createFlow('final-state').add('split', split).add('sink', sink).connect('split.out', 'sink.in').entry('split', 'in');

async function finalState(n: number): Promise<JobState> {
  const rt = runtime();
  return rt.exec(flow, { params: { n } }).wait();
}

describe('final state', () => {
  it('history counts: equal counts read equal across jobs, and a mutation attempt throws and changes no other job', async () => {
    const rt = runtime();
    const [a, b] = await Promise.all([rt.exec(flow, { params: { n: 2 } }).wait(), rt.exec(flow, { params: { n: 2 } }).wait()]);
    const [splitA] = a.history.filter((r) => r.routineId === 'split');
    const [splitB] = b.history.filter((r) => r.routineId === 'split');
    expect(splitA?.consumed).toEqual({ in: 1 });
    expect(splitA?.emitted).toEqual({ out: 2 });
    expect(attempt(() => ((splitA?.emitted as Record<string, number>).out = 99))).toBe('TypeError');
    expect(attempt(() => ((splitA?.consumed as Record<string, number>).in = 99))).toBe('TypeError');
    expect(splitB?.emitted).toEqual({ out: 2 });
    expect(splitB?.consumed).toEqual({ in: 1 });
    // An event named like an Object.prototype member that was not emitted reads as absent.
    expect((splitA?.emitted as Record<string, unknown>).toString).toBeUndefined();
  });

  it('history counts follow each activation: a job emitting a different number records its own count', async () => {
    const one = await finalState(1);
    const three = await finalState(3);
    const again = await finalState(1);
    const emitted = (state: JobState) => state.history.find((r) => r.routineId === 'split')?.emitted;
    expect([emitted(one), emitted(three), emitted(again)]).toEqual([{ out: 1 }, { out: 3 }, { out: 1 }]);
    // The sink's activations took what was queued each time: each record counts what its own activation took.
    expect(three.history.filter((r) => r.routineId === 'sink').map((r) => r.consumed.in)).toEqual(three.log);
    expect((three.log as number[]).reduce((sum, n) => sum + n, 0)).toBe(3);
  });

  it('empty cycles and history are immutable, and a job that records history keeps its own', async () => {
    const rt = runtime({ historyLimit: 0 });
    const quiet = await rt.exec(flow, { params: { n: 1 } }).wait();
    expect(quiet.history).toEqual([]);
    expect(quiet.log).toEqual([1]);
    expect(quiet.cycles).toEqual({});
    expect(attempt(() => (quiet.history as unknown[]).push({}))).toBe('TypeError');
    expect(attempt(() => ((quiet.cycles as Record<string, unknown>).edge = {}))).toBe('TypeError');
    const next = await finalState(1);
    expect(next.history.map((r) => r.routineId)).toEqual(['split', 'sink']);
    expect(next.log).toEqual([1]);
    expect(next.cycles).toEqual({});
  });
});
