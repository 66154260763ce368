/**
 * Payload validation modes (`createRuntime({ validation })`): 'strict' by default, 'warn' delivers a schema failure
 * with a `job.warning` event, 'off' checks neither schemas nor declared fields.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, type StandardSchemaV1 } from 'slotflow';
import { useRuntimes } from '../helpers/runtimes.js';

const makeRuntime = useRuntimes();

/** A Standard Schema (as zod or valibot would give): `{ x: finite number }`. */
const finiteX: StandardSchemaV1<{ x: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => {
      const x = (value as { x?: unknown }).x;
      return typeof x === 'number' && Number.isFinite(x) ? { value: value as { x: number } } : { issues: [{ message: 'expected a finite number', path: ['x'] }] };
    },
  },
};

function flowEmitting(payload: Record<string, unknown>) {
  const calc = defineRoutine({
    name: 'calc',
    slots: ['in'],
    events: { out: finiteX },
    run({ emit }) {
      emit('out', payload as { x: number });
    },
  });
  const counted = defineRoutine({
    name: 'counted',
    slots: ['in'],
    events: { out: ['n'] },
    run({ emit }) {
      emit('out', payload as { n: number });
    },
  });
  return { schema: createFlow('schema').add('calc', calc), fields: createFlow('fields').add('counted', counted) };
}

describe('createRuntime({ validation })', () => {
  it("defaults to 'strict': a schema failure fails the job instead of reaching its outputs", async () => {
    const state = await makeRuntime().exec(flowEmitting({ x: Number.NaN }).schema).wait();
    expect(state.status).toBe('failed');
    expect(state.outputs['calc.out']).toBeUndefined();
    expect(state.error?.message).toMatch(/calc.*x: expected a finite number/s);
  });

  it("'warn' delivers a schema failure", async () => {
    const rt = makeRuntime({ validation: 'warn' });
    const state = await rt.exec(flowEmitting({ x: Number.NaN }).schema).wait();
    expect(state.status).toBe('completed');
    expect(state.outputs['calc.out']).toEqual([{ x: Number.NaN }]);
  });

  it("'warn' still fails on a missing declared field", async () => {
    const state = await makeRuntime({ validation: 'warn' }).exec(flowEmitting({}).fields).wait();
    expect(state.status).toBe('failed');
    expect(state.error?.message).toMatch(/missing field 'n'/);
  });

  it("'off' checks nothing: neither schemas nor declared fields", async () => {
    const rt = makeRuntime({ validation: 'off' });
    const { schema, fields } = flowEmitting({});
    const a = await rt.exec(schema).wait();
    const b = await rt.exec(fields).wait();
    expect(a.status).toBe('completed');
    expect(a.outputs['calc.out']).toEqual([{}]);
    expect(b.status).toBe('completed');
    expect(b.outputs['counted.out']).toEqual([{}]);
  });
});
