import { describe, expect, it } from 'vitest';
import * as slotflow from 'slotflow';
import {
  SnapshotError,
  CheckpointError,
  ConnectionError,
  ManifestError,
  ResourceError,
  UnknownResourceError,
  ThreadResourceError,
  SubflowError,
  ActivationEndedError,
  ActivationTimeoutError,
  createFlow,
  createRuntime,
  CycleExhaustedError,
  defineRoutine,
  FlowNotFoundError,
  FlowValidationError,
  InvalidOptionError,
  isNonErrorThrownError,
  isRoutineError,
  isSlotflowError,
  JobCancelledError,
  JobFinishedError,
  JobTimeoutError,
  NonErrorThrownError,
  PayloadError,
  policies,
  RoutineDefinitionError,
  RoutineError,
  RuntimeClosedError,
  SlotflowError,
  SlotQueueFullError,
  UnknownEventError,
  UnknownSlotError,
  WaitTimeoutError,
  WorkerCrashedError,
  ResourceLimitError,
  type RunContext,
} from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

/** One instance of each error class, built as slotflow builds them. */
const samples: Record<string, () => SlotflowError> = {
  FlowValidationError: () => new FlowValidationError('f', [{ path: 'entry', message: 'no entry' }]),
  FlowNotFoundError: () => new FlowNotFoundError('f', ['g']),
  UnknownSlotError: () => new UnknownSlotError('f', 'r', 's', ['in']),
  UnknownEventError: () => new UnknownEventError('f', 'r', 'e', ['out']),
  PayloadError: () => new PayloadError('f', 'r', "event 'out'", ["missing field 'x'"]),
  SlotQueueFullError: () => new SlotQueueFullError('f', 'r', 's', 2),
  ActivationTimeoutError: () => new ActivationTimeoutError('f', 'r', 'j', 100),
  RoutineError: () => new RoutineError('f', 'r', 'j', new Error('x')),
  NonErrorThrownError: () => new NonErrorThrownError('r', 42),
  JobTimeoutError: () => new JobTimeoutError('j', 'f', 100),
  WaitTimeoutError: () => new WaitTimeoutError('j', 100),
  JobFinishedError: () => new JobFinishedError('j', 'completed'),
  JobCancelledError: () => new JobCancelledError('j', 'why'),
  RuntimeClosedError: () => new RuntimeClosedError('exec a job'),
  InvalidOptionError: () => new InvalidOptionError('concurrency', 'an integer from 1 and up', 0),
  RoutineDefinitionError: () => new RoutineDefinitionError('r', ['bad']),
  CycleExhaustedError: () => new CycleExhaustedError('f', 'a.out->a.in', 3),
  ActivationEndedError: () => new ActivationEndedError('r', "emit('out')"),
  SnapshotError: () => new SnapshotError('version', 'format version 9 is newer than this release reads (1)', 'j'),
  CheckpointError: () => new CheckpointError('save', 'j', new Error('disk full')),
  WorkerCrashedError: () => new WorkerCrashedError('f', 'r', 'score', 'exited with code 3', { cause: new Error('worker exited') }),
  ResourceLimitError: () => new ResourceLimitError('f', 'r', 'score', { maxOldGenerationSizeMb: 32 }),
  ConnectionError: () => new ConnectionError('Redis at 127.0.0.1:6379', 5000, new Error('connect ECONNREFUSED')),
  UnknownResourceError: () => new UnknownResourceError('dbb', ['db'], { flowId: 'f', routineId: 'r' }),
  ResourceError: () => new ResourceError('db', 'create', new Error('ECONNREFUSED'), { flowId: 'f', routineId: 'r' }),
  ThreadResourceError: () => new ThreadResourceError('f', 'r', 'db'),
  SubflowError: () => new SubflowError('f', 'r', 'job-1/r/1', 'child', 'failed', new Error('child broke')),
  ManifestError: () => new ManifestError([{ path: 'routines.collect.policy.n', message: 'expected a positive integer, got -1' }], 'flow.yaml'),
};

const exported = slotflow as unknown as Record<string, unknown>;
const errorClassNames = Object.keys(exported).filter((key) => {
  const value = exported[key];
  return typeof value === 'function' && value.prototype instanceof SlotflowError;
});

function failWith(thunk: () => unknown): Error {
  try {
    thunk();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe('error classes', () => {
  it('exports the error classes the contract names', () => {
    for (const name of ['FlowValidationError', 'FlowNotFoundError', 'UnknownSlotError', 'UnknownEventError', 'PayloadError', 'SlotQueueFullError', 'ActivationTimeoutError', 'RoutineError', 'JobTimeoutError', 'WaitTimeoutError', 'JobFinishedError', 'JobCancelledError', 'RuntimeClosedError', 'CycleExhaustedError'])
      expect(errorClassNames).toContain(name);
  });

  it('has a sample here for every exported error class', () => {
    expect([...errorClassNames].sort()).toEqual(Object.keys(samples).sort());
  });

  describe.each(Object.keys(samples))('%s', (name) => {
    const make = samples[name] as () => SlotflowError;

    it('is an Error and a SlotflowError whose name is the class name', () => {
      const error = make();
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(SlotflowError);
      expect(error).toBeInstanceOf(exported[name] as new () => unknown);
      expect(error.name).toBe(name);
      expect(isSlotflowError(error)).toBe(true);
      expect(error.message.length).toBeGreaterThan(0);
      expect(String(error)).toContain(name);
    });

    it('has a stable, upper-case code', () => {
      const error = make();
      expect(error.code).toMatch(/^[A-Z][A-Z_]*$/);
      expect(make().code).toBe(error.code);
    });

    it('has an isX guard that tells it apart', () => {
      const guard = exported[`is${name}`] as ((value: unknown) => boolean) | undefined;
      expect(typeof guard).toBe('function');
      expect(guard?.(make())).toBe(true);
      expect(guard?.(new Error('plain'))).toBe(false);
      expect(guard?.({ name, message: 'look-alike' })).toBe(false);
      expect(guard?.(undefined)).toBe(false);
      const other = Object.keys(samples).find((n) => n !== name) as string;
      expect(guard?.((samples[other] as () => SlotflowError)())).toBe(false);
    });

    it('keeps its name and code through JSON serialisation', () => {
      const error = make();
      const parsed = JSON.parse(JSON.stringify(error)) as { name: string; code: string; message: string };
      expect(parsed.name).toBe(name);
      expect(parsed.code).toBe(error.code);
      expect(parsed.message).toBe(error.message);
    });
  });

  it('codes are distinct across classes', () => {
    const codes = Object.values(samples).map((make) => make().code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('error messages', () => {
  it('FlowNotFoundError names the flow and the registered ids', () => {
    const rt = runtime();
    const r = defineRoutine({ name: 'r', slots: ['in'], run() {} });
    rt.register(createFlow('known_one').add('r', r));
    const error = failWith(() => rt.exec('unknown_one'));
    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error.message).toContain("'unknown_one'");
    expect(error.message).toContain("'known_one'");
  });

  it('FlowValidationError names each culprit and where it is', () => {
    const a = defineRoutine({ name: 'a', slots: ['in'], events: { out: ['v'] }, run() {} });
    const b = defineRoutine({ name: 'b', slots: ['in'], run() {} });
    const flow = createFlow('bad_flow').add('a', a).add('b', b) as unknown as { connect(f: string, t: string): unknown; validate(): unknown[] };
    flow.connect('a.nope', 'b.in');
    flow.connect('a.out', 'zed.in');
    const problems = flow.validate();
    expect(problems).toHaveLength(2);
    const error = failWith(() => runtime().register(flow as never));
    expect(error).toBeInstanceOf(FlowValidationError);
    expect((error as FlowValidationError).problems).toEqual(problems);
    expect(error.message).toContain('bad_flow');
    expect(error.message).toContain("'nope'");
    expect(error.message).toContain("'zed'");
    expect(error.message).toContain('connections[0]');
    expect(error.message).toContain('connections[1]');
  });

  it('UnknownSlotError from runtime.post names the flow, routine and slot, and lists the slots', () => {
    const rt = runtime();
    const r = defineRoutine({ name: 'r', slots: ['alpha', 'beta'], run() {} });
    rt.register(createFlow('posting').add('r', r));
    const error = failWith(() => rt.post('posting', 'r', 'gamma', {}));
    expect(error).toBeInstanceOf(UnknownSlotError);
    for (const part of ["'posting'", "'r'", "'gamma'", "'alpha'", "'beta'"]) expect(error.message).toContain(part);
  });

  it('InvalidOptionError says what was expected and what came in', () => {
    const error = failWith(() => createRuntime({ maxJobs: -3 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(/^Expected `maxJobs` to be .+, got -3 \(number\)/);
  });

  it('WaitTimeoutError and JobTimeoutError name the job and the time', () => {
    expect(new WaitTimeoutError('job-1', 250).message).toMatch(/job-1.*250/);
    expect(new JobTimeoutError('job-2', 'flow-x', 900).message).toMatch(/job-2/);
    expect(new JobTimeoutError('job-2', 'flow-x', 900).message).toMatch(/900/);
  });

  it('JobFinishedError names the job and its final status', async () => {
    const rt = runtime();
    const r = defineRoutine({ name: 'r', slots: ['in'], run() {} });
    const job = rt.exec(createFlow('over').add('r', r), { params: {} });
    await job.wait();
    const error = failWith(() => job.post('r', 'in', {}));
    expect(error).toBeInstanceOf(JobFinishedError);
    expect(error.message).toContain(job.id);
    expect(error.message).toContain('completed');
  });

  it('RuntimeClosedError says what could not be done', async () => {
    const rt = runtime();
    await rt.shutdown();
    const error = failWith(() => rt.exec('anything'));
    expect(error).toBeInstanceOf(RuntimeClosedError);
    expect(error.message).toMatch(/shut down/);
  });
});

describe('activation failures', () => {
  it('a run that throws a non-Error value fails the job with a RoutineError whose cause is NonErrorThrownError carrying the value', async () => {
    const thrower = defineRoutine({
      name: 'thrower',
      slots: ['in'],
      run() {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'just a string';
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('non_error').add('thrower', thrower), { params: {} });
    const state = await job.wait();

    expect(state.status).toBe('failed');
    expect(isRoutineError(job.error)).toBe(true);
    const error = job.error as RoutineError;
    expect(error.routineId).toBe('thrower');
    expect(error.flowId).toBe('non_error');
    expect(error.jobId).toBe(job.id);
    expect(isNonErrorThrownError(error.cause)).toBe(true);
    expect((error.cause as NonErrorThrownError).value).toBe('just a string');
    expect(error.message).toContain('thrower');
    expect(error.message).toContain('just a string');
  });

  it('a rejected promise with a non-Error value keeps that very value', async () => {
    const value = { code: 42 };
    const rejecter = defineRoutine({
      name: 'rejecter',
      slots: ['in'],
      async run() {
        await Promise.resolve();
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw value;
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('non_error_async').add('rejecter', rejecter), { params: {} });
    await job.wait();

    const cause = (job.error as RoutineError).cause;
    expect(cause).toBeInstanceOf(NonErrorThrownError);
    expect((cause as NonErrorThrownError).value).toBe(value);
  });

  it('emitting an undeclared event fails the activation with UnknownEventError, even if run catches it', async () => {
    const sloppy = defineRoutine({
      name: 'sloppy',
      slots: ['in'],
      events: { out: ['v'], done: [] },
      run({ emit }) {
        try {
          (emit as (event: string, payload: object) => void)('oops', { v: 1 });
        } catch {
          // swallowed: the activation must still fail
        }
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('undeclared').add('sloppy', sloppy), { params: {} });
    await job.wait();

    expect(job.status).toBe('failed');
    const cause = (job.error as RoutineError).cause;
    expect(cause).toBeInstanceOf(UnknownEventError);
    const error = cause as UnknownEventError;
    expect(error.event).toBe('oops');
    for (const part of ["'oops'", "'sloppy'", "'undeclared'", "'out'", "'done'"]) expect(error.message).toContain(part);
  });

  it('emitting a payload without its declared fields fails the activation with PayloadError', async () => {
    const partial = defineRoutine({
      name: 'partial',
      slots: ['in'],
      events: { output: ['data', 'source'] },
      run({ emit }) {
        emit('output', { data: 1 } as never);
      },
    });
    const received: unknown[] = [];
    const sink = defineRoutine({
      name: 'sink',
      slots: ['in'],
      run({ slots }) {
        received.push(...slots.in);
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('missing_fields').add('partial', partial).add('sink', sink).connect('partial.output', 'sink.in'), { params: {} });
    await job.wait();

    expect(job.status).toBe('failed');
    const cause = (job.error as RoutineError).cause;
    expect(cause).toBeInstanceOf(PayloadError);
    for (const part of ["'source'", "'output'", "'partial'", "'missing_fields'"]) expect((cause as Error).message).toContain(part);
    expect(received).toEqual([]);
  });

  describe('a full slot queue', () => {
    const sender = defineRoutine({
      name: 'sender',
      slots: ['in'],
      events: { out: ['n'] },
      run({ emit }) {
        for (let n = 1; n <= 3; n++) emit('out', { n });
      },
    });
    // batch(5) never fires on 3 items, so everything delivered stays queued.
    const receiver = defineRoutine({ name: 'receiver', slots: ['input'], policy: policies.batch(5), run() {} });

    it('fails the emitting activation with SlotQueueFullError naming the flow, routine and slot', async () => {
      const rt = runtime();
      const flow = createFlow('full_queue').add('sender', sender).add('receiver', receiver, { maxQueue: 2 }).connect('sender.out', 'receiver.input');
      const job = rt.exec(flow, { params: {} });
      await job.wait();

      expect(job.status).toBe('failed');
      const error = job.error as RoutineError;
      expect(error).toBeInstanceOf(RoutineError);
      expect(error.routineId).toBe('sender');
      expect(error.cause).toBeInstanceOf(SlotQueueFullError);
      const full = error.cause as SlotQueueFullError;
      expect(full.routineId).toBe('receiver');
      expect(full.slot).toBe('input');
      expect(full.maxQueue).toBe(2);
      for (const part of ["'full_queue'", "'receiver'", "'input'", '2']) expect(full.message).toContain(part);
    });

    it("under 'continue', the job goes on and the first payloads stay delivered", async () => {
      const rt = runtime();
      const flow = createFlow('full_queue_continue')
        .add('sender', sender)
        .add('receiver', receiver, { maxQueue: 2 })
        .connect('sender.out', 'receiver.input')
        .onError('continue');
      const job = rt.exec(flow, { params: {} });
      const state = await job.wait();

      expect(state.status).toBe('completed');
      expect(state.routines.sender?.errors).toBe(1);
      const record = state.history.find((r) => r.routineId === 'sender');
      expect(record?.outcome).toBe('error');
      expect(record?.error).toBeInstanceOf(SlotQueueFullError);
      expect(state.routines.receiver?.pending).toEqual({ input: [{ n: 1 }, { n: 2 }] });
    });
  });

  it('emit after the activation ended throws ActivationEndedError naming the routine and the call', async () => {
    let late: RunContext<unknown, { out: { v: number } }, unknown, unknown>['emit'] | undefined;
    let lateSetState: ((value: Record<string, unknown>) => void) | undefined;
    const leaky = defineRoutine({
      name: 'leaky',
      slots: ['in'],
      events: { out: ['v'] },
      run({ emit, setState }) {
        late = emit;
        lateSetState = setState;
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('late_emit').add('leaky', leaky), { params: {}, keepAlive: true });
    await flush();
    expect(job.status).toBe('idle');

    const error = failWith(() => late?.('out', { v: 1 }));
    expect(error).toBeInstanceOf(ActivationEndedError);
    expect(error.message).toContain("'leaky'");
    expect(error.message).toContain('emit');
    expect(failWith(() => lateSetState?.({ x: 1 }))).toBeInstanceOf(ActivationEndedError);
    expect(job.state.outputs).toEqual({});
    expect(job.status).toBe('idle');
    job.complete();
    expect((await job.wait()).status).toBe('completed');
  });

  it('an activation past its timeoutMs fails with ActivationTimeoutError naming the routine', async () => {
    const clock = new ManualClock();
    const stuck = defineRoutine({
      name: 'stuck',
      slots: ['in'],
      timeoutMs: 100,
      async run({ signal }) {
        await clock.sleep(1_000, signal);
      },
    });
    const rt = runtime({ clock });
    const job = rt.exec(createFlow('slowpoke').add('stuck', stuck), { params: {} });
    await flush();
    await clock.advance(100);
    await job.wait();

    const cause = (job.error as RoutineError).cause as ActivationTimeoutError;
    expect(cause).toBeInstanceOf(ActivationTimeoutError);
    expect(cause.timeoutMs).toBe(100);
    for (const part of ["'stuck'", "'slowpoke'", '100']) expect(cause.message).toContain(part);
    expect(job.state.history.at(-1)?.outcome).toBe('timeout');
  });

  it("a cycle edge with onExhausted: 'fail' fails the job with CycleExhaustedError naming the edge", async () => {
    const looper = defineRoutine({
      name: 'looper',
      slots: ['in'],
      events: { again: ['i'] },
      run({ slots, emit }) {
        for (const { i } of slots.in) emit('again', { i: Number(i ?? 0) + 1 });
      },
    });
    const rt = runtime();
    const flow = createFlow('loop').add('looper', looper).connect('looper.again', 'looper.in', { maxIterations: 3, onExhausted: 'fail' });
    const job = rt.exec(flow, { params: { i: 0 } });
    await job.wait();

    expect(job.status).toBe('failed');
    const found = job.error instanceof CycleExhaustedError ? job.error : (job.error as RoutineError).cause;
    expect(found).toBeInstanceOf(CycleExhaustedError);
    expect((found as Error).message).toContain('looper.again->looper.in');
    expect((found as Error).message).toContain('3');
  });
});

describe('RoutineDefinitionError', () => {
  it('lists every problem of a bad definition, naming the routine', () => {
    const error = failWith(() => defineRoutine({ name: 'broken', slots: ['a', 'a', 'b.c'], run: 'nope' } as never));
    expect(error).toBeInstanceOf(RoutineDefinitionError);
    const problems = (error as RoutineDefinitionError).problems;
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(error.message).toContain("'broken'");
    expect(error.message).toMatch(/run/);
    expect(error.message).toMatch(/'a'.*twice/);
    expect(error.message).toContain("'b.c'");
  });

  it.each([
    ['no name', { slots: ['in'], run() {} }],
    ['no slots', { name: 'empty', slots: [], run() {} }],
    ['a bad event declaration', { name: 'ev', slots: ['in'], events: { out: 5 }, run() {} }],
  ])('rejects a definition with %s', (_label, options) => {
    expect(() => defineRoutine(options as never)).toThrow(RoutineDefinitionError);
  });
});

describe('errors a job ends with', () => {
  it('a cancelled job reports JobCancelledError with the reason', async () => {
    const clock = new ManualClock();
    const waiter = defineRoutine({
      name: 'waiter',
      slots: ['in'],
      async run({ signal }) {
        await clock.sleep(10_000, signal);
      },
    });
    const rt = runtime({ clock });
    const job = rt.exec(createFlow('to_cancel').add('waiter', waiter), { params: {} });
    await flush();
    job.cancel('changed my mind');
    await job.wait();

    expect(job.error).toBeInstanceOf(JobCancelledError);
    expect((job.error as JobCancelledError).jobId).toBe(job.id);
    expect(job.error?.message).toContain('changed my mind');
  });
});
