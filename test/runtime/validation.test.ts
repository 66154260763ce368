/**
 * Payload validation modes (`createRuntime({ validation })`): 'strict' by default, 'warn' delivers a schema failure
 * with a `job.warning` event, 'off' checks neither schemas nor declared fields.
 */
import { describe, expect, it, vi } from 'vitest';
import { createFlow, defineRoutine, policies, type JobEvent, type StandardSchemaV1 } from 'slotflow';
import { ofType } from 'slotflow/rx';
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

  it("'warn' delivers a schema failure and reports it as a job.warning event, not a process warning", async () => {
    const processWarnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const rt = makeRuntime({ validation: 'warn' });
    const job = rt.exec(flowEmitting({ x: Number.NaN }).schema);
    const events: JobEvent[] = [];
    job.events$.subscribe((e) => events.push(e));
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(state.outputs['calc.out']).toEqual([{ x: Number.NaN }]);
    const warnings = events.filter((e) => e.type === 'job.warning');
    expect(warnings).toEqual([expect.objectContaining({ type: 'job.warning', jobId: job.id, flowId: 'schema', code: 'payload.invalid', routineId: 'calc' })]);
    expect(warnings[0]?.message).toMatch(/event 'out' of routine 'calc'.*x: expected a finite number/);
    expect(processWarnings).not.toHaveBeenCalled();
    processWarnings.mockRestore();
  });

  it("'warn' still fails on a missing declared field", async () => {
    const state = await makeRuntime({ validation: 'warn' }).exec(flowEmitting({}).fields).wait();
    expect(state.status).toBe('failed');
    expect(state.error?.message).toMatch(/missing field 'n'/);
  });

  it("'off' checks nothing: neither schemas nor declared fields", async () => {
    const rt = makeRuntime({ validation: 'off' });
    const events: JobEvent[] = [];
    rt.events$.subscribe((e) => events.push(e));
    const { schema, fields } = flowEmitting({});
    const a = await rt.exec(schema).wait();
    const b = await rt.exec(fields).wait();
    expect(a.status).toBe('completed');
    expect(a.outputs['calc.out']).toEqual([{}]);
    expect(b.status).toBe('completed');
    expect(b.outputs['counted.out']).toEqual([{}]);
    expect(events.filter((e) => e.type === 'job.warning')).toEqual([]);
  });
});

describe('job.warning for data left pending', () => {
  it('a completed job with data no activation took sends one warning naming each routine and slot', async () => {
    const join = defineRoutine({ name: 'join', slots: ['left', 'right'], policy: policies.allReady(), run() {} });
    const flow = createFlow('pending').add('a', join).add('b', join).entry('a', 'left');
    const rt = makeRuntime();
    const job = rt.exec(flow, { params: { n: 1 }, keepAlive: true });
    const events: JobEvent[] = [];
    job.events$.subscribe((e) => events.push(e));
    const codes: string[] = [];
    rt.events$.pipe(ofType('job.warning')).subscribe((e) => codes.push(e.code));
    job.post('b', 'right', { n: 2 });
    job.post('b', 'right', { n: 3 });
    job.complete();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(state.routines.a?.pending).toEqual({ left: [{ n: 1 }] });
    const warnings = events.filter((e) => e.type === 'job.warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'data.pending', jobId: job.id });
    expect(codes).toEqual(['data.pending']);
    expect(warnings[0]?.message).toMatch(/a\.left \(1\), b\.right \(2\)/);
    expect(events.at(-1)?.type).toBe('job.completed');
  });

  it('a job that took everything sends none', async () => {
    const rt = makeRuntime();
    const job = rt.exec(createFlow('clean').add('r', defineRoutine({ name: 'r', slots: ['in'], run() {} })));
    const events: JobEvent[] = [];
    job.events$.subscribe((e) => events.push(e));
    await job.wait();
    expect(events.map((e) => e.type)).not.toContain('job.warning');
  });
});
