import fc from 'fast-check';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  createFlow,
  createRuntime,
  defineRoutine,
  FlowNotFoundError,
  InvalidOptionError,
  NonErrorThrownError,
  policies,
  RoutineError,
  Runtime,
  RuntimeClosedError,
  UnknownSlotError,
  WaitTimeoutError,
  type JobEvent,
} from 'slotflow';
import { createTestRuntime, TestRuntime, type MockImpl } from 'slotflow/testing';

const made: Runtime[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(made.splice(0).map((rt) => rt.shutdown()));
});
function testRuntime(options: Parameters<typeof createTestRuntime>[0] = {}): TestRuntime {
  const rt = createTestRuntime(options);
  made.push(rt);
  return rt;
}

const realFetch = vi.fn<(url: unknown) => void>();

const fetcher = defineRoutine({
  name: 'fetcher',
  slots: ['trigger'],
  events: { output: ['data', 'source'] },
  config: { source: 'live' },
  run({ slots, config, emit }) {
    for (const { url } of slots.trigger) {
      realFetch(url);
      emit('output', { data: `live ${String(url)}`, source: config.source });
    }
  },
});

const parser = defineRoutine({
  name: 'parser',
  slots: ['input'],
  events: { parsed: ['value'] },
  run({ slots, emit }) {
    for (const { data } of slots.input) emit('parsed', { value: String(data).toUpperCase() });
  },
});

/** fetch -> parse, with the parsed values as the flow's output. */
function pipeline(id = 'pipeline') {
  return createFlow(id).add('fetch', fetcher).add('parse', parser).connect('fetch.output', 'parse.input');
}

describe('createTestRuntime', () => {
  it('is a real Runtime: register, exec, post, getJob, listJobs, events$, waitForAll and shutdown all work', async () => {
    const rt = testRuntime({ concurrency: 2 });
    expect(rt).toBeInstanceOf(Runtime);
    expect(rt).toBeInstanceOf(TestRuntime);
    const events: JobEvent['type'][] = [];
    rt.events$.subscribe((e) => events.push(e.type));

    rt.register(pipeline());
    expect(rt.flowIds).toEqual(['pipeline']);
    const byId = rt.exec('pipeline', { params: { url: 'a' }, jobId: 'job-a' });
    const byPost = rt.post('pipeline', 'fetch', 'trigger', { url: 'b' });
    expect(rt.getJob('job-a')).toBe(byId);
    const states = await rt.waitForAll();

    expect(states.map((s) => s.status)).toEqual(['completed', 'completed']);
    expect(byId.state.outputs['parse.parsed']).toEqual([{ value: 'LIVE A' }]);
    expect(byPost.state.outputs['parse.parsed']).toEqual([{ value: 'LIVE B' }]);
    expect(rt.listJobs({ flowId: 'pipeline' })).toEqual([byId, byPost]);
    expect(events).toContain('routine.completed');
    expect(events.filter((t) => t === 'job.completed')).toHaveLength(2);
    expect(() => rt.exec('nope')).toThrow(FlowNotFoundError);

    await rt.shutdown();
    expect(() => rt.exec('pipeline')).toThrow(RuntimeClosedError);
  });

  it('accepts the same flow registered and then passed to exec', async () => {
    const rt = testRuntime();
    const flow = pipeline();
    rt.register(flow).register(flow);
    const state = await rt.exec(flow, { params: { url: 'x' } }).wait();
    expect(state.status).toBe('completed');
  });

  it('cancels unfinished jobs when disposed (a job waiting on the test clock would never finish)', async () => {
    const rt = createTestRuntime();
    rt.mock('fetch', ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => { reject(signal.reason as Error); })));
    const job = rt.exec(pipeline(), { params: { url: 'x' } });
    await rt.settle();
    await rt[Symbol.asyncDispose]();
    expect(job.status).toBe('cancelled');
  });
});

describe('TestRuntime#mock', () => {
  it("replaces a routine's run: the real code does not run", async () => {
    realFetch.mockClear();
    const rt = testRuntime();
    rt.mock('fetch', ({ emit }) => {
      emit('output', { data: 'canned', source: 'mock' });
    });
    const state = await rt.exec(pipeline(), { params: { url: 'x' } }).wait();
    expect(state.outputs['parse.parsed']).toEqual([{ value: 'CANNED' }]);
    expect(realFetch).not.toHaveBeenCalled();
  });

  it('applies from the next activation on, even when set after the flow was registered or the job started', async () => {
    const rt = testRuntime();
    rt.register(pipeline());
    const job = rt.exec('pipeline', { params: { url: 'first' }, keepAlive: true });
    await rt.settle();
    rt.mock('fetch', ({ emit }) => {
      emit('output', { data: 'mocked', source: 'mock' });
    });
    const state = await rt.send(job, 'fetch', 'trigger', { url: 'second' });
    expect(state.outputs['parse.parsed']).toEqual([{ value: 'LIVE FIRST' }, { value: 'MOCKED' }]);
  });

  it('gets the run context and the real run to call through to', async () => {
    const rt = testRuntime();
    const seen: unknown[] = [];
    rt.mock('fetch', (ctx, real) => {
      seen.push(ctx.slots.trigger, ctx.config.source, ctx.routineId, ctx.attempt);
      return real(ctx);
    });
    const state = await rt.exec(pipeline(), { params: { url: 'x' } }).wait();
    expect(seen).toEqual([[{ url: 'x' }], 'live', 'fetch', 0]);
    expect(state.outputs['parse.parsed']).toEqual([{ value: 'LIVE X' }]);
  });

  it('is typed from the routine when given its type', () => {
    const rt = testRuntime();
    rt.mock<typeof fetcher>('fetch', ({ config, emit }) => {
      expectTypeOf(config.source).toEqualTypeOf<string>();
      emit('output', { data: 1, source: 'typed' });
      // @ts-expect-error -- 'nope' is not an event of fetcher
      emit('nope', {});
    });
    rt.mock('fetch', ({ emit }) => {
      emit('anything', {}); // loose without a routine type
    });
    expect(rt).toBeInstanceOf(TestRuntime);
  });

  it('scoped to one flow, leaves the same routine id in other flows alone', async () => {
    const rt = testRuntime();
    rt.mock('fetch', ({ emit }) => { emit('output', { data: 'in a', source: 'mock' }); }, { flowId: 'a' });
    const [a, b] = await Promise.all([rt.exec(pipeline('a'), { params: { url: 'x' } }).wait(), rt.exec(pipeline('b'), { params: { url: 'x' } }).wait()]);
    expect(a.outputs['parse.parsed']).toEqual([{ value: 'IN A' }]);
    expect(b.outputs['parse.parsed']).toEqual([{ value: 'LIVE X' }]);
  });

  it('prefers a flow-scoped mock over an unscoped one; a later mock replaces an earlier one; unmock restores', async () => {
    const rt = testRuntime();
    const mockOf = (data: string): MockImpl => ({ emit }) => { emit('output', { data, source: 'mock' }); };
    rt.mock('fetch', mockOf('everywhere')).mock('fetch', mockOf('old')).mock('fetch', mockOf('only a'), { flowId: 'a' });
    rt.mock('fetch', mockOf('newer'));
    rt.register(pipeline('a')).register(pipeline('b'));
    const out = async (flowId: string) => (await rt.exec(flowId, { params: { url: 'x' } }).wait()).outputs['parse.parsed'];
    expect(await out('a')).toEqual([{ value: 'ONLY A' }]);
    expect(await out('b')).toEqual([{ value: 'NEWER' }]);
    rt.unmock('fetch');
    expect(await out('a')).toEqual([{ value: 'LIVE X' }]);
  });
});

describe('TestRuntime#fail', () => {
  it("throws the error from the next `times` activations, before the routine's code, then lets it run", async () => {
    realFetch.mockClear();
    const rt = testRuntime();
    const error = new Error('503');
    rt.fail('fetch', error, { times: 2 });
    const flow = createFlow('retrying').add('fetch', fetcher, { onError: { retry: { max: 5 } } }).add('parse', parser).connect('fetch.output', 'parse.input');
    const job = rt.exec(flow, { params: { url: 'x' } });
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(realFetch).toHaveBeenCalledTimes(1);
    expect(state.history.filter((h) => h.routineId === 'fetch').map((h) => [h.attempt, h.outcome, h.error])).toEqual([
      [0, 'retried', error],
      [1, 'retried', error],
      [2, 'ok', undefined],
    ]);
  });

  it('fails every activation by default: with the stop strategy the job fails with that error as cause', async () => {
    const rt = testRuntime();
    const error = new Error('down');
    rt.fail('fetch', error);
    rt.mock('fetch', () => {
      throw new Error('the mock must not run');
    });
    const state = await rt.exec(pipeline(), { params: { url: 'x' } }).wait();
    expect(state.status).toBe('failed');
    expect(state.error).toBeInstanceOf(RoutineError);
    expect((state.error as RoutineError).routineId).toBe('fetch');
    expect((state.error as RoutineError).cause).toBe(error);
  });

  it('queues planned failures in call order, and reports a non-Error as NonErrorThrownError', async () => {
    const rt = testRuntime();
    rt.fail('fetch', new Error('first'), { times: 1 }).fail('fetch', 'second', { times: 1 });
    const flow = createFlow('continuing').add('fetch', fetcher, { onError: 'continue' }).onError('continue');
    const job = rt.exec(flow, { params: { url: 1 }, keepAlive: true });
    await rt.send(job, 'fetch', 'trigger', { url: 2 });
    const state = await rt.send(job, 'fetch', 'trigger', { url: 3 });
    const errors = state.history.map((h) => h.error);
    expect(errors[0]?.message).toBe('first');
    expect(errors[1]).toBeInstanceOf(NonErrorThrownError);
    expect((errors[1] as NonErrorThrownError).value).toBe('second');
    expect(errors[2]).toBeUndefined();
    expect(state.routines.fetch?.errors).toBe(2);
  });

  it('queues flow-scoped and unscoped failures together, in call order; a scoped one is skipped by other flows', async () => {
    const rt = testRuntime();
    rt.fail('fetch', new Error('everywhere, first'), { times: 1 })
      .fail('fetch', new Error('only in a'), { times: 1, flowId: 'a' })
      .fail('fetch', new Error('everywhere, last'), { times: 1 });
    const flow = (id: string) => createFlow(id).add('fetch', fetcher, { onError: { retry: { max: 5 } } });
    const a = await rt.exec(flow('a'), { params: { url: 'x' } }).wait();
    expect(a.history.map((h) => h.error?.message)).toEqual(['everywhere, first', 'only in a', 'everywhere, last', undefined]);
    rt.fail('fetch', new Error('only in a, again'), { times: 1, flowId: 'a' }).fail('fetch', new Error('everywhere'), { times: 1 });
    const b = await rt.exec(flow('b'), { params: { url: 'x' } }).wait();
    expect(b.history.map((h) => h.error?.message)).toEqual(['everywhere', undefined]);
    const again = await rt.exec('a', { params: { url: 'x' } }).wait();
    expect(again.history.map((h) => h.error?.message)).toEqual(['only in a, again', undefined]);
  });

  it('scoped to one flow, and removed by unmock', async () => {
    const rt = testRuntime();
    rt.register(pipeline('a')).register(pipeline('b'));
    rt.fail('fetch', new Error('only a'), { flowId: 'a' });
    expect((await rt.exec('b', { params: { url: 'x' } }).wait()).status).toBe('completed');
    expect((await rt.exec('a', { params: { url: 'x' } }).wait()).status).toBe('failed');
    rt.unmock();
    expect((await rt.exec('a', { params: { url: 'x' } }).wait()).status).toBe('completed');
  });
});

describe('TestRuntime#executionOrder and #callCount', () => {
  const fan = () => {
    const split = defineRoutine({
      name: 'split',
      slots: ['in'],
      events: { left: [], right: [] },
      run({ emit }) {
        emit('left', {});
        emit('right', {});
      },
    });
    const step = defineRoutine({ name: 'step', slots: ['in'], events: { done: [] }, run: ({ emit }) => { emit('done', {}); } });
    return createFlow('fan')
      .add('split', split)
      .add('left', step)
      .add('right', step, { onError: { retry: { max: 2 } } })
      .add('join', step)
      .connect('split.left', 'left.in')
      .connect('split.right', 'right.in')
      .connect('left.done', 'join.in')
      .connect('right.done', 'join.in');
  };

  it('lists routine ids in activation order, a retry as one more entry', async () => {
    const rt = testRuntime();
    rt.fail('right', new Error('flaky'), { times: 1 });
    const job = rt.exec(fan(), { params: {} });
    await rt.settle();
    expect(job.status).toBe('completed');
    expect(rt.executionOrder(job)).toEqual(['split', 'left', 'right', 'join', 'right', 'join']);
    expect(rt.executionOrder(job.id)).toEqual(rt.executionOrder(job));
    expect(rt.callCount(job, 'right')).toBe(2);
    expect(rt.callCount(job, 'join')).toBe(2);
    expect(rt.callCount(job, 'split')).toBe(1);
  });

  it('orders by when activations started, not when they finished', async () => {
    const rt = testRuntime();
    rt.mock('left', async (ctx, real) => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
      return real(ctx);
    });
    const job = rt.exec(fan(), { params: {} });
    await rt.settle();
    const finished = job.state.history.map((h) => h.routineId);
    expect(finished.indexOf('left')).toBeGreaterThan(finished.indexOf('right'));
    expect(rt.executionOrder(job)).toEqual(['split', 'left', 'right', 'join', 'join']);
  });

  it('counts an activation that failed in its policy (a custom ready() that throws), which never reached run', async () => {
    const rt = testRuntime();
    const broken = policies.custom({
      name: 'broken',
      ready: () => {
        throw new Error('policy bug');
      },
    });
    const flow = createFlow('broken_policy').add('fetch', fetcher, { policy: broken }).add('parse', parser).connect('fetch.output', 'parse.input');
    const job = rt.exec(flow, { params: { url: 'x' } });
    // Recorded from events, and still complete as soon as the job's wait resolves.
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(state.history.map((h) => [h.routineId, h.outcome])).toEqual([['fetch', 'error']]);
    expect(rt.executionOrder(job)).toEqual(['fetch']);
    expect(rt.callCount(job, 'fetch')).toBe(1);
  });

  it('keeps jobs apart, and is empty for a job that ran nothing yet', async () => {
    const rt = testRuntime();
    const a = rt.exec(pipeline(), { params: { url: 'a' } });
    const idle = rt.exec('pipeline', { keepAlive: true });
    await rt.settle();
    expect(rt.executionOrder(a)).toEqual(['fetch', 'parse']);
    expect(rt.executionOrder(idle)).toEqual([]);
    expect(rt.callCount(idle, 'fetch')).toBe(0);
  });
});

describe('TestRuntime#settle, #idle and #send', () => {
  it('settle runs every activation that can run without the clock, through async mocks', async () => {
    const rt = testRuntime();
    rt.mock('fetch', async ({ emit }) => {
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      emit('output', { data: 'later', source: 'mock' });
    });
    const job = rt.exec(pipeline(), { params: { url: 'x' } });
    await rt.settle();
    expect(job.status).toBe('completed');
    expect(rt.running).toBe(0);
  });

  it('settle returns while an activation waits on its signal, and idle({ timeoutMs }) gives up with WaitTimeoutError', async () => {
    const rt = testRuntime();
    rt.mock('fetch', ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => { reject(signal.reason as Error); })));
    const job = rt.exec(pipeline(), { params: { url: 'x' } });
    await rt.settle();
    expect(rt.running).toBe(1);
    expect(job.status).toBe('running');

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const waiting = rt.idle({ timeoutMs: 5_000 });
    const outcome = expect(waiting).rejects.toThrow(WaitTimeoutError);
    await vi.advanceTimersByTimeAsync(5_000);
    await outcome;
  });

  it('idle waits for activations held by work outside the runtime, however many turns it takes', async () => {
    const rt = testRuntime();
    rt.mock('fetch', async ({ emit }) => {
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      emit('output', { data: 'slow', source: 'io' });
    });
    const job = rt.exec(pipeline(), { params: { url: 'x' } });
    await rt.idle();
    expect(rt.running).toBe(0);
    expect(job.status).toBe('completed');
    await expect(rt.idle({ timeoutMs: 10 })).resolves.toBeUndefined();
  });

  it('send posts into a job, settles, and returns its state', async () => {
    const rt = testRuntime();
    const job = rt.exec(pipeline(), { keepAlive: true });
    const state = await rt.send(job.id, 'fetch', 'trigger', { url: 'y' });
    expect(state.outputs['parse.parsed']).toEqual([{ value: 'LIVE Y' }]);
    expect(state).toBe(job.state);
  });
});

describe('TestRuntime determinism', () => {
  /** fan-out to `width` workers, each mocked to take `hops[i]` microtask hops, all joining into one sink. */
  async function run(hops: readonly number[], concurrency: number) {
    const rt = createTestRuntime({ concurrency });
    const start = defineRoutine({ name: 'start', slots: ['in'], events: { go: [] }, run: ({ emit }) => { emit('go', {}); } });
    const worker = defineRoutine({ name: 'worker', slots: ['in'], events: { done: ['by'] }, run: ({ routineId, emit }) => { emit('done', { by: routineId }); } });
    const sink = defineRoutine({ name: 'sink', slots: ['in'], events: { got: ['by'] }, run: ({ slots, emit }) => { for (const { by } of slots.in) emit('got', { by }); } });
    let flow = createFlow('det').add('start', start).add('sink', sink) as unknown as { add(id: string, r: unknown, o?: unknown): typeof flow; connect(a: string, b: string): typeof flow };
    hops.forEach((n, i) => {
      flow = flow.add(`w${i}`, worker, { onError: { retry: { max: 1 } } }).connect('start.go', `w${i}.in`).connect(`w${i}.done`, 'sink.in');
      rt.mock(`w${i}`, async (ctx, real) => {
        for (let k = 0; k < n; k++) await Promise.resolve();
        if (n % 3 === 0 && ctx.attempt === 0) throw new Error('flaky');
        return real(ctx);
      });
    });
    const job = rt.exec(flow as never, { params: {} });
    await rt.settle();
    const result = { status: job.status, order: rt.executionOrder(job), outputs: job.state.outputs };
    await rt.shutdown();
    return result;
  }

  it('gives the same activation order and outputs on every run of the same scenario', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4 }), async (hops, concurrency) => {
        const first = await run(hops, concurrency);
        const second = await run(hops, concurrency);
        expect(first.status).toBe('completed');
        expect(second).toEqual(first);
      }),
      { numRuns: 25 },
    );
  });
});

describe('TestRuntime misuse', () => {
  it('exec throws UnknownSlotError naming a mocked routine the flow lacks, and starts nothing', () => {
    const rt = testRuntime();
    rt.mock('fecth', () => undefined);
    expect(() => rt.exec(pipeline(), { params: { url: 'x' } })).toThrow(UnknownSlotError);
    expect(() => rt.exec(pipeline(), { params: { url: 'x' } })).toThrow("Flow 'pipeline' has no routine 'fecth'; expected one of 'fetch', 'parse'.");
    expect(rt.listJobs()).toEqual([]);
  });

  it('the same for a planned failure, and for post starting a job', () => {
    const rt = testRuntime();
    rt.register(pipeline());
    rt.fail('prase', new Error('x'));
    expect(() => rt.exec('pipeline')).toThrow(/no routine 'prase'/);
    expect(() => rt.post('pipeline', 'fetch', 'trigger', { url: 'x' })).toThrow(UnknownSlotError);
    rt.unmock('prase');
    expect(() => rt.exec('pipeline')).not.toThrow();
  });

  it('a mock scoped to a registered flow is checked at once; an unscoped one may name a routine of another flow', () => {
    const rt = testRuntime();
    const other = createFlow('other').add('store', parser);
    rt.register(pipeline()).register(other);
    expect(() => rt.mock('store', () => undefined, { flowId: 'pipeline' })).toThrow(UnknownSlotError);
    rt.mock('store', () => undefined);
    expect(() => rt.exec('pipeline')).not.toThrow();
    expect(() => rt.exec('other')).not.toThrow();
  });

  it('rejects bad arguments with InvalidOptionError', () => {
    const rt = testRuntime();
    expect(() => rt.mock('', () => undefined)).toThrow(InvalidOptionError);
    expect(() => rt.mock('fetch', 'impl' as never)).toThrow('Expected `mock(\'fetch\', impl)` to be a function');
    expect(() => rt.mock('fetch', () => undefined, { flowId: '' })).toThrow(InvalidOptionError);
    expect(() => rt.fail('fetch', new Error('x'), { times: 0 })).toThrow('Expected `fail(\'fetch\', error, { times })` to be an integer from 1 and up, got 0 (number).');
    expect(() => rt.fail('fetch', new Error('x'), { times: 1.5 })).toThrow(InvalidOptionError);
    expect(() => rt.unmock('')).toThrow(InvalidOptionError);
    expect(() => rt.idle({ timeoutMs: -1 })).toThrow(InvalidOptionError);
    expect(() => rt.clock.advance(-1)).toThrow(InvalidOptionError);
  });

  it('callCount names an unknown routine with UnknownSlotError; a job of another runtime is an InvalidOptionError', async () => {
    const rt = testRuntime();
    const job = rt.exec(pipeline(), { params: { url: 'x' } });
    await rt.settle();
    expect(() => rt.callCount(job, 'fecth')).toThrow("Flow 'pipeline' has no routine 'fecth'");

    const plain = createRuntime();
    made.push(plain);
    const foreign = plain.exec(pipeline(), { params: { url: 'x' } });
    await foreign.wait();
    expect(() => rt.executionOrder(foreign)).toThrow(InvalidOptionError);
    expect(() => rt.callCount('no-such-job', 'fetch')).toThrow('Expected `callCount(job)` to be a job (or job id) of this test runtime');
    await expect(rt.send(foreign, 'fetch', 'trigger', {})).rejects.toThrow(InvalidOptionError);
  });
});
