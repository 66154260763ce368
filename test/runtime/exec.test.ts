import { describe, expect, it } from 'vitest';
import {
  createFlow,
  createRuntime,
  defineRoutine,
  policies,
  FlowNotFoundError,
  FlowValidationError,
  InvalidOptionError,
  JobCancelledError,
  RuntimeClosedError,
  type Payload,
} from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

/** Records what every activation consumed, per slot. */
function recorder(name: string, slots: readonly string[]) {
  const calls: Record<string, readonly Payload[]>[] = [];
  const routine = defineRoutine({
    name,
    slots,
    events: { out: ['value'] },
    run({ slots: consumed }) {
      calls.push({ ...consumed });
    },
  });
  return { routine, calls };
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Runtime#exec', () => {
  it('returns at once with status running, before any activation has finished', async () => {
    const gate = new Gate();
    const slow = defineRoutine({
      name: 'slow',
      slots: ['trigger'],
      async run({ signal }) {
        await gate.enter('slow', signal);
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('slow_flow').add('slow', slow), { params: { go: true } });

    expect(job.status).toBe('running');
    expect(gate.inside).toBe(0); // exec does not run user code before returning
    expect(job.flowId).toBe('slow_flow');
    await flush();
    expect(gate.inside).toBe(1);
    expect(job.status).toBe('running');

    gate.releaseAll();
    const state = await job.wait();
    expect(state.status).toBe('completed');
  });

  it('returns with status queued when maxJobs jobs already run', async () => {
    const gate = new Gate();
    const slow = defineRoutine({
      name: 'slow',
      slots: ['trigger'],
      async run({ signal }) {
        await gate.enter('slow', signal);
      },
    });
    const rt = runtime({ maxJobs: 1 });
    const flow = createFlow('slow_flow').add('slow', slow);
    const first = rt.exec(flow, { params: {} });
    const second = rt.exec(flow, { params: {} });

    expect(first.status).toBe('running');
    expect(second.status).toBe('queued');
    await flush();
    gate.releaseAll();
    await first.wait();
    await flush();
    gate.releaseAll();
    expect((await second.wait()).status).toBe('completed');
  });

  it('delivers params as one payload to the entry slot', async () => {
    const { routine, calls } = recorder('fetcher', ['trigger', 'other']);
    const rt = runtime();
    const flow = createFlow('params_flow').add('fetcher', routine).entry('fetcher', 'trigger');

    const state = await rt.exec(flow, { params: { data: 'test' } }).wait();

    expect(calls).toEqual([{ trigger: [{ data: 'test' }], other: [] }]);
    expect(state.params).toEqual({ data: 'test' });
    expect(state.routines.fetcher?.activations).toBe(1);
  });

  it('uses the first routine added and its first slot as the default entry', async () => {
    const a = recorder('a', ['first', 'second']);
    const b = recorder('b', ['input']);
    const rt = runtime();
    const flow = createFlow('default_entry').add('a', a.routine).add('b', b.routine);

    await rt.exec(flow, { params: { n: 1 } }).wait();

    expect(a.calls).toEqual([{ first: [{ n: 1 }], second: [] }]);
    expect(b.calls).toEqual([]);
  });

  it('delivers params to the slot named by flow.entry()', async () => {
    const a = recorder('a', ['input']);
    const b = recorder('b', ['left', 'right']);
    const rt = runtime();
    const flow = createFlow('named_entry').add('a', a.routine).add('b', b.routine).entry('b', 'right');

    await rt.exec(flow, { params: { n: 2 } }).wait();

    expect(a.calls).toEqual([]);
    expect(b.calls).toEqual([{ left: [], right: [{ n: 2 }] }]);
  });

  it('triggers the entry slot with {} when given no params (no keepAlive)', async () => {
    const { routine, calls } = recorder('entry', ['trigger']);
    const rt = runtime();

    const state = await rt.exec(createFlow('no_params').add('entry', routine)).wait();

    expect(state.status).toBe('completed');
    expect(state.params).toBeUndefined();
    expect(state.routines.entry?.activations).toBe(1);
    expect(calls).toEqual([{ trigger: [{}] }]);
  });

  it('runs nothing in a keepAlive job given no params, until something is posted', async () => {
    const { routine, calls } = recorder('entry', ['trigger']);
    const rt = runtime();

    const job = rt.exec(createFlow('no_params_alive').add('entry', routine), { keepAlive: true });
    await flush();
    expect(job.status).toBe('idle');
    expect(calls).toEqual([]);
    job.post('entry', 'trigger', { n: 1 });
    job.complete();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(calls).toEqual([{ trigger: [{ n: 1 }] }]);
  });

  it('throws FlowNotFoundError synchronously for an unknown flow id, naming it and the registered ids', () => {
    const { routine } = recorder('r', ['in']);
    const rt = runtime();
    rt.register(createFlow('alpha').add('r', routine));
    rt.register(createFlow('beta').add('r', routine));

    let thrown: unknown;
    try {
      rt.exec('gamma');
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(FlowNotFoundError);
    const error = thrown as FlowNotFoundError;
    expect(error.name).toBe('FlowNotFoundError');
    expect(error.message).toContain('gamma');
    expect(error.message).toContain('alpha');
    expect(error.message).toContain('beta');
    expect(rt.listJobs()).toEqual([]);
  });

  it('says that no flow is registered when the runtime has none', () => {
    const rt = runtime();
    expect(() => rt.exec('anything')).toThrow(FlowNotFoundError);
    expect(() => rt.exec('anything')).toThrow(/anything/);
  });

  it('register() throws FlowValidationError listing every problem of an invalid flow', () => {
    const source = defineRoutine({ name: 'source', slots: ['trigger'], events: { output: ['data'] }, run() {} });
    const sink = defineRoutine({ name: 'sink', slots: ['input'], events: { back: ['data'] }, run() {} });
    // Built without the compile-time checks, as a flow loaded from data would be.
    const flow = createFlow('broken') as unknown as {
      add(id: string, r: unknown): typeof flow;
      connect(from: string, to: string): typeof flow;
    };
    flow
      .add('source', source)
      .add('sink', sink)
      .add('sink', source) // duplicate id
      .connect('ghost.output', 'sink.input') // unknown routine
      .connect('source.missing', 'sink.input') // unknown event
      .connect('source.output', 'sink.nowhere') // unknown slot
      .connect('source.output', 'sink.input')
      .connect('sink.back', 'source.trigger'); // closes an unbounded cycle

    const rt = runtime();
    let thrown: unknown;
    try {
      rt.register(flow as never);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(FlowValidationError);
    const error = thrown as FlowValidationError;
    expect(error.flowId).toBe('broken');
    expect(error.problems.length).toBeGreaterThanOrEqual(5);
    for (const culprit of ["'sink'", 'ghost', 'missing', 'nowhere', 'cycle']) expect(error.message).toContain(culprit);
    for (const problem of error.problems) {
      expect(error.message).toContain(problem.path);
      expect(error.message).toContain(problem.message);
    }
    expect(() => rt.exec('broken')).toThrow(FlowNotFoundError);
  });

  it('exec() of an invalid flow throws FlowValidationError', () => {
    const rt = runtime();
    expect(() => rt.exec(createFlow('empty'))).toThrow(FlowValidationError);
    expect(rt.listJobs()).toEqual([]);
  });

  it('registers a flow passed as an object, so later calls can use its id', async () => {
    const { routine, calls } = recorder('r', ['in']);
    const rt = runtime();
    const flow = createFlow('auto').add('r', routine);

    await rt.exec(flow, { params: { n: 1 } }).wait();
    const again = rt.exec('auto', { params: { n: 2 } });
    await again.wait();

    expect(again.flowId).toBe('auto');
    expect(calls).toEqual([{ in: [{ n: 1 }] }, { in: [{ n: 2 }] }]);
    expect(rt.listJobs({ flowId: 'auto' })).toHaveLength(2);
  });

  it('uses the given jobId', async () => {
    const { routine } = recorder('r', ['in']);
    const rt = runtime();
    const job = rt.exec(createFlow('ids').add('r', routine), { jobId: 'order-42', params: {} });

    expect(job.id).toBe('order-42');
    expect(rt.getJob('order-42')).toBe(job);
    expect((await job.wait()).jobId).toBe('order-42');
  });

  it('rejects a jobId that another job of the runtime already has', () => {
    const gate = new Gate();
    const slow = defineRoutine({
      name: 'slow',
      slots: ['in'],
      async run({ signal }) {
        await gate.enter('slow', signal);
      },
    });
    const rt = runtime();
    const flow = createFlow('unique').add('slow', slow);
    const first = rt.exec(flow, { jobId: 'dup', params: {} });

    expect(() => rt.exec(flow, { jobId: 'dup', params: {} })).toThrow(/dup/);
    expect(rt.getJob('dup')).toBe(first);
    expect(rt.listJobs()).toEqual([first]);
  });

  it('gives jobs UUID v7 ids by default, so listJobs comes back in creation order', async () => {
    const { routine } = recorder('r', ['in']);
    const rt = runtime();
    const flow = createFlow('v7').add('r', routine);

    const jobs = Array.from({ length: 20 }, () => rt.exec(flow, { params: {} }));
    await rt.waitForAll();

    for (const job of jobs) expect(job.id).toMatch(UUID_V7);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(20);
    const listed = rt.listJobs().map((j) => j.id);
    expect(listed).toEqual(jobs.map((j) => j.id));
    expect([...listed].sort()).toEqual(listed);
  });

  it('throws RuntimeClosedError after shutdown', async () => {
    const { routine } = recorder('r', ['in']);
    const rt = runtime();
    const flow = createFlow('closed').add('r', routine);
    rt.register(flow);
    await rt.shutdown();

    expect(() => rt.exec('closed', { params: {} })).toThrow(RuntimeClosedError);
    expect(() => rt.exec(flow)).toThrow(RuntimeClosedError);
    try {
      rt.exec('closed');
    } catch (error) {
      expect((error as Error).name).toBe('RuntimeClosedError');
    }
  });

  describe('option checks', () => {
    it.each([
      ['concurrency', 0, '0 (number)'],
      ['concurrency', -1, '-1 (number)'],
      ['concurrency', 1.5, '1.5 (number)'],
      ['maxJobs', 0, '0 (number)'],
      ['maxJobs', 2.5, '2.5 (number)'],
      ['retain', -1, '-1 (number)'],
      ['retain', 1.5, '1.5 (number)'],
      ['historyLimit', -1, '-1 (number)'],
      ['historyLimit', 0.5, '0.5 (number)'],
      ['reuseActors', -1, '-1 (number)'],
      ['reuseActors', 2.5, '2.5 (number)'],
    ] as const)('createRuntime({ %s: %s }) throws InvalidOptionError', (option, value, got) => {
      let thrown: unknown;
      try {
        createRuntime({ [option]: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidOptionError);
      const message = (thrown as Error).message;
      expect(message.startsWith(`Expected \`${option}\` to be `)).toBe(true);
      expect(message).toContain(`, got ${got}`);
    });

    it('says what it expected for concurrency, p-queue style', () => {
      expect(() => createRuntime({ concurrency: 0 })).toThrow(/^Expected `concurrency` to be .+, got 0 \(number\)/);
    });

    it('throws InvalidOptionError for a negative exec timeoutMs, and starts no job', () => {
      const { routine } = recorder('r', ['in']);
      const rt = runtime();
      let thrown: unknown;
      try {
        rt.exec(createFlow('timeouts').add('r', routine), { timeoutMs: -1 });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidOptionError);
      expect((thrown as Error).message).toMatch(/^Expected `[^`]*timeoutMs[^`]*` to be .+, got -1 \(number\)/);
      expect(rt.listJobs()).toEqual([]);
    });
  });

  describe('signal', () => {
    it('cancels the job when the signal aborts', async () => {
      const gate = new Gate();
      const slow = defineRoutine({
        name: 'slow',
        slots: ['in'],
        async run({ signal }) {
          await gate.enter('slow', signal);
        },
      });
      const rt = runtime();
      const controller = new AbortController();
      const job = rt.exec(createFlow('abortable').add('slow', slow), { params: {}, signal: controller.signal });
      await flush();
      const [entry] = gate.held;

      controller.abort('user left');
      const state = await job.wait();

      expect(state.status).toBe('cancelled');
      expect(job.status).toBe('cancelled');
      expect(job.error).toBeInstanceOf(JobCancelledError);
      expect(entry?.signal?.aborted).toBe(true);
    });

    it('cancels at once with an already aborted signal, running nothing', async () => {
      const { routine, calls } = recorder('r', ['in']);
      const rt = runtime();
      const job = rt.exec(createFlow('pre_aborted').add('r', routine), { params: {}, signal: AbortSignal.abort() });

      const state = await job.wait();
      expect(state.status).toBe('cancelled');
      expect(calls).toEqual([]);
    });
  });
});

describe('routine actors reused across jobs', () => {
  it('a job of a flow whose earlier jobs ended (completed, failed, cancelled, with pending data) starts from fresh routines', async () => {
    const seen: unknown[] = [];
    const acc = defineRoutine({
      name: 'acc',
      slots: ['in'],
      events: { out: ['n'] },
      run({ slots, emit }) {
        for (const { n } of slots.in) {
          if (n === 'boom') throw new Error('boom');
          emit('out', { n });
        }
      },
    });
    const win = defineRoutine({
      name: 'win',
      slots: ['in'],
      run({ slots }) {
        seen.push(slots.in.map((p) => p.n));
      },
    });
    const flow = createFlow('reuse').add('acc', acc).add('win', win, { policy: policies.batch(2) }).connect('acc.out', 'win.in');
    await using rt = createRuntime();
    // An odd payload stays pending at `win` when the job completes.
    expect((await rt.exec(flow, { params: { n: 1 } }).wait()).routines.win?.pending).toEqual({ in: [{ n: 1 }] });
    expect((await rt.exec(flow, { params: { n: 'boom' } }).wait()).status).toBe('failed');
    const cancelled = rt.exec(flow, { keepAlive: true });
    cancelled.post('win', 'in', { n: 'left' });
    cancelled.cancel();
    await cancelled.wait();
    // None of that leaks into the next jobs.
    const states = await Promise.all([rt.exec(flow, { params: { n: 2 } }).wait({ timeoutMs: 10_000 }), rt.exec(flow, { params: { n: 3 } }).wait({ timeoutMs: 10_000 })]);
    expect(states.map((s) => s.routines.win?.pending)).toEqual([{ in: [{ n: 2 }] }, { in: [{ n: 3 }] }]);
    expect(seen).toEqual([]);
  });

  it("a reused routine does not inherit the last job's interval or window times", async () => {
    const clock = new ManualClock();
    const runs: number[] = [];
    const tick = defineRoutine({
      name: 'tick',
      slots: ['in'],
      run() {
        runs.push(clock.now());
      },
    });
    const flow = createFlow('interval').add('tick', tick, { policy: policies.interval(1_000) });
    await using rt = createRuntime({ clock });
    await rt.exec(flow, { params: {} }).wait();
    await clock.advance(10);
    const second = rt.exec(flow, { params: {} });
    await flush();
    // A fresh routine has no previous activation: the interval lets the first one through at once.
    expect(runs).toEqual([0, 10]);
    await second.wait();
  });
});
