/**
 * A finished job's state and events as remote readers get them: the same as the job's state in a local runtime,
 * with its errors (the job's, its activations') as data, and the events of every write in order.
 */
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, event, slot, type JobState } from 'slotflow';
import { createDistributedRuntime, createWorker } from 'slotflow/distributed';
import { useDistributedTest } from './useDistributedTest.js';

const dist = useDistributedTest('f');

/** `check` fails on an order without lines; `tally` sums the lines of the others. */
function orderFlow() {
  const check = defineRoutine({
    name: 'check',
    slots: { order: slot<{ id: number; lines: number[] }>() },
    events: { checked: event<{ id: number; lines: number[] }>() },
    run({ slots, emit, setState }) {
      for (const order of slots.order) {
        if (order.lines.length === 0) throw new Error(`order ${String(order.id)} has no lines`);
        setState({ last: order.id });
        emit('checked', order);
      }
    },
  });
  const tally = defineRoutine({
    name: 'tally',
    slots: { checked: slot<{ id: number; lines: number[] }>() },
    events: { total: event<{ id: number; total: number }>() },
    run({ slots, emit }) {
      for (const { id, lines } of slots.checked) emit('total', { id, total: lines.reduce((a, b) => a + b, 0) });
    },
  });
  return createFlow('orders').add('check', check).add('tally', tally).connect('check.checked', 'tally.checked');
}

/** What a reader compares: the state without its clock readings, errors as their name, code and message. */
function comparable(state: Pick<JobState, 'status' | 'params' | 'outputs' | 'routines' | 'shared' | 'log' | 'cycles' | 'history'> & { readonly error?: { name: string; message: string; code?: string } }) {
  const error = (e: { name: string; message: string; code?: string } | undefined) => (e ? { name: e.name, message: e.message, code: e.code } : undefined);
  return {
    status: state.status,
    params: state.params,
    outputs: state.outputs,
    routines: state.routines,
    shared: state.shared,
    log: state.log,
    cycles: state.cycles,
    error: error(state.error),
    history: state.history.map((h) => ({ routineId: h.routineId, attempt: h.attempt, outcome: h.outcome, consumed: { ...h.consumed }, emitted: { ...h.emitted }, error: error(h.error) })),
  };
}

describe('a finished job read from Redis', () => {
  it.each([
    ['completed', { id: 1, lines: [2, 3, 4] }],
    ['failed', { id: 2, lines: [] }],
  ])('%s: its state is the local runtime\'s, errors as data; its events end with the final one', async (status, params) => {
    const queue = dist.nextQueue();
    const producer = createDistributedRuntime({ connection: dist.server.url, queue });
    const worker = createWorker({ connection: dist.server.url, queue, flows: [orderFlow()], onError: () => undefined });
    dist.opened.push(producer, worker);
    await worker.ready();
    const job = await producer.exec('orders', { params });
    const events = firstValueFrom(job.events$.pipe(toArray()));
    // The same job (same id) in a local runtime: what the worker's runtime had when the job ended.
    const local = createRuntime();
    local.register(orderFlow());
    const expected = await local.exec('orders', { params, jobId: job.id }).wait();
    await local.shutdown();
    const state = await job.wait({ timeoutMs: 30_000 });
    expect(state.status).toBe(status);
    expect(comparable(state)).toEqual(comparable(expected));
    expect(await job.getState()).toEqual(state);
    if (status === 'failed') {
      // A slotflow error travels as its toJSON() (its own fields too).
      expect(state.error).toEqual(JSON.parse(JSON.stringify(expected.error)));
      expect(state.history[0]?.error).toEqual({ name: 'Error', message: 'order 2 has no lines' });
      expect(state.error).not.toBeInstanceOf(Error);
    }
    const seen = await events;
    expect(seen.at(-1)).toMatchObject({ type: `job.${status}`, jobId: job.id, flowId: 'orders' });
    expect(seen.filter((e) => e.type.startsWith('job.') && ['job.completed', 'job.failed', 'job.cancelled'].includes(e.type))).toHaveLength(1);
    const failed = seen.find((e) => 'error' in e);
    if (status === 'failed') expect(failed && 'error' in failed ? failed.error : undefined).toMatchObject({ name: expect.any(String) as string, message: expect.any(String) as string });
  }, 45_000);
});
