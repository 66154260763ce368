import { describe, expect, it } from 'vitest';
import {
  ActivationTimeoutError,
  createFlow,
  createRuntime,
  defineRoutine,
  InvalidOptionError,
  RoutineError,
  type ErrorStrategy,
  type JobEvent,
} from 'slotflow';
import { createManualClock, flush } from '../helpers/prop-clock.js';

/** A source emitting `count` payloads `{ v }` on `out`, synchronously, when given anything on `go`. */
function source(count: number) {
  return defineRoutine({
    name: 'src',
    slots: ['go'],
    events: { out: ['v'] },
    run({ emit }) {
      for (let v = 1; v <= count; v++) emit('out', { v });
    },
  });
}

function collectEvents(job: { events$: { subscribe(o: (e: JobEvent) => void): unknown } }): JobEvent[] {
  const events: JobEvent[] = [];
  job.events$.subscribe((e: JobEvent) => events.push(e));
  return events;
}

describe("onError: 'stop'", () => {
  it('fails the job with a RoutineError naming the routine, job and cause, and aborts other in-flight activations', async () => {
    const cause = new Error('boom');
    let slowSignal: AbortSignal | undefined;
    let slowAbortReason: unknown;
    const slow = defineRoutine({
      name: 'slow',
      slots: ['in'],
      async run({ signal }) {
        slowSignal = signal;
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            slowAbortReason = signal.reason;
            resolve();
          });
        });
      },
    });
    const failing = defineRoutine({
      name: 'failing',
      slots: ['in'],
      async run() {
        await Promise.resolve();
        throw cause;
      },
    });
    const flow = createFlow('stop')
      .add('src', source(1))
      .add('slow', slow)
      .add('bad', failing)
      .connect('src.out', 'slow.in')
      .connect('src.out', 'bad.in');
    const job = createRuntime().exec(flow, { params: {} });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(job.status).toBe('failed');
    expect(job.error).toBeInstanceOf(RoutineError);
    const error = job.error as RoutineError;
    expect(error.name).toBe('RoutineError');
    expect(error.routineId).toBe('bad');
    expect(error.jobId).toBe(job.id);
    expect(error.cause).toBe(cause);
    expect(state.error).toBe(error);
    expect(slowSignal?.aborted).toBe(true);
    expect(slowAbortReason).toBeDefined();
    const slowRecord = state.history.find((h) => h.routineId === 'slow');
    expect(slowRecord?.outcome).toBe('cancelled');
    expect(state.history.find((h) => h.routineId === 'bad')?.outcome).toBe('error');
  });

  it('starts no activation that was still waiting for the scheduler', async () => {
    const ran: string[] = [];
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      run() {
        ran.push('bad');
        throw new Error('first');
      },
    });
    const later = defineRoutine({
      name: 'later',
      slots: ['in'],
      run() {
        ran.push('later');
      },
    });
    const flow = createFlow('stopQueued').add('src', source(1)).add('bad', bad).add('later', later).connect('src.out', 'bad.in').connect('src.out', 'later.in');
    const state = await createRuntime({ concurrency: 1 }).exec(flow, { params: {} }).wait({ timeoutMs: 10_000 });
    await flush();
    expect(state.status).toBe('failed');
    expect(ran).toEqual(['bad']);
  });

  it('is the default strategy', async () => {
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      run() {
        throw new Error('nope');
      },
    });
    const job = createRuntime().exec(createFlow('stopDefault').add('bad', bad), { params: {} });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(job.error).toBeInstanceOf(RoutineError);
  });

  it('a non-Error thrown value still fails the job with a RoutineError', async () => {
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      run() {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'a string';
      },
    });
    const job = createRuntime().exec(createFlow('stopNonError').add('bad', bad), { params: {} });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(job.error).toBeInstanceOf(RoutineError);
    expect((job.error as RoutineError).routineId).toBe('bad');
  });

  it('delivers nothing more after the failure', async () => {
    let downstream = 0;
    const emitter = defineRoutine({
      name: 'emitter',
      slots: ['in'],
      events: { out: ['v'] },
      async run({ emit }) {
        await Promise.resolve();
        throw new Error('stop here');
        emit('out', { v: 1 });
      },
    });
    const sink = defineRoutine({
      name: 'sink',
      slots: ['in'],
      run() {
        downstream++;
      },
    });
    const flow = createFlow('stopNoMore').add('e', emitter).add('sink', sink).connect('e.out', 'sink.in');
    const state = await createRuntime().exec(flow, { params: {} }).wait();
    expect(state.status).toBe('failed');
    expect(downstream).toBe(0);
  });
});

describe("onError: 'continue'", () => {
  it('records the error (history, errors, routine.failed) and goes on; what was emitted before the throw stays delivered', async () => {
    const received: number[] = [];
    let calls = 0;
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      events: { out: ['v'] },
      onError: 'continue',
      run({ slots, emit }) {
        calls++;
        for (const p of slots.in) emit('out', { v: (p.v as number) * 10 });
        throw new Error(`fail ${calls}`);
      },
    });
    const sink = defineRoutine({
      name: 'sink',
      slots: ['in'],
      run({ slots }) {
        for (const p of slots.in) received.push(p.v as number);
      },
    });
    const flow = createFlow('continue').add('src', source(1)).add('flaky', flaky).add('sink', sink).connect('src.out', 'flaky.in').connect('flaky.out', 'sink.in');
    const job = createRuntime().exec(flow, { params: {} });
    const events = collectEvents(job);
    const state = await job.wait();
    await flush();
    expect(state.status).toBe('completed');
    expect(job.error).toBeUndefined();
    expect(received).toEqual([10]);
    expect(state.routines.flaky!.errors).toBe(1);
    expect(state.routines.flaky!.activations).toBe(1);
    expect(state.routines.flaky!.status).toBe('idle');
    const record = state.history.find((h) => h.routineId === 'flaky');
    expect(record?.outcome).toBe('error');
    expect(record?.error?.message).toBe('fail 1');
    expect(record?.emitted).toEqual({ out: 1 });
    const failed = events.filter((e) => e.type === 'routine.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ routineId: 'flaky', decision: 'continue' });
  });

  it('the routine keeps taking later data after a failure', async () => {
    const seen: number[] = [];
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: 'continue',
      run({ slots }) {
        const v = slots.in[0]!.v as number;
        seen.push(v);
        if (v === 1) throw new Error('first fails');
      },
    });
    const job = createRuntime().exec(createFlow('continue2').add('flaky', flaky), { keepAlive: true });
    job.post('flaky', 'in', { v: 1 });
    await flush();
    job.post('flaky', 'in', { v: 2 });
    job.complete();
    const state = await job.wait();
    expect(seen).toEqual([1, 2]);
    expect(state.routines.flaky!.activations).toBe(2);
    expect(state.routines.flaky!.errors).toBe(1);
    expect(state.history.map((h) => h.outcome)).toEqual(['error', 'ok']);
  });

  it("flow.onError('continue') is the default for the flow's routines; add({ onError }) overrides it", async () => {
    const thrower = defineRoutine({
      name: 'thrower',
      slots: ['in'],
      run() {
        throw new Error('x');
      },
    });
    const ok = await createRuntime().exec(createFlow('flowContinue').add('t', thrower).onError('continue'), { params: {} }).wait();
    expect(ok.status).toBe('completed');
    const failed = await createRuntime()
      .exec(createFlow('flowContinue2').add('t', thrower, { onError: 'stop' }).onError('continue'), { params: {} })
      .wait();
    expect(failed.status).toBe('failed');
  });
});

describe("onError: 'skip'", () => {
  it('marks the routine skipped: no further activations, later data pending, and the job still completes', async () => {
    let runs = 0;
    const skipper = defineRoutine({
      name: 'skipper',
      slots: ['in'],
      onError: 'skip',
      run() {
        runs++;
        throw new Error('skip me');
      },
    });
    const flow = createFlow('skip').add('src', source(3)).add('sk', skipper).connect('src.out', 'sk.in');
    const job = createRuntime().exec(flow, { params: {} });
    const events = collectEvents(job);
    const state = await job.wait({ timeoutMs: 10_000 });
    await flush();
    expect(state.status).toBe('completed');
    expect(runs).toBe(1);
    expect(state.routines.sk!.status).toBe('skipped');
    expect(state.routines.sk!.activations).toBe(1);
    expect(state.routines.sk!.errors).toBe(1);
    expect(state.routines.sk!.pending).toEqual({ in: [{ v: 2 }, { v: 3 }] });
    expect(events.filter((e) => e.type === 'routine.failed')).toMatchObject([{ routineId: 'sk', decision: 'skip' }]);
  });

  it('data posted after the skip is reported as pending', async () => {
    const skipper = defineRoutine({
      name: 'skipper',
      slots: ['in'],
      run() {
        throw new Error('skip me');
      },
    });
    const job = createRuntime().exec(createFlow('skip2').add('sk', skipper, { onError: 'skip' }), { keepAlive: true });
    job.post('sk', 'in', { n: 1 });
    await flush();
    job.post('sk', 'in', { n: 2 });
    job.post('sk', 'in', { n: 3 });
    job.complete();
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(state.routines.sk!.activations).toBe(1);
    expect(state.routines.sk!.pending).toEqual({ in: [{ n: 2 }, { n: 3 }] });
  });
});

describe('onError: { retry }', () => {
  it('re-runs with the same consumed data until it succeeds; activations counts attempts, errors failed ones', async () => {
    const attempts: { attempt: number; data: unknown[] }[] = [];
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: { retry: { max: 3 } },
      run({ slots, attempt }) {
        attempts.push({ attempt, data: [...slots.in] });
        if (attempts.length < 3) throw new Error(`attempt ${attempt}`);
      },
    });
    const job = createRuntime().exec(createFlow('retry').add('f', flaky), { params: { x: 1 } });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(attempts).toEqual([
      { attempt: 0, data: [{ x: 1 }] },
      { attempt: 1, data: [{ x: 1 }] },
      { attempt: 2, data: [{ x: 1 }] },
    ]);
    expect(state.routines.f!.activations).toBe(3);
    expect(state.routines.f!.errors).toBe(2);
    expect(state.history.map((h) => h.outcome)).toEqual(['retried', 'retried', 'ok']);
    expect(state.history.every((h) => h.consumed.in === 1)).toBe(true);
  });

  it('retries up to max more times, then applies then (default stop)', async () => {
    let runs = 0;
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: { retry: { max: 2 } },
      run() {
        runs++;
        throw new Error(`run ${runs}`);
      },
    });
    const job = createRuntime().exec(createFlow('retryStop').add('bad', bad), { params: {} });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(runs).toBe(3);
    expect(state.status).toBe('failed');
    expect(job.error).toBeInstanceOf(RoutineError);
    expect(((job.error as RoutineError).cause as Error).message).toBe('run 3');
    expect(state.routines.bad!.activations).toBe(3);
    expect(state.routines.bad!.errors).toBe(3);
    expect(state.history.map((h) => h.outcome)).toEqual(['retried', 'retried', 'error']);
  });

  it("then: 'continue' records the error and the job completes", async () => {
    let runs = 0;
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: { retry: { max: 1 }, then: 'continue' },
      run() {
        runs++;
        throw new Error('always');
      },
    });
    const job = createRuntime().exec(createFlow('retryContinue').add('bad', bad), { keepAlive: true });
    job.post('bad', 'in', { n: 1 });
    await flush(3);
    job.post('bad', 'in', { n: 2 });
    job.complete();
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(runs).toBe(4); // two activations, each tried twice
    expect(state.routines.bad!.status).toBe('idle');
    expect(state.history.map((h) => h.outcome)).toEqual(['retried', 'error', 'retried', 'error']);
  });

  it("then: 'skip' marks the routine skipped once retries are spent", async () => {
    let runs = 0;
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: { retry: { max: 1 }, then: 'skip' },
      run() {
        runs++;
        throw new Error('always');
      },
    });
    const job = createRuntime().exec(createFlow('retrySkip').add('src', source(2)).add('bad', bad).connect('src.out', 'bad.in'), { params: {} });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(runs).toBe(2);
    expect(state.routines.bad!.status).toBe('skipped');
    expect(state.routines.bad!.pending).toEqual({ in: [{ v: 2 }] });
  });

  it('waits backoffMs * factor^k before retry k (controllable clock)', async () => {
    const clock = createManualClock(0);
    const startedAt: number[] = [];
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: { retry: { max: 3, backoffMs: 100, factor: 3 }, then: 'continue' },
      run() {
        startedAt.push(clock.now());
        throw new Error('again');
      },
    });
    const job = createRuntime({ clock }).exec(createFlow('backoff').add('bad', bad), { params: {} });
    await flush();
    expect(startedAt).toEqual([0]);
    await clock.advanceTo(99);
    expect(startedAt).toEqual([0]);
    expect(job.status).toBe('running'); // a pending retry timer keeps the job alive
    await clock.advanceTo(100);
    expect(startedAt).toEqual([0, 100]);
    await clock.advanceTo(399);
    expect(startedAt).toEqual([0, 100]);
    await clock.advanceTo(400); // + 300
    expect(startedAt).toEqual([0, 100, 400]);
    await clock.advanceTo(1299);
    expect(startedAt).toHaveLength(3);
    await clock.advanceTo(1300); // + 900
    expect(startedAt).toEqual([0, 100, 400, 1300]);
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(state.routines.bad!.activations).toBe(4);
    expect(clock.pending).toBe(0);
  });

  it('factor defaults to 2', async () => {
    const clock = createManualClock(0);
    const startedAt: number[] = [];
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: { retry: { max: 2, backoffMs: 10 }, then: 'continue' },
      run() {
        startedAt.push(clock.now());
        throw new Error('again');
      },
    });
    const job = createRuntime({ clock }).exec(createFlow('backoff2').add('bad', bad), { params: {} });
    await clock.advanceTo(1000);
    expect(startedAt).toEqual([0, 10, 30]);
    expect((await job.wait()).status).toBe('completed');
  });

  it('caps the wait at maxBackoffMs', async () => {
    const clock = createManualClock(0);
    const startedAt: number[] = [];
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: { retry: { max: 3, backoffMs: 100, factor: 10, maxBackoffMs: 250 }, then: 'continue' },
      run() {
        startedAt.push(clock.now());
        throw new Error('again');
      },
    });
    const job = createRuntime({ clock }).exec(createFlow('backoffCap').add('bad', bad), { params: {} });
    await clock.advanceTo(5000);
    expect(startedAt).toEqual([0, 100, 350, 600]);
    expect((await job.wait()).status).toBe('completed');
  });

  it('publishes routine.retrying with the delay', async () => {
    const clock = createManualClock(0);
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: { retry: { max: 1, backoffMs: 40 }, then: 'continue' },
      run() {
        throw new Error('x');
      },
    });
    const job = createRuntime({ clock }).exec(createFlow('retryingEvent').add('bad', bad), { params: {} });
    const events = collectEvents(job);
    await clock.advanceTo(100);
    await job.wait();
    await flush();
    expect(events.filter((e) => e.type === 'routine.retrying')).toMatchObject([{ routineId: 'bad', delayMs: 40 }]);
  });

  it('when(err) false: no retry, then applies at once', async () => {
    let runs = 0;
    const seenErrors: string[] = [];
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      onError: {
        retry: {
          max: 5,
          when: (err) => {
            seenErrors.push((err as Error).message);
            return (err as Error).message !== 'fatal';
          },
        },
      },
      run() {
        runs++;
        throw new Error(runs === 1 ? 'transient' : 'fatal');
      },
    });
    const job = createRuntime().exec(createFlow('retryWhen').add('bad', bad), { params: {} });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(runs).toBe(2);
    expect(seenErrors).toEqual(['transient', 'fatal']);
    expect(state.status).toBe('failed');
    expect(((job.error as RoutineError).cause as Error).message).toBe('fatal');
    expect(state.history.map((h) => h.outcome)).toEqual(['retried', 'error']);
  });

  it('the job is not complete while a retry is waiting for its backoff', async () => {
    const clock = createManualClock(0);
    let runs = 0;
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: { retry: { max: 1, backoffMs: 500 } },
      run() {
        runs++;
        if (runs === 1) throw new Error('once');
      },
    });
    const job = createRuntime({ clock }).exec(createFlow('retryAlive').add('f', flaky), { params: {} });
    await flush(3);
    expect(job.status).toBe('running');
    expect(runs).toBe(1);
    await clock.advance(500);
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(runs).toBe(2);
  });

  it('a job stopped by another routine while a retry waits for its backoff fails at once and holds no timer', async () => {
    const clock = createManualClock(0);
    let retried = 0;
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: { retry: { max: 3, backoffMs: 1000 } },
      run({ attempt }) {
        if (attempt > 0) retried++;
        throw new Error('flaky');
      },
    });
    const fatal = defineRoutine({
      name: 'fatal',
      slots: ['in'],
      async run() {
        await Promise.resolve();
        throw new Error('fatal');
      },
    });
    const flow = createFlow('stopDuringBackoff').add('src', source(1)).add('flaky', flaky).add('fatal', fatal).connect('src.out', 'flaky.in').connect('src.out', 'fatal.in');
    const job = createRuntime({ clock }).exec(flow, { params: {} });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('failed');
    expect((job.error as RoutineError).routineId).toBe('fatal');
    expect(clock.pending).toBe(0);
    await clock.advance(10_000);
    expect(retried).toBe(0);
  });

  it('rejects bad retry options with InvalidOptionError', () => {
    const mk = (onError: ErrorStrategy) => () => defineRoutine({ name: 'x', slots: ['in'], onError, run() {} });
    expect(mk({ retry: { max: -1 } })).toThrow(InvalidOptionError);
    expect(mk({ retry: { max: 1.5 } })).toThrow(InvalidOptionError);
    expect(mk({ retry: { max: 1, backoffMs: -5 } })).toThrow(InvalidOptionError);
    expect(mk({ retry: { max: 1, factor: 0 } })).toThrow(InvalidOptionError);
    expect(mk('explode' as ErrorStrategy)).toThrow(InvalidOptionError);
  });
});

describe('timeoutMs', () => {
  function hanging(onError: ErrorStrategy, timeoutMs = 50) {
    const signals: AbortSignal[] = [];
    const routine = defineRoutine({
      name: 'hang',
      slots: ['in'],
      onError,
      timeoutMs,
      run({ signal }) {
        signals.push(signal);
        return new Promise<void>(() => undefined); // never settles by itself
      },
    });
    return { routine, signals };
  }

  it('fails the activation with ActivationTimeoutError and aborts its signal (stop -> job failed)', async () => {
    const clock = createManualClock(0);
    const { routine, signals } = hanging('stop');
    const job = createRuntime({ clock }).exec(createFlow('timeout').add('h', routine), { params: {} });
    await clock.advanceTo(49);
    expect(job.status).toBe('running');
    expect(signals[0]!.aborted).toBe(false);
    await clock.advanceTo(50);
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('failed');
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(ActivationTimeoutError);
    expect(job.error).toBeInstanceOf(RoutineError);
    const cause = (job.error as RoutineError).cause;
    expect(cause).toBeInstanceOf(ActivationTimeoutError);
    expect((cause as Error).name).toBe('ActivationTimeoutError');
    expect(state.history.map((h) => h.outcome)).toEqual(['timeout']);
  });

  it("goes through 'continue': history outcome 'timeout', the job completes", async () => {
    const clock = createManualClock(0);
    const { routine, signals } = hanging('continue');
    const job = createRuntime({ clock }).exec(createFlow('timeoutContinue').add('h', routine), { params: {} });
    await clock.advance(50);
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(signals[0]!.aborted).toBe(true);
    expect(state.routines.h!.errors).toBe(1);
    expect(state.history).toHaveLength(1);
    expect(state.history[0]!.outcome).toBe('timeout');
    expect(state.history[0]!.error).toBeInstanceOf(ActivationTimeoutError);
  });

  it('goes through retry: a timed-out attempt is retried with the same data', async () => {
    const clock = createManualClock(0);
    const attempts: { attempt: number; data: unknown[]; at: number }[] = [];
    const routine = defineRoutine({
      name: 'slowThenFast',
      slots: ['in'],
      timeoutMs: 50,
      onError: { retry: { max: 2, backoffMs: 10 } },
      run({ slots, attempt }) {
        attempts.push({ attempt, data: [...slots.in], at: clock.now() });
        if (attempt === 0) return new Promise<void>(() => undefined);
        return undefined;
      },
    });
    const job = createRuntime({ clock }).exec(createFlow('timeoutRetry').add('r', routine), { params: { k: 1 } });
    await clock.advanceTo(1000);
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(attempts).toEqual([
      { attempt: 0, data: [{ k: 1 }], at: 0 },
      { attempt: 1, data: [{ k: 1 }], at: 60 },
    ]);
    expect(state.history.map((h) => h.outcome)).toEqual(['retried', 'ok']);
    expect(state.history[0]!.error).toBeInstanceOf(ActivationTimeoutError);
  });

  it('a per-instance timeoutMs overrides the definition', async () => {
    const clock = createManualClock(0);
    const { routine } = hanging('continue', 1000);
    const job = createRuntime({ clock }).exec(createFlow('timeoutOverride').add('h', routine, { timeoutMs: 20 }), { params: {} });
    await clock.advanceTo(20);
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.history[0]!.outcome).toBe('timeout');
    expect(state.history[0]!.finishedAt).toBe(20);
  });
});
