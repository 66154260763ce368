/**
 * Every name a user gives (slot, event, connection, routine) is data inside the engine: names that collide with
 * `Object.prototype` members work like any other name (or are rejected at definition), never loop, never disable
 * a cycle bound.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine } from 'slotflow';
import { useRuntimes } from '../helpers/runtimes.js';

const makeRuntime = useRuntimes();
const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'] as const;

describe('names that collide with Object.prototype', () => {
  it.each(NAMES)('a connection named %s bounds its cycle (4 activations, exact cycles record)', async (name) => {
    const loop = defineRoutine({
      name: 'loop',
      slots: ['input'],
      events: { again: ['n'] },
      run({ slots, emit }) {
        for (const { n } of slots.input) emit('again', { n: Number(n) + 1 });
      },
    });
    const flow = createFlow('cycle').add('loop', loop).connect('loop.again', 'loop.input', { name, maxIterations: 3 }).entry('loop', 'input');
    const job = await makeRuntime().exec(flow, { params: { n: 0 } }).wait();
    expect(job.status).toBe('completed');
    expect(job.routines.loop?.activations).toBe(4);
    expect(Object.keys(job.cycles)).toEqual([name]);
    expect(job.cycles[name]).toEqual({ iterations: 3, converged: false });
    expect(job.outputs['loop.again']).toEqual([{ n: 4 }]);
  });

  it.each(NAMES)('a slot, event and routine named %s work like any other name', async (name) => {
    const source = defineRoutine({
      name: 'source',
      slots: [name],
      events: { [name]: ['v'] },
      run({ slots, emit }) {
        for (const p of slots[name] as readonly { v?: unknown }[]) emit(name, { v: p.v });
      },
    });
    const sink = defineRoutine({
      name: 'sink',
      slots: [name],
      events: { done: ['v'] },
      run({ slots, emit }) {
        for (const p of slots[name] as readonly { v?: unknown }[]) emit('done', { v: p.v });
      },
    });
    const flow = createFlow('names').add(name, source).add('sink', sink).connect(`${name}.${name}`, `sink.${name}`).entry(name, name);
    const rt = makeRuntime();
    const job = await rt.exec(flow, { params: { v: 1 } }).wait();
    expect(job.status).toBe('completed');
    expect(job.outputs['sink.done']).toEqual([{ v: 1 }]);
    expect(job.routines[name]?.activations).toBe(1);
  });
});
