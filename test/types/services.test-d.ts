import { describe, expectTypeOf, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, event, slot, type JobState, type Payload } from 'slotflow';
import { createTestRuntime } from 'slotflow/testing';

declare module 'slotflow' {
  interface ResourceTypes {
    typedTestPool: { query(sql: string): Promise<number> };
  }
}

const fetcher = defineRoutine({
  name: 'fetcher',
  slots: { trigger: slot<{ url: string }>() },
  events: { page: event<{ url: string; bytes: number }>(), failed: ['reason'] },
  run({ slots, emit }) {
    for (const { url } of slots.trigger) emit('page', { url, bytes: url.length });
  },
});

const joiner = defineRoutine({
  name: 'joiner',
  slots: { left: slot<{ l: number }>(), right: slot<{ r: string }>() },
  events: { joined: event<{ both: string }>() },
  run() {},
});

const loose = defineRoutine({ name: 'loose', slots: ['input'], events: { out: ['x'] }, run() {} });

const runtime = createRuntime();

describe('exec(flow, { params }) is checked against the entry slot', () => {
  it('takes the first routine’s only slot type by default', () => {
    const flow = createFlow('f').add('fetch', fetcher).add('sink', loose).connect('fetch.page', 'sink.input');
    runtime.exec(flow, { params: { url: 'https://example.org' } });
    // @ts-expect-error -- url must be a string
    runtime.exec(flow, { params: { url: 1 } });
    // @ts-expect-error -- url is required
    runtime.exec(flow, { params: {} });
    createTestRuntime().exec(flow, { params: { url: 'x' } });
    // @ts-expect-error -- the test runtime checks the same
    createTestRuntime().exec(flow, { params: { nope: true } });
  });

  it('follows entry(id, slot), and stays loose where slots are untyped or the slot is unknown to the types', () => {
    const flow = createFlow('j').add('join', joiner).add('fetch', fetcher).entry('join', 'right');
    runtime.exec(flow, { params: { r: 'x' } });
    // @ts-expect-error -- the entry is join.right
    runtime.exec(flow, { params: { l: 1 } });
    const reentered = createFlow('k').add('loose', loose).add('fetch', fetcher).entry('fetch');
    // @ts-expect-error -- entry('fetch') takes its only slot
    runtime.exec(reentered, { params: { x: 1 } });
    runtime.exec(createFlow('l').add('loose', loose), { params: { anything: 1 } });
    // Two slots and no entry(): which one is first is not known to the compiler.
    runtime.exec(createFlow('m').add('join', joiner), { params: { whatever: 1 } });
    runtime.exec('registered', { params: { whatever: 1 } });
  });
});

describe('state.outputs is typed per event', () => {
  it('types outputs["<routine>.<event>"] from the event payload, and rejects unknown keys', async () => {
    const flow = createFlow('f').add('fetch', fetcher).add('sink', loose).connect('fetch.page', 'sink.input');
    const job = runtime.exec(flow, { params: { url: 'x' } });
    const state = await job.wait();
    expectTypeOf(state.outputs['fetch.page']).toEqualTypeOf<readonly { url: string; bytes: number }[] | undefined>();
    expectTypeOf(job.state.outputs['sink.out']).toEqualTypeOf<readonly Readonly<Record<'x', unknown>>[] | undefined>();
    // @ts-expect-error -- no such event
    expectTypeOf(state.outputs['fetch.pages']).toBeUnknown();
    // A typed job is still a Job and its state a JobState.
    expectTypeOf(state).toExtend<JobState>();
    const byId = runtime.getJob(job.id);
    expectTypeOf(byId?.state.outputs).toEqualTypeOf<Readonly<Record<string, readonly Payload[]>> | undefined>();
  });
});

describe('run context services', () => {
  it('types resource() from ResourceTypes, progress() and cleanup()', () => {
    defineRoutine({
      name: 'svc',
      slots: ['in'],
      initialState: { rows: 0 },
      async run({ resource, progress }) {
        const pool = await resource('typedTestPool');
        expectTypeOf(pool.query).toEqualTypeOf<(sql: string) => Promise<number>>();
        expectTypeOf(await resource('undeclared')).toBeUnknown();
        progress({ done: 1, total: 2, message: 'half' });
        // @ts-expect-error -- a typo in a progress key does not compile
        progress({ don: 1 });
        // @ts-expect-error -- done is a number
        progress({ done: '1' });
      },
      cleanup({ state, status, job, routineId }) {
        expectTypeOf(state).toEqualTypeOf<{ rows: number }>();
        expectTypeOf(status).toEqualTypeOf<'completed' | 'failed' | 'cancelled'>();
        expectTypeOf(job).toEqualTypeOf<{ readonly id: string; readonly flowId: string }>();
        expectTypeOf(routineId).toBeString();
      },
    });
  });
});
