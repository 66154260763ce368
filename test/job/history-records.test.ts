/**
 * Each activation's history record counts what it consumed and emitted, per slot and per event, job after job on
 * the same runtime (whose routine actors are reused): one activation's counts never show up in another's.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, policies } from 'slotflow';
import { useRuntimes } from '../helpers/runtimes.js';

const makeRuntime = useRuntimes();

const source = defineRoutine({
  name: 'source',
  slots: ['in'],
  events: { item: ['i'], go: [] },
  run(ctx) {
    const k = Number(ctx.slots.in[0]?.k);
    for (let i = 0; i < k; i++) ctx.emit('item', { i });
    ctx.emit('go', {});
  },
});

// Runs once `go` arrived with at least one item, taking every item and the `go`; emits `done` once per item.
const sink = defineRoutine({
  name: 'sink',
  slots: ['in', 'go'],
  events: { done: [] },
  policy: policies.custom({
    name: 'items-then-go',
    ready: (queues) => (queues.in?.length ?? 0) > 0 && (queues.go?.length ?? 0) > 0,
    take: (queues) => ({ in: queues.in?.length ?? 0, go: 1 }),
  }),
  run(ctx) {
    for (const _ of ctx.slots.in) ctx.emit('done', {});
  },
});

const flow = createFlow('history-records').add('source', source).add('sink', sink).connect('source.item', 'sink.in').connect('source.go', 'sink.go').entry('source', 'in');

describe('history records', () => {
  it('count what each activation consumed and emitted, job after job', async () => {
    const runtime = makeRuntime();
    const records = [];
    for (const k of [1, 3, 1, 0, 2, 1]) {
      const state = await runtime.exec(flow, { params: { k } }).wait();
      expect(state.status).toBe('completed');
      records.push(state.history.map(({ routineId, consumed, emitted }) => ({ routineId, consumed: { ...consumed }, emitted: { ...emitted } })));
    }
    const job = (k: number) => [
      { routineId: 'source', consumed: { in: 1 }, emitted: k === 0 ? { go: 1 } : { item: k, go: 1 } },
      ...(k === 0 ? [] : [{ routineId: 'sink', consumed: { in: k, go: 1 }, emitted: { done: k } }]),
    ];
    expect(records).toEqual([job(1), job(3), job(1), job(0), job(2), job(1)]);
  });

  it('an activation that emits nothing records no emissions, and one that fails records what it emitted before', async () => {
    const quiet = defineRoutine({
      name: 'quiet',
      slots: ['in'],
      events: { out: [] },
      onError: 'continue',
      run(ctx) {
        if (ctx.slots.in[0]?.fail === true) {
          ctx.emit('out', {});
          throw new Error('after one emission');
        }
      },
    });
    const runtime = makeRuntime();
    const single = createFlow('quiet').add('q', quiet).entry('q', 'in');
    const failed = await runtime.exec(single, { params: { fail: true } }).wait();
    const silent = await runtime.exec(single, { params: { fail: false } }).wait();
    expect(failed.history.map((r) => ({ ...r.emitted }))).toEqual([{ out: 1 }]);
    expect(failed.history[0]?.outcome).toBe('error');
    expect(silent.history.map((r) => ({ ...r.emitted }))).toEqual([{}]);
    expect(silent.history[0]?.outcome).toBe('ok');
  });
});
