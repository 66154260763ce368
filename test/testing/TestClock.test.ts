import { afterEach, describe, expect, it } from 'vitest';
import { ActivationTimeoutError, createFlow, createRuntime, defineRoutine, InvalidOptionError, JobTimeoutError, policies, RoutineError, type Runtime } from 'slotflow';
import { createTestRuntime, TestClock, type TestRuntime } from 'slotflow/testing';

const made: Runtime[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((rt) => rt.shutdown()));
});
function testRuntime(options: Parameters<typeof createTestRuntime>[0] = {}): TestRuntime {
  const rt = createTestRuntime(options);
  made.push(rt);
  return rt;
}

const source = defineRoutine({
  name: 'source',
  slots: ['in'],
  events: { out: ['n'] },
  run({ slots, emit }) {
    for (const { n } of slots.in) emit('out', { n });
  },
});

const sink = defineRoutine({
  name: 'sink',
  slots: ['in'],
  events: { seen: ['count'] },
  run({ slots, emit }) {
    emit('seen', { count: slots.in.length });
  },
});

/** `fetch` (mocked in the tests) feeding a sink. */
function fetchFlow(id: string, options: { onError?: Parameters<ReturnType<typeof createFlow>['onError']>[0]; timeoutMs?: number } = {}) {
  return createFlow(id)
    .add('fetch', source, { ...(options.onError ? { onError: options.onError } : {}), ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) })
    .add('sink', sink)
    .connect('fetch.out', 'sink.in');
}

/** A mock that never ends by itself: it rejects when its signal aborts. */
const hang = ({ signal }: { signal: AbortSignal }) =>
  new Promise<void>((_, reject) => {
    signal.addEventListener('abort', () => {
      reject(signal.reason as Error);
    });
  });

describe('TestClock', () => {
  it('starts at 0, or at `start`, and moves only through advance', async () => {
    expect(new TestClock().now()).toBe(0);
    const clock = new TestClock({ start: 1_000 });
    expect(clock.now()).toBe(1_000);
    await clock.advance(250);
    expect(clock.now()).toBe(1_250);
    await clock.advance(0);
    expect(clock.now()).toBe(1_250);
  });

  it('fires timers due by the target in due order, ties in the order they were armed, and no later ones', async () => {
    const clock = new TestClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c@30'), 30);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('b1@20'), 20);
    clock.setTimeout(() => fired.push('b2@20'), 20);
    clock.setTimeout(() => fired.push('late@31'), 31);
    const cleared = clock.setTimeout(() => fired.push('cleared@5'), 5);
    clock.clearTimeout(cleared);
    expect(clock.pending).toBe(5);
    expect(clock.nextDueAt).toBe(10);

    await clock.advance(30);
    expect(fired).toEqual(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.pending).toBe(1);
    expect(clock.nextDueAt).toBe(31);
  });

  it('runs each timer at its due time, and fires timers armed on the way when they fall within the window', async () => {
    const clock = new TestClock();
    const seen: number[] = [];
    const tick = () => {
      seen.push(clock.now());
      if (seen.length < 5) clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    await clock.advance(35);
    expect(seen).toEqual([10, 20, 30]);
    expect(clock.now()).toBe(35);
    await clock.advance(100);
    expect(seen).toEqual([10, 20, 30, 40, 50]);
  });

  it('runs overlapping advance calls one after the other, in call order', async () => {
    const clock = new TestClock();
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 15);
    const first = clock.advance(10);
    const second = clock.advance(10);
    await Promise.all([first, second]);
    expect(seen).toEqual([15]);
    expect(clock.now()).toBe(20);
  });

  it('when a timer callback throws: still fires the other due timers and reaches the target, then rejects with the first error', async () => {
    const clock = new TestClock();
    const fired: number[] = [];
    const first = new Error('timer at 10');
    clock.setTimeout(() => {
      throw first;
    }, 10);
    clock.setTimeout(() => fired.push(clock.now()), 20);
    clock.setTimeout(() => {
      throw new Error('timer at 30');
    }, 30);
    clock.setTimeout(() => fired.push(clock.now()), 40);
    await expect(clock.advance(100)).rejects.toBe(first);
    expect(fired).toEqual([20, 40]);
    expect(clock.now()).toBe(100);
    expect(clock.pending).toBe(0);
    // The next advance starts from there.
    await clock.advance(5);
    expect(clock.now()).toBe(105);
  });

  it('sleep resolves after its time and rejects with the reason when its signal aborts', async () => {
    const clock = new TestClock();
    let woke = false;
    const sleeping = clock.sleep(100).then(() => (woke = true));
    await clock.advance(99);
    expect(woke).toBe(false);
    await clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);

    const controller = new AbortController();
    const aborted = clock.sleep(100, controller.signal);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '10'])('advance(%s) throws InvalidOptionError at once', (ms) => {
    const clock = new TestClock();
    expect(() => clock.advance(ms as number)).toThrow(InvalidOptionError);
    expect(() => clock.advance(ms as number)).toThrow('Expected `clock.advance(ms)` to be a finite number of ms from 0 and up');
  });

  it('rejects a bad start or sleep duration', () => {
    expect(() => new TestClock({ start: Number.NaN })).toThrow(InvalidOptionError);
    expect(() => new TestClock().sleep(-5)).toThrow(InvalidOptionError);
  });

  it('drives a plain createRuntime({ clock }) too', async () => {
    const clock = new TestClock();
    const rt = createRuntime({ clock });
    made.push(rt);
    const flow = createFlow('plain_window').add('sink', sink, { policy: policies.window(50) });
    const job = rt.exec(flow, { params: { n: 1 } });
    await clock.advance(49);
    expect(job.status).toBe('running');
    await clock.advance(1);
    expect(job.status).toBe('completed');
    expect(job.state.outputs['sink.seen']).toEqual([{ count: 1 }]);
  });
});

describe('TestRuntime#clock', () => {
  it('is the runtime clock: job and history times come from it', async () => {
    const rt = testRuntime({ startTime: 5_000 });
    const job = rt.exec(fetchFlow('times'), { params: { n: 1 } });
    await rt.settle();
    expect(job.state.startedAt).toBe(5_000);
    expect(job.state.history.map((h) => h.startedAt)).toEqual([5_000, 5_000]);
  });

  it('fires a window only when advanced to its end, with everything that arrived meanwhile', async () => {
    const rt = testRuntime();
    const flow = createFlow('windowed').add('sink', sink, { policy: policies.window(100) });
    const job = rt.exec(flow, { params: { n: 1 }, keepAlive: true });
    await rt.settle();
    await rt.clock.advance(40);
    job.post('sink', 'in', { n: 2 });
    await rt.clock.advance(59);
    expect(rt.callCount(job, 'sink')).toBe(0);
    await rt.clock.advance(1);
    expect(rt.callCount(job, 'sink')).toBe(1);
    expect(job.state.outputs['sink.seen']).toEqual([{ count: 2 }]);
    expect(job.state.history[0]?.startedAt).toBe(100);
  });

  it('fires an interval when the interval since the last activation ends', async () => {
    const rt = testRuntime();
    const flow = createFlow('interval').add('sink', sink, { policy: policies.interval(100) });
    const job = rt.exec(flow, { params: { n: 1 }, keepAlive: true });
    await rt.settle();
    expect(rt.callCount(job, 'sink')).toBe(1);
    job.post('sink', 'in', { n: 2 });
    job.post('sink', 'in', { n: 3 });
    await rt.clock.advance(99);
    expect(rt.callCount(job, 'sink')).toBe(1);
    await rt.clock.advance(1);
    expect(job.state.history.map((h) => h.startedAt)).toEqual([0, 100]);
    expect(job.state.outputs['sink.seen']).toEqual([{ count: 1 }, { count: 2 }]);
  });

  it('waits out retry backoff, and one advance fires every retry whose timer falls within it', async () => {
    const stepwise = testRuntime();
    const flow = () => fetchFlow('backoff', { onError: { retry: { max: 3, backoffMs: 100, factor: 2 } } });
    stepwise.fail('fetch', new Error('503'), { times: 2 });
    const job = stepwise.exec(flow(), { params: { n: 1 } });
    await stepwise.settle();
    expect(stepwise.callCount(job, 'fetch')).toBe(1);
    await stepwise.clock.advance(99);
    expect(stepwise.callCount(job, 'fetch')).toBe(1);
    await stepwise.clock.advance(1); // retry 1 at 100, fails again, backs off 200
    expect(stepwise.callCount(job, 'fetch')).toBe(2);
    await stepwise.clock.advance(199);
    expect(stepwise.callCount(job, 'fetch')).toBe(2);
    await stepwise.clock.advance(1);
    expect(job.status).toBe('completed');
    expect(job.state.history.filter((h) => h.routineId === 'fetch').map((h) => [h.startedAt, h.outcome])).toEqual([
      [0, 'retried'],
      [100, 'retried'],
      [300, 'ok'],
    ]);

    const atOnce = testRuntime();
    atOnce.fail('fetch', new Error('503'), { times: 2 });
    const job2 = atOnce.exec(flow(), { params: { n: 1 } });
    await atOnce.clock.advance(300);
    expect(job2.status).toBe('completed');
    expect(atOnce.executionOrder(job2)).toEqual(['fetch', 'fetch', 'fetch', 'sink']);
  });

  it('fires an activation timeout: the signal aborts and the job fails with ActivationTimeoutError', async () => {
    const rt = testRuntime();
    let aborted: unknown;
    rt.mock('fetch', async (ctx) => {
      try {
        await hang(ctx);
      } catch (reason) {
        aborted = reason;
        throw reason;
      }
    });
    const job = rt.exec(fetchFlow('timeout', { timeoutMs: 1_000 }), { params: { n: 1 } });
    await rt.settle();
    await rt.clock.advance(999);
    expect(job.status).toBe('running');
    await rt.clock.advance(1);
    expect(job.status).toBe('failed');
    expect(job.error).toBeInstanceOf(RoutineError);
    expect((job.error as RoutineError).cause).toBeInstanceOf(ActivationTimeoutError);
    expect(aborted).toBeInstanceOf(ActivationTimeoutError);
  });

  it('fires a job timeout', async () => {
    const rt = testRuntime();
    rt.mock('fetch', hang);
    const job = rt.exec(fetchFlow('job_timeout'), { params: { n: 1 }, timeoutMs: 500 });
    await rt.clock.advance(499);
    expect(job.status).toBe('running');
    await rt.clock.advance(1);
    expect(job.status).toBe('failed');
    expect(job.error).toBeInstanceOf(JobTimeoutError);
  });

  it('lets a mock take simulated time with clock.sleep, racing the timeout deterministically', async () => {
    const rt = testRuntime();
    rt.mock('fetch', async ({ signal, emit }) => {
      await rt.clock.sleep(300, signal);
      emit('out', { n: 'slow' });
    });
    const fast = rt.exec(fetchFlow('sleepy', { timeoutMs: 500 }), { params: { n: 1 } });
    await rt.clock.advance(300);
    expect(fast.status).toBe('completed');
    expect(fast.state.outputs['sink.seen']).toEqual([{ count: 1 }]);

    rt.mock('fetch', async ({ signal }) => {
      await rt.clock.sleep(600, signal);
    });
    const slow = rt.exec('sleepy', { params: { n: 1 } });
    await rt.clock.advance(1_000);
    expect(slow.status).toBe('failed');
    expect((slow.error as RoutineError).cause).toBeInstanceOf(ActivationTimeoutError);
    expect(rt.clock.pending).toBe(0);
  });

  it('does not fire timers on settle', async () => {
    const rt = testRuntime();
    const flow = createFlow('no_fire').add('sink', sink, { policy: policies.window(10) });
    const job = rt.exec(flow, { params: { n: 1 } });
    await rt.settle();
    await rt.settle();
    expect(job.status).toBe('running');
    expect(rt.clock.pending).toBe(1);
    expect(rt.clock.nextDueAt).toBe(10);
  });
});
