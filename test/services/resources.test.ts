import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, isInvalidOptionError, isResourceError, isRoutineError, isUnknownResourceError, type JobEvent, type ResourcesOption } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

/** A routine that asks for `name` and emits what it got. */
function askRoutine(name: string, onError: 'stop' | 'continue' | { retry: { max: number } } = 'stop') {
  return defineRoutine({
    name: 'ask',
    slots: ['in'],
    events: { got: ['value'] },
    onError,
    async run({ resource, emit }) {
      const value = await resource(name);
      emit('got', { value });
    },
  });
}

/** A one-routine flow (`ask0`) asking for `name`. */
function asking(name: string, onError: 'stop' | 'continue' | { retry: { max: number } } = 'stop') {
  return createFlow(`ask_${name}`).add('ask0', askRoutine(name, onError));
}

describe('createRuntime({ resources }) and ctx.resource(name)', () => {
  it('creates a resource lazily, once, even when many activations of many jobs ask at the same moment, and shares it', async () => {
    const made = deferred<{ id: number }>();
    let creates = 0;
    const rt = runtime({
      resources: {
        pool: () => {
          creates++;
          return made.promise;
        },
      },
    });
    expect(creates).toBe(0);
    // Five routines per job, each fed by the params: all five activations start in the same tick.
    const flow = createFlow('fan')
      .add('src', defineRoutine({ name: 'src', slots: ['in'], events: { go: [] }, run: ({ emit }) => emit('go', {}) }))
      .add('a', askRoutine('pool'))
      .add('b', askRoutine('pool'))
      .connect('src.go', 'a.in')
      .connect('src.go', 'b.in');
    const jobs = [rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} })];
    await flush();
    expect(creates).toBe(1);
    made.resolve({ id: 7 });
    const states = await Promise.all(jobs.map((j) => j.wait()));
    expect(creates).toBe(1);
    const got = states.flatMap((s) => [...(s.outputs['a.got'] ?? []), ...(s.outputs['b.got'] ?? [])] as { value: unknown }[]);
    expect(got).toHaveLength(6);
    for (const { value } of got) expect(value).toBe(got[0]?.value);
    expect(got[0]?.value).toEqual({ id: 7 });
    const later = await rt.exec(asking('pool'), { params: {} }).wait();
    expect((later.outputs['ask0.got'] as { value: unknown }[])[0]?.value).toBe(got[0]?.value);
    expect(creates).toBe(1);
    expect(rt.metrics().resources).toEqual({ pool: { accesses: 7, creations: 1, failures: 0, live: true } });
  });

  it('takes { create, dispose } or a bare factory, and disposes what was created, newest first, after the jobs ended', async () => {
    const order: string[] = [];
    const release = deferred();
    const rt = createRuntime({
      resources: {
        first: { create: () => 'first', dispose: (v: string) => void order.push(`dispose ${v}`) },
        second: { create: async () => Promise.resolve('second'), dispose: async (v: string) => void order.push(`dispose ${v}`) },
        bare: () => 'bare',
        unused: { create: () => order.push('created unused'), dispose: () => void order.push('dispose unused') },
      },
    });
    const user = defineRoutine({
      name: 'user',
      slots: ['in'],
      async run({ resource }) {
        order.push(String(await resource('first')));
        order.push(String(await resource('bare')));
        order.push(String(await resource('second')));
        await release.promise;
        order.push('job done');
      },
    });
    const job = rt.exec(createFlow('user').add('user', user), { params: {} });
    await flush(4);
    const down = rt.shutdown({ wait: true });
    await flush(4);
    expect(order).toEqual(['first', 'bare', 'second']);
    release.resolve();
    await down;
    expect(job.status).toBe('completed');
    expect(order).toEqual(['first', 'bare', 'second', 'job done', 'dispose second', 'dispose first']);
    expect(rt.metrics().resources.first).toEqual({ accesses: 1, creations: 1, failures: 0, live: false });
    await rt.shutdown();
    expect(order.filter((o) => o.startsWith('dispose'))).toHaveLength(2);
  });

  it('a factory that throws fails only the asking activation, through its error strategy, and is tried again on the next ask', async () => {
    let attempts = 0;
    const rt = runtime({
      resources: {
        flaky: () => {
          attempts++;
          if (attempts === 1) throw new Error('ECONNREFUSED');
          return { connected: attempts };
        },
      },
    });
    const events: JobEvent[] = [];
    rt.events$.subscribe((e) => events.push(e));
    const job = rt.exec(asking('flaky', { retry: { max: 1 } }), { params: {} });
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(attempts).toBe(2);
    expect(state.outputs['ask0.got']).toEqual([{ value: { connected: 2 } }]);
    const failed = events.find((e) => e.type === 'routine.failed');
    expect(failed?.type === 'routine.failed' && isResourceError(failed.error)).toBe(true);
    const error = (failed as { error: Error }).error;
    expect(error).toMatchObject({ name: 'ResourceError', resource: 'flaky', phase: 'create', routineId: 'ask0' });
    expect(error.message).toBe("Resource 'flaky' could not be created (asked for by routine 'ask0' of flow 'ask_flaky'): ECONNREFUSED");
    expect((error.cause as Error).message).toBe('ECONNREFUSED');
    expect(rt.metrics().resources.flaky).toMatchObject({ creations: 1, failures: 1, accesses: 2 });

    // With 'stop', the job fails with the RoutineError whose cause is the ResourceError; a rejecting factory alike.
    const rejecting = runtime({ resources: { db: { create: () => Promise.reject(new Error('auth failed')) } } });
    const stopped = rejecting.exec(asking('db'), { params: {} });
    await stopped.wait();
    expect(stopped.status).toBe('failed');
    expect(isRoutineError(stopped.error)).toBe(true);
    expect(isResourceError((stopped.error as Error).cause)).toBe(true);
  });

  it('an unknown name rejects with UnknownResourceError listing the known ones', async () => {
    const rt = runtime({ resources: { db: () => 1, cache: () => new Map() } });
    const job = rt.exec(asking('dbb'), { params: {} });
    await job.wait();
    const cause = (job.error as Error).cause;
    expect(isUnknownResourceError(cause)).toBe(true);
    expect(cause).toMatchObject({ name: 'UnknownResourceError', resource: 'dbb', known: ['db', 'cache'], routineId: 'ask0', flowId: 'ask_dbb' });
    expect((cause as Error).message).toBe("Routine 'ask0' of flow 'ask_dbb' asked for resource 'dbb', which the runtime does not have; expected one of 'db', 'cache'.");
    const none = runtime();
    const other = none.exec(asking('db'), { params: {} });
    await other.wait();
    expect(((other.error as Error).cause as Error).message).toContain('(none: pass createRuntime({ resources }))');
  });

  it('rejects malformed resources options with InvalidOptionError', () => {
    const bad: unknown[] = [5, [], { db: 3 }, { db: { create: 1 } }, { db: { create: () => 1, dispose: 'x' } }, { db: { create: () => 1, dispos: () => {} } }];
    for (const resources of bad) {
      let thrown: unknown;
      try {
        createRuntime({ resources: resources as ResourcesOption });
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown), JSON.stringify(resources)).toBe(true);
    }
    expect(() => createRuntime({ resources: { db: { create: () => 1, dispos: () => {} } } as unknown as ResourcesOption })).toThrow(/resources\.db\.dispos.*did you mean 'dispose'/);
  });

  it('disposes every resource even when one dispose throws, then shutdown rejects with a ResourceError', async () => {
    const disposed: string[] = [];
    const rt = createRuntime({
      resources: {
        a: { create: () => 'a', dispose: () => void disposed.push('a') },
        b: {
          create: () => 'b',
          dispose: () => {
            throw new Error('socket hang up');
          },
        },
        c: { create: () => 'c', dispose: () => void disposed.push('c') },
      },
    });
    const all = defineRoutine({
      name: 'all',
      slots: ['in'],
      async run({ resource }) {
        await resource('a');
        await resource('b');
        await resource('c');
      },
    });
    await rt.exec(createFlow('all').add('all', all), { params: {} }).wait();
    const error = await rt.shutdown().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(disposed).toEqual(['c', 'a']);
    expect(isResourceError(error)).toBe(true);
    expect(error).toMatchObject({ resource: 'b', phase: 'dispose' });
    expect((error as Error).message).toBe("Resource 'b' could not be disposed: socket hang up");
  });
});
