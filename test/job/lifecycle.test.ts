import { config } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createFlow,
  defineRoutine,
  JobCancelledError,
  JobFinishedError,
  JobTimeoutError,
  RoutineError,
  UnknownSlotError,
  WaitTimeoutError,
  type JobEvent,
  type Payload,
} from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

/** `step` waits at the gate, then forwards what it consumed to `next`, which reports it (an unconnected event). */
function pipeline(gate: Gate) {
  const step = defineRoutine({
    name: 'step',
    slots: ['in'],
    events: { out: ['n'] },
    async run({ slots, emit, signal, routineId }) {
      await gate.enter(routineId, signal);
      for (const { n } of slots.in) emit('out', { n });
    },
  });
  const next = defineRoutine({
    name: 'next',
    slots: ['in'],
    events: { done: ['n'] },
    run({ slots, emit }) {
      for (const { n } of slots.in) emit('done', { n });
    },
  });
  return createFlow('pipeline').add('step', step).add('next', next).connect('step.out', 'next.in');
}

const doneValues = (outputs: Readonly<Record<string, readonly Payload[]>>) => (outputs['next.done'] ?? []).map((p) => p.n);

describe('Job#wait', () => {
  it('resolves with the final JobState of a completed job', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { params: { n: 1 } });
    await flush();
    gate.releaseAll();

    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(state.jobId).toBe(job.id);
    expect(state.flowId).toBe('pipeline');
    expect(doneValues(state.outputs)).toEqual([1]);
    expect(state.finishedAt).toBeGreaterThanOrEqual(state.startedAt);
    expect(state.error).toBeUndefined();
    expect(job.state).toEqual(state);
  });

  it('resolves (does not reject) with the final JobState of a failed job', async () => {
    const boom = defineRoutine({
      name: 'boom',
      slots: ['in'],
      run({ setState }) {
        setState({ tried: true });
        throw new Error('kaput');
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('failing').add('boom', boom), { params: {} });

    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(state.error).toBeInstanceOf(RoutineError);
    expect(job.error).toBe(state.error);
    expect((state.error as RoutineError).routineId).toBe('boom');
    expect((state.error?.cause as Error).message).toBe('kaput');
    expect(state.routines.boom?.state).toEqual({ tried: true });
  });

  it('resolves with the final JobState of a cancelled job', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { params: { n: 1 } });
    await flush();
    job.cancel('no longer needed');

    const state = await job.wait();
    expect(state.status).toBe('cancelled');
    expect(job.error).toBeInstanceOf(JobCancelledError);
  });

  it('rejects with WaitTimeoutError when timeoutMs passes first, and the job keeps running', async () => {
    vi.useFakeTimers();
    const gate = new Gate();
    const rt = runtime({ clock: new ManualClock() });
    const job = rt.exec(pipeline(gate), { params: { n: 7 } });
    await flush();

    const waiting = job.wait({ timeoutMs: 500 });
    const rejected = expect(waiting).rejects.toBeInstanceOf(WaitTimeoutError);
    await vi.advanceTimersByTimeAsync(500);
    await rejected;
    await expect(waiting).rejects.toThrow(job.id);

    expect(job.status).toBe('running');
    gate.releaseAll();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(doneValues(state.outputs)).toEqual([7]);
  });
});

describe('Job#cancel', () => {
  it('shows data taken by an activation that had not started (waiting for the scheduler) as pending, not lost', async () => {
    const collect = defineRoutine({ name: 'collect', slots: ['item'], run: () => undefined });
    const rt = runtime();
    const job = rt.exec(createFlow('unstarted').add('collect', collect), { keepAlive: true });
    job.post('collect', 'item', { x: 3 });
    job.post('collect', 'item', { x: 4 });
    job.cancel();
    const { routines, history } = await job.wait();
    expect(routines.collect).toMatchObject({ status: 'idle', activations: 0, pending: { item: [{ x: 3 }, { x: 4 }] } });
    expect(history).toEqual([]);
  });

  it("aborts the running activation's signal with a JobCancelledError and delivers nothing more", async () => {
    const gate = new Gate();
    const emitResults: string[] = [];
    const step = defineRoutine({
      name: 'step',
      slots: ['in'],
      events: { out: ['n'] },
      async run({ emit, signal }) {
        await gate.enter('step').catch(() => undefined);
        emitResults.push(signal.aborted ? 'aborted' : 'live');
        try {
          emit('out', { n: 1 });
          emitResults.push('emitted');
        } catch (error) {
          emitResults.push((error as Error).name);
        }
      },
    });
    const nextRuns: unknown[] = [];
    const next = defineRoutine({
      name: 'next',
      slots: ['in'],
      run({ slots }) {
        nextRuns.push(slots.in);
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('cancelled').add('step', step).add('next', next).connect('step.out', 'next.in'), { params: {} });
    await flush();
    expect(gate.inside).toBe(1);
    const held = gate.held[0];
    expect(held).toBeDefined();

    job.cancel('user abort');
    expect(job.status).toBe('cancelled');
    held?.release();
    await flush();

    const state = await job.wait();
    expect(state.status).toBe('cancelled');
    expect(emitResults[0]).toBe('aborted');
    expect(emitResults[1]).not.toBe('emitted');
    expect(nextRuns).toEqual([]);
    expect(state.outputs).toEqual({});
    expect(job.error).toBeInstanceOf(JobCancelledError);
    expect(job.error?.message).toContain('user abort');
  });

  it('hands routines a signal whose reason is a JobCancelledError', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { params: { n: 1 } });
    await flush();
    const signal = gate.held[0]?.signal;
    expect(signal?.aborted).toBe(false);

    job.cancel('stop now');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(JobCancelledError);
    expect((signal?.reason as JobCancelledError).jobId).toBe(job.id);
    const state = await job.wait();
    expect(state.history.at(-1)?.outcome).toBe('cancelled');
  });

  it('is a no-op on a finished job', async () => {
    const quick = defineRoutine({ name: 'quick', slots: ['in'], run() {} });
    const rt = runtime();
    const job = rt.exec(createFlow('done').add('quick', quick), { params: {} });
    await job.wait();

    job.cancel();
    expect(job.status).toBe('completed');
    expect(job.error).toBeUndefined();
  });
});

describe('Job#pause and Job#resume', () => {
  it('lets the running activation finish, starts nothing new, queues arriving data, and goes on when resumed', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { params: { n: 1 } });
    const types: string[] = [];
    job.events$.subscribe((e) => types.push(e.type));
    await flush();
    expect(gate.inside).toBe(1);

    job.pause();
    expect(job.status).toBe('paused');
    gate.releaseNext(); // the running activation finishes and emits to `next`
    await flush();
    job.post('step', 'in', { n: 2 });
    await flush();

    expect(gate.inside).toBe(0);
    expect(gate.log).toEqual(['step']);
    expect(job.status).toBe('paused');
    const paused = job.state;
    expect(paused.routines.next?.activations).toBe(0);
    expect(paused.routines.next?.pending).toEqual({ in: [{ n: 1 }] });
    expect(paused.routines.step?.pending).toEqual({ in: [{ n: 2 }] });
    expect(paused.outputs).toEqual({});

    job.resume();
    expect(job.status).toBe('running');
    await flush();
    expect(gate.inside).toBe(1);
    gate.releaseAll();

    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(doneValues(state.outputs)).toEqual([1, 2]);
    await flush();
    expect(types).toContain('job.paused');
    expect(types.indexOf('job.resumed')).toBeGreaterThan(types.indexOf('job.paused'));
  });

  it('holds activations that were waiting for the scheduler when the job paused', async () => {
    const gate = new Gate();
    const src = defineRoutine({
      name: 'src',
      slots: ['in'],
      events: { go: [] },
      run({ emit }) {
        emit('go', {});
      },
    });
    const worker = defineRoutine({
      name: 'worker',
      slots: ['in'],
      async run({ routineId, signal }) {
        await gate.enter(routineId, signal);
      },
    });
    const rt = runtime({ concurrency: 1 });
    const flow = createFlow('paused_backlog')
      .add('src', src)
      .add('w1', worker)
      .add('w2', worker)
      .add('w3', worker)
      .connect('src.go', 'w1.in')
      .connect('src.go', 'w2.in')
      .connect('src.go', 'w3.in');
    const job = rt.exec(flow, { params: {} });
    await flush();
    expect(gate.log).toEqual(['w1']);

    job.pause();
    gate.releaseNext();
    await flush();
    expect(gate.inside).toBe(0);
    expect(gate.log).toEqual(['w1']);
    expect(job.status).toBe('paused');

    // Another job is not held by this one's pause.
    const other = rt.exec(createFlow('unpaused').add('w', worker), { params: {} });
    await flush();
    expect(gate.held.map((e) => e.info)).toEqual(['w']);
    gate.releaseNext();
    expect((await other.wait()).status).toBe('completed');

    job.resume();
    await flush();
    gate.releaseNext();
    await flush();
    gate.releaseNext();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(gate.log).toEqual(['w1', 'w', 'w2', 'w3']);
  });

  it('does not complete while paused, even with nothing to do', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { params: { n: 1 } });
    await flush();
    job.pause();
    gate.releaseAll();
    await flush();
    expect(job.status).toBe('paused');

    job.resume();
    await flush();
    expect((await job.wait()).status).toBe('completed');
  });
});

describe('keepAlive jobs', () => {
  it('waits in idle, wakes on post, and completes on complete()', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { keepAlive: true });
    await flush();
    expect(job.status).toBe('idle');

    job.post('step', 'in', { n: 1 });
    await flush();
    expect(job.status).toBe('running');
    gate.releaseAll();
    await flush();
    expect(job.status).toBe('idle');
    expect(doneValues(job.state.outputs)).toEqual([1]);

    job.complete();
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(doneValues(state.outputs)).toEqual([1]);
  });

  it('complete() lets queued work drain before the job completes', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { keepAlive: true, params: { n: 1 } });
    await flush();
    job.post('step', 'in', { n: 2 });
    job.complete();
    await flush();
    expect(job.status).toBe('running');

    gate.releaseNext();
    await flush();
    expect(job.status).toBe('running');
    gate.releaseNext();

    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(doneValues(state.outputs)).toEqual([1, 2]);
  });

  it('without keepAlive, a quiescent job completes instead of idling', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { params: { n: 1 } });
    await flush();
    gate.releaseAll();
    expect((await job.wait()).status).toBe('completed');
  });
});

describe('Job#post', () => {
  it('throws UnknownSlotError for an unknown routine, naming it and the flow', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { keepAlive: true });
    await flush();

    expect(() => job.post('ghost', 'in', {})).toThrow(UnknownSlotError);
    expect(() => job.post('ghost', 'in', {})).toThrow(/ghost/);
    expect(() => job.post('ghost', 'in', {})).toThrow(/pipeline/);
  });

  it('throws UnknownSlotError for an unknown slot, naming it and listing the slots', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { keepAlive: true });
    await flush();

    let thrown: unknown;
    try {
      job.post('step', 'nope', {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnknownSlotError);
    const error = thrown as UnknownSlotError;
    expect(error.routineId).toBe('step');
    expect(error.slot).toBe('nope');
    expect(error.message).toContain("'nope'");
    expect(error.message).toContain("'step'");
    expect(error.message).toContain("'in'");
    expect(job.status).toBe('idle');
  });

  it('throws JobFinishedError on a finished job', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { keepAlive: true });
    await flush();
    job.complete();
    await job.wait();

    expect(() => job.post('step', 'in', { n: 1 })).toThrow(JobFinishedError);
    expect(() => job.post('step', 'in', { n: 1 })).toThrow(job.id);
  });
});

describe('Runtime#post', () => {
  it('without a jobId, starts a job of the flow and delivers the payload into the named slot', async () => {
    const gate = new Gate();
    const rt = runtime();
    rt.register(pipeline(gate));

    const job = rt.post('pipeline', 'next', 'in', { n: 5 });
    expect(job.flowId).toBe('pipeline');
    expect(rt.getJob(job.id)).toBe(job);
    const state = await job.wait();

    expect(state.status).toBe('completed');
    expect(doneValues(state.outputs)).toEqual([5]);
    expect(gate.log).toEqual([]);
  });

  it('with a jobId, delivers into that running job', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(pipeline(gate), { keepAlive: true });
    await flush();

    expect(rt.post('pipeline', 'next', 'in', { n: 8 }, { jobId: job.id })).toBe(job);
    await flush();
    expect(doneValues(job.state.outputs)).toEqual([8]);
    expect(() => rt.post('pipeline', 'next', 'nope', { n: 1 }, { jobId: job.id })).toThrow(UnknownSlotError);
    job.complete();
    await job.wait();
    expect(() => rt.post('pipeline', 'next', 'in', { n: 1 }, { jobId: job.id })).toThrow(JobFinishedError);
  });

  it('throws UnknownSlotError before starting any job', () => {
    const gate = new Gate();
    const rt = runtime();
    rt.register(pipeline(gate));
    expect(() => rt.post('pipeline', 'ghost', 'in', {})).toThrow(UnknownSlotError);
    expect(() => rt.post('pipeline', 'step', 'ghost', {})).toThrow(UnknownSlotError);
    expect(rt.listJobs()).toEqual([]);
  });
});

describe('Job timeoutMs', () => {
  it('fails the job with JobTimeoutError once the time passes, aborting its activations', async () => {
    const clock = new ManualClock();
    const gate = new Gate();
    const rt = runtime({ clock });
    const job = rt.exec(pipeline(gate), { params: { n: 1 }, timeoutMs: 1_000 });
    await flush();
    const signal = gate.held[0]?.signal;

    await clock.advance(999);
    expect(job.status).toBe('running');
    await clock.advance(1);

    expect(job.status).toBe('failed');
    expect(job.error).toBeInstanceOf(JobTimeoutError);
    expect((job.error as JobTimeoutError).timeoutMs).toBe(1_000);
    expect(job.error?.message).toContain(job.id);
    expect(signal?.aborted).toBe(true);
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(state.error).toBe(job.error);
  });

  it('leaves no timer behind when the job finishes in time', async () => {
    const clock = new ManualClock();
    const gate = new Gate();
    const rt = runtime({ clock });
    const job = rt.exec(pipeline(gate), { params: { n: 1 }, timeoutMs: 1_000 });
    await flush();
    gate.releaseAll();
    await job.wait();

    expect(clock.pending).toBe(0);
    await clock.advance(5_000);
    expect(job.status).toBe('completed');
  });
});

describe('Job#state', () => {
  /** first -> second, plus a bystander that never gets data; both gated routines wait for the test. */
  function sharingFlow(gate: Gate) {
    const first = defineRoutine({
      name: 'first',
      slots: ['in'],
      events: { out: ['n'] },
      async run({ slots, emit, signal }) {
        await gate.enter('first', signal);
        emit('out', { n: slots.in.length });
      },
    });
    const second = defineRoutine({
      name: 'second',
      slots: ['in'],
      initialState: { count: 0 },
      async run({ slots, setState, signal }) {
        await gate.enter('second', signal);
        setState((draft) => {
          draft.count += slots.in.length;
        });
      },
    });
    const bystander = defineRoutine({ name: 'bystander', slots: ['in'], run() {} });
    return createFlow('sharing').add('first', first).add('second', second).add('bystander', bystander).connect('first.out', 'second.in');
  }

  it('is a new object after a change, sharing the routine entries that did not change', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(sharingFlow(gate), { params: {} });
    await flush();
    const s1 = job.state;
    expect(s1.routines.first?.status).toBe('running');

    gate.releaseNext(); // first finishes; second starts
    await flush();
    const s2 = job.state;
    expect(s2).not.toBe(s1);
    expect(s2.routines).not.toBe(s1.routines);
    expect(s2.routines.bystander).toBe(s1.routines.bystander);
    expect(s2.routines.first).not.toBe(s1.routines.first);
    expect(s1.routines.first?.activations).toBe(1);
    expect(s1.history).toHaveLength(0);
    expect(s2.history).toHaveLength(1);

    // Earlier snapshots are not changed by later work.
    gate.releaseNext(); // second updates its state
    await flush();
    const s3 = job.state;
    expect(s3).not.toBe(s2);
    expect(s3.routines.second?.state).toEqual({ count: 1 });
    expect(s2.routines.second?.state).toEqual({ count: 0 });
    expect(s2.history).toHaveLength(1);
  });

  it('shares unchanged routine entries between the final state and earlier snapshots', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(sharingFlow(gate), { params: {} });
    await flush();
    const s1 = job.state;
    gate.releaseNext();
    await flush();
    const s2 = job.state;
    gate.releaseNext();

    const final = await job.wait();
    expect(final.status).toBe('completed');
    expect(final.routines.bystander).toBe(s1.routines.bystander);
    expect(final.routines.first).toBe(s2.routines.first);
  });
});

describe('JobState history', () => {
  it('records each activation: consumed and emitted counts, outcome and duration', async () => {
    const clock = new ManualClock(1_000);
    const source = defineRoutine({
      name: 'source',
      slots: ['trigger'],
      events: { out: ['i'] },
      async run({ emit, signal }) {
        await clock.sleep(250, signal);
        for (let i = 0; i < 3; i++) emit('out', { i });
      },
    });
    const sink = defineRoutine({
      name: 'sink',
      slots: ['in'],
      run() {
        throw new Error('sink broke');
      },
    });
    const rt = runtime({ clock });
    const flow = createFlow('recorded').add('source', source).add('sink', sink).connect('source.out', 'sink.in').onError('continue');
    const job = rt.exec(flow, { params: { go: 1 } });
    await flush();
    await clock.advance(250);
    const state = await job.wait();

    expect(state.status).toBe('completed');
    const [first, ...more] = state.history.filter((r) => r.routineId === 'source');
    const rest = state.history.filter((r) => r.routineId === 'sink');
    expect(more).toEqual([]);
    expect(first).toMatchObject({
      routineId: 'source',
      startedAt: 1_000,
      finishedAt: 1_250,
      durationMs: 250,
      consumed: { trigger: 1 },
      emitted: { out: 3 },
      outcome: 'ok',
    });
    expect(first?.error).toBeUndefined();
    expect(rest.length).toBeGreaterThanOrEqual(1);
    for (const record of rest) {
      expect(record.routineId).toBe('sink');
      expect(record.outcome).toBe('error');
      expect(record.error?.message).toBe('sink broke');
      expect(record.durationMs).toBe(0);
    }
    expect(rest.reduce((sum, r) => sum + (r.consumed.in ?? 0), 0)).toBe(3);
    expect(state.routines.sink?.errors).toBe(rest.length);
    expect(state.routines.sink?.activations).toBe(rest.length);
  });

  it('keeps at most historyLimit records, dropping the oldest', async () => {
    const clock = new ManualClock();
    const tick = defineRoutine({ name: 'tick', slots: ['in'], run() {} });
    const rt = runtime({ clock, historyLimit: 3 });
    const job = rt.exec(createFlow('bounded_history').add('tick', tick), { keepAlive: true });
    await flush();

    for (let i = 0; i < 5; i++) {
      job.post('tick', 'in', { i });
      await flush();
      await clock.advance(10);
    }
    job.complete();
    const state = await job.wait();

    expect(state.history.map((r) => r.startedAt)).toEqual([20, 30, 40]);
    expect(state.routines.tick?.activations).toBe(5);
  });
});

describe('JobState history with historyLimit 0', () => {
  it('keeps no records but still counts activations', async () => {
    const tick = defineRoutine({ name: 'tick', slots: ['in'], run() {} });
    const rt = runtime({ historyLimit: 0 });
    const state = await rt.exec(createFlow('no_history').add('tick', tick), { params: {} }).wait();
    expect(state.history).toEqual([]);
    expect(state.routines.tick?.activations).toBe(1);
  });
});

describe('Job#events$', () => {
  it('shows a subscriber from the same tick as exec every event of the job, in order', async () => {
    const first = defineRoutine({
      name: 'first',
      slots: ['in'],
      events: { out: ['n'] },
      run({ emit }) {
        emit('out', { n: 1 });
      },
    });
    const second = defineRoutine({
      name: 'second',
      slots: ['in'],
      events: { result: ['n'] },
      async run({ slots, emit }) {
        await Promise.resolve();
        for (const { n } of slots.in) emit('result', { n: Number(n) * 10 });
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('evented').add('first', first).add('second', second).connect('first.out', 'second.in'), { params: {} });
    const events: JobEvent[] = [];
    let completed = false;
    job.events$.subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
    // Delivered asynchronously, never from inside exec.
    expect(events).toEqual([]);

    await job.wait();
    await flush();

    const types = events.map((e) => e.type);
    expect(types.indexOf('job.queued')).toBeLessThanOrEqual(0);
    const summary = events
      .filter((e) => e.type !== 'job.queued')
      .map((e) => ('routineId' in e ? `${e.type}:${e.routineId}` : e.type) + ('event' in e ? `.${e.event}` : ''));
    expect(summary).toEqual([
      'job.started',
      'routine.started:first',
      'event.emitted:first.out',
      'routine.completed:first',
      'routine.started:second',
      'event.emitted:second.result',
      'routine.completed:second',
      'job.completed',
    ]);
    expect(events.every((e) => e.jobId === job.id && e.flowId === 'evented' && typeof e.at === 'number')).toBe(true);
    const emitted = events.find((e) => e.type === 'event.emitted' && e.routineId === 'second');
    expect(emitted).toMatchObject({ payload: { n: 10 } });
    expect(completed).toBe(true);
  });

  it('carries the error on job.failed', async () => {
    const boom = defineRoutine({
      name: 'boom',
      slots: ['in'],
      run() {
        throw new Error('bad');
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('failing_events').add('boom', boom), { params: {} });
    const events: JobEvent[] = [];
    job.events$.subscribe((e) => events.push(e));
    await job.wait();
    await flush();

    const types = events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(['routine.failed', 'job.failed']);
    const failed = events.at(-1);
    expect(failed?.type === 'job.failed' && failed.error).toBeInstanceOf(RoutineError);
  });

  it('runtime.events$ sees the events of every job', async () => {
    const quick = defineRoutine({ name: 'quick', slots: ['in'], run() {} });
    const rt = runtime();
    const seen: JobEvent[] = [];
    rt.events$.subscribe((e) => seen.push(e));
    const flow = createFlow('observed').add('quick', quick);

    const jobs = [rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} })];
    await Promise.all(jobs.map((j) => j.wait()));
    await flush();

    for (const job of jobs) {
      const mine = seen.filter((e) => e.jobId === job.id).map((e) => e.type);
      expect(mine.filter((t) => t !== 'job.queued')).toEqual(['job.started', 'routine.started', 'routine.completed', 'job.completed']);
    }
    expect(seen.every((e) => e.flowId === 'observed')).toBe(true);
  });

  it('a subscriber that throws is reported, and neither the job nor other subscribers are affected', async () => {
    vi.useFakeTimers();
    const previous = config.onUnhandledError;
    const reported: unknown[] = [];
    config.onUnhandledError = (error) => reported.push(error);
    try {
      const gate = new Gate();
      const rt = runtime({ clock: new ManualClock() });
      const job = rt.exec(pipeline(gate), { params: { n: 3 } });
      const others: string[] = [];
      job.events$.subscribe(() => {
        throw new Error('subscriber bug');
      });
      job.events$.subscribe((e) => others.push(e.type));
      await flush();
      gate.releaseAll();

      const state = await job.wait();
      await vi.advanceTimersByTimeAsync(10);

      expect(state.status).toBe('completed');
      expect(doneValues(state.outputs)).toEqual([3]);
      expect(others.at(-1)).toBe('job.completed');
      expect(reported.length).toBeGreaterThanOrEqual(1);
      expect((reported[0] as Error).message).toBe('subscriber bug');
    } finally {
      config.onUnhandledError = previous;
    }
  });
});
