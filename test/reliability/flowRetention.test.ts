/**
 * Flows do not pile up: `unregister(id)` forgets a registered flow, and a flow passed to `exec` directly is
 * forgotten (with its per-flow metrics, folded into the totals) once none of its jobs is held any more.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, isInvalidOptionError } from 'slotflow';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

const echo = defineRoutine({
  name: 'echo',
  slots: ['in'],
  events: { out: ['v'] },
  run({ slots, emit }) {
    for (const payload of slots.in) emit('out', { v: payload.v });
  },
});
const flowNamed = (id: string) => createFlow(id).add('e', echo);

describe('flows passed to exec', () => {
  it('are forgotten with their per-flow metrics once their jobs have left retention; the totals keep counting them', async () => {
    const rt = runtime({ retain: 1 });
    for (const id of ['f1', 'f2', 'f3']) await rt.exec(flowNamed(id), { params: { v: id } }).wait();
    expect(rt.flowIds).toEqual(['f3']);
    const metrics = rt.metrics();
    expect(Object.keys(metrics.flows)).toEqual(['f3']);
    expect(metrics.jobs.started).toBe(3);
    expect(metrics.jobs.completed).toBe(3);
    expect(metrics.activations.total).toBe(3);
    // A registered flow stays, whatever its jobs.
    rt.register(flowNamed('kept'));
    await rt.exec('kept', { params: { v: 1 } }).wait();
    await rt.exec(flowNamed('f4'), { params: { v: 1 } }).wait();
    expect(rt.flowIds.sort()).toEqual(['f4', 'kept']);
    expect(rt.metrics().jobs.started).toBe(5);
  });
});

describe('runtime.unregister', () => {
  it('refuses while jobs of the flow are unfinished, then forgets the flow so its id can be used again', async () => {
    const rt = runtime();
    rt.register(flowNamed('f'));
    const job = rt.exec('f', { keepAlive: true });
    let caught: unknown;
    try {
      rt.unregister('f');
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/flow 'f' has 1; cancel them or await them first/);
    job.complete();
    await job.wait();
    expect(rt.unregister('f')).toBe(true);
    expect(rt.flowIds).toEqual([]);
    expect(() => rt.exec('f')).toThrow(/Flow 'f' is not registered/);
    expect(rt.getJob(job.id)?.status).toBe('completed');
    expect(rt.unregister('f')).toBe(false);
    rt.register(createFlow('f').add('other', echo));
    expect((await rt.exec('f', { params: { v: 2 } }).wait()).outputs).toEqual({ 'other.out': [{ v: 2 }] });
  });
});
