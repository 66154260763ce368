/**
 * A snapshot cut between an activation's `emit` and its end: restoring it replays the activation, skipping what it
 * had delivered, so one input gives one result (not two).
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, policies, SnapshotError, type JobSnapshot } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';

const viaJson = (snapshot: JobSnapshot): JobSnapshot => JSON.parse(JSON.stringify(snapshot)) as JobSnapshot;

function emitThenAwait(gate: Promise<void>) {
  const emitter = defineRoutine({
    name: 'emitter',
    slots: ['in'],
    events: { out: ['v'] },
    initialState: { steps: 0 },
    async run({ emit, setState }) {
      setState((s) => {
        s.steps += 1;
      });
      emit('out', { v: 1 });
      await gate;
      emit('out', { v: 2 });
    },
  });
  const counter = defineRoutine({
    name: 'counter',
    slots: ['in'],
    events: { seen: ['v'] },
    run({ slots, emit }) {
      for (const { v } of slots.in) emit('seen', { v });
    },
  });
  return createFlow('cut').add('emitter', emitter).add('counter', counter, { policy: policies.batch(1) }).connect('emitter.out', 'counter.in');
}

describe('a snapshot taken between emit and the end of the activation', () => {
  it('restores to one result per input: the replay skips the emission delivered before the cut', async () => {
    const gate = deferred();
    const first = createRuntime();
    const job = first.exec(emitThenAwait(gate.promise), { params: {} });
    await flush();
    expect(job.state.outputs['counter.seen']).toEqual([{ v: 1 }]);
    const snapshot = viaJson(job.snapshot());
    expect(snapshot.routines.emitter!.machine).toBe('running');
    expect(snapshot.routines.emitter!.inflight!.delivered).toBe(1);
    // The state the activation started with, and the activation not counted yet: its re-run counts it once.
    expect(snapshot.routines.emitter!.state).toEqual({ steps: 0 });
    expect(snapshot.routines.emitter!.activations).toBe(0);
    await first.shutdown();
    gate.resolve();

    const second = createRuntime();
    const state = await second.exec(emitThenAwait(Promise.resolve()), { from: snapshot }).wait({ timeoutMs: 10_000 });
    await second.shutdown();
    expect(state.status).toBe('completed');
    expect(state.outputs['counter.seen']).toEqual([{ v: 1 }, { v: 2 }]);
    expect(state.routines.counter!.activations).toBe(2);
    expect(state.routines.emitter).toMatchObject({ activations: 1, state: { steps: 1 } });
    // The replayed activation's record counts both emissions, as the uninterrupted run's would.
    expect(state.history.filter((h) => h.routineId === 'emitter').map((h) => h.emitted)).toEqual([{ out: 2 }]);
  });

  it('replays only the attempt that was cut: what a failed earlier attempt emitted stays delivered once', async () => {
    const flow = (gate: Promise<void>) =>
      createFlow('retrycut').add(
        'flaky',
        defineRoutine({
          name: 'flaky',
          slots: ['in'],
          events: { out: ['v'] },
          onError: { retry: { max: 1 } },
          async run({ attempt, emit }) {
            emit('out', { v: attempt });
            if (attempt === 0) throw new Error('first attempt fails');
            await gate;
            emit('out', { v: 10 + attempt });
          },
        }),
      );
    const uninterrupted = await createRuntime().exec(flow(Promise.resolve()), { params: {} }).wait({ timeoutMs: 10_000 });
    expect(uninterrupted.outputs['flaky.out']).toEqual([{ v: 0 }, { v: 1 }, { v: 11 }]);

    const gate = deferred();
    const first = createRuntime();
    const job = first.exec(flow(gate.promise), { params: {} });
    await flush();
    const snapshot = viaJson(job.snapshot());
    expect(snapshot.routines.flaky!.inflight).toMatchObject({ attempt: 1, delivered: 1 });
    await first.shutdown();
    gate.resolve();

    const second = createRuntime();
    const state = await second.exec(flow(Promise.resolve()), { from: snapshot }).wait({ timeoutMs: 10_000 });
    await second.shutdown();
    expect(state.outputs).toEqual(uninterrupted.outputs);
    expect(state.routines.flaky).toMatchObject({ activations: 2, errors: 1 });
  });

  it('rejects a delivered count that is not an integer from 0 up', async () => {
    const gate = deferred();
    const first = createRuntime();
    const job = first.exec(emitThenAwait(gate.promise), { params: {} });
    await flush();
    const snapshot = viaJson(job.snapshot());
    await first.shutdown();
    gate.resolve();
    const rt = createRuntime();
    rt.register(emitThenAwait(Promise.resolve()));
    for (const delivered of [-1, 1.5, '1']) {
      const bad = { ...snapshot, routines: { ...snapshot.routines, emitter: { ...snapshot.routines.emitter!, inflight: { ...snapshot.routines.emitter!.inflight!, delivered } } } };
      expect(() => rt.restore(bad as unknown as JobSnapshot)).toThrow(SnapshotError);
      expect(() => rt.restore(bad as unknown as JobSnapshot)).toThrow(/'routines.emitter.inflight.delivered' must be an integer from 0 up/);
    }
    await rt.shutdown();
  });
});
