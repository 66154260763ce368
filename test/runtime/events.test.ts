import { config, first, map, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFlow, defineRoutine, InvalidOptionError, JobCancelledError, RoutineError, type Job, type JobEvent, type JobEventType } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

afterEach(() => {
  vi.restoreAllMocks();
});

/** The event types SPEC 6 lists. */
const SPEC_TYPES: readonly JobEventType[] = [
  'job.queued',
  'job.started',
  'job.paused',
  'job.resumed',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'routine.started',
  'routine.completed',
  'routine.failed',
  'routine.retrying',
  'event.emitted',
  'cycle.converged',
  'cycle.exhausted',
];

/** Subscribes in the same tick and collects the job's events; `done` resolves when its stream completes. */
function record(job: Job): { readonly events: JobEvent[]; readonly done: Promise<void> } {
  const events: JobEvent[] = [];
  const done = new Promise<void>((resolve) => {
    job.events$.subscribe({ next: (e) => events.push(e), complete: resolve });
  });
  return { events, done };
}

const types = (events: readonly JobEvent[]) => events.map((e) => e.type);

/** `step` waits at the gate and passes `n` on; `sink` reports it (an unconnected event). */
function gated(gate: Gate, id = 'gated') {
  const step = defineRoutine({
    name: 'step',
    slots: ['in'],
    events: { out: ['n'] },
    async run({ slots, emit, signal, routineId }) {
      await gate.enter(routineId, signal);
      for (const { n } of slots.in) emit('out', { n });
    },
  });
  const sink = defineRoutine({
    name: 'sink',
    slots: ['in'],
    events: { done: ['n'] },
    run({ slots, emit }) {
      for (const { n } of slots.in) emit('done', { n });
    },
  });
  return createFlow(id).add('step', step).add('sink', sink).connect('step.out', 'sink.in');
}

/** One activation that emits `count` unconnected events in a row. */
function burst(count: number) {
  const emitter = defineRoutine({
    name: 'emitter',
    slots: ['in'],
    events: { item: ['i'] },
    run({ emit }) {
      for (let i = 0; i < count; i++) emit('item', { i });
    },
  });
  return createFlow('burst').add('emitter', emitter);
}

describe('job events (SPEC 6)', () => {
  const seen = new Set<JobEventType>();

  it('job.queued, job.started, routine.started, event.emitted, routine.completed, job.completed', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(gated(gate), { params: { n: 7 } });
    const { events, done } = record(job);
    await flush();
    gate.releaseAll();
    await done;

    const of = (routineId: string) => events.filter((e) => 'routineId' in e && e.routineId === routineId).map((e) => e.type);
    expect(of('step')).toEqual(['routine.started', 'event.emitted', 'routine.completed']);
    expect(of('sink')).toEqual(['routine.started', 'event.emitted', 'routine.completed']);
    expect(types(events).filter((t) => t.startsWith('job.'))).toEqual(['job.queued', 'job.started', 'job.completed']);
    expect(types(events).slice(0, 3)).toEqual(['job.queued', 'job.started', 'routine.started']);
    expect(types(events).at(-1)).toBe('job.completed');
    expect(events.filter((e) => e.type === 'event.emitted').map((e) => `${e.routineId}.${e.event}:${String(e.payload.n)}`)).toEqual(['step.out:7', 'sink.done:7']);
    const completed = events.find((e) => e.type === 'routine.completed' && e.routineId === 'step');
    expect(completed).toMatchObject({ routineId: 'step', attempt: 0, durationMs: expect.any(Number) });
    expect(events.every((e) => e.jobId === job.id && e.flowId === 'gated' && typeof e.at === 'number')).toBe(true);
    for (const e of events) seen.add(e.type);
  });

  it('job.queued only, for a job waiting for a maxJobs place; job.started once admitted', async () => {
    const gate = new Gate();
    const rt = runtime({ maxJobs: 1 });
    const flow = gated(gate);
    const first = rt.exec(flow, { params: { n: 1 } });
    const second = rt.exec(flow, { params: { n: 2 } });
    const { events } = record(second);
    await flush();
    expect(types(events)).toEqual(['job.queued']);
    gate.releaseAll();
    await first.wait();
    await flush();
    gate.releaseAll();
    await second.wait();
    await flush();
    expect(types(events).slice(0, 2)).toEqual(['job.queued', 'job.started']);
  });

  it('job.paused and job.resumed', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(gated(gate), { params: { n: 1 } });
    const { events, done } = record(job);
    await flush();
    job.pause();
    gate.releaseAll();
    await flush();
    expect(types(events)).toContain('job.paused');
    expect(types(events)).not.toContain('job.resumed');
    job.resume();
    await done;

    const lifecycle = types(events).filter((t) => t.startsWith('job.'));
    expect(lifecycle).toEqual(['job.queued', 'job.started', 'job.paused', 'job.resumed', 'job.completed']);
    for (const e of events) seen.add(e.type);
  });

  it('routine.retrying (with its delay) and routine.failed (with the decision), then job.failed with the typed error', async () => {
    const clock = new ManualClock();
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: { retry: { max: 1, backoffMs: 50 } },
      run() {
        throw new Error('down');
      },
    });
    const rt = runtime({ clock });
    const job = rt.exec(createFlow('flaky').add('flaky', flaky), { params: {} });
    const { events, done } = record(job);
    await clock.advance(50);
    await done;

    expect(types(events)).toEqual(['job.queued', 'job.started', 'routine.started', 'routine.failed', 'routine.retrying', 'routine.started', 'routine.failed', 'job.failed']);
    const failures = events.filter((e) => e.type === 'routine.failed');
    expect(failures.map((e) => [e.attempt, e.decision, e.error.message])).toEqual([
      [0, 'retry', 'down'],
      [1, 'stop', 'down'],
    ]);
    expect(events.find((e) => e.type === 'routine.retrying')).toMatchObject({ routineId: 'flaky', attempt: 1, delayMs: 50 });
    const end = events.at(-1);
    expect(end?.type === 'job.failed' && end.error).toBeInstanceOf(RoutineError);
    for (const e of events) seen.add(e.type);
  });

  it('job.cancelled, carrying the JobCancelledError', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(gated(gate), { params: { n: 1 } });
    const { events, done } = record(job);
    await flush();
    job.cancel('enough');
    await done;

    const end = events.at(-1);
    expect(end?.type).toBe('job.cancelled');
    expect(end?.type === 'job.cancelled' && end.error).toBeInstanceOf(JobCancelledError);
    expect(end?.type === 'job.cancelled' && (end.error as JobCancelledError).reason).toBe('enough');
    for (const e of events) seen.add(e.type);
  });

  it('cycle.converged and cycle.exhausted, with the edge and its iterations', async () => {
    const counter = defineRoutine({
      name: 'counter',
      slots: ['in'],
      events: { next: ['k'] },
      run({ slots, emit }) {
        for (const { k } of slots.in) emit('next', { k: Number(k) + 1 });
      },
    });
    const converging = createFlow('converging').add('counter', counter).connect('counter.next', 'counter.in', { maxIterations: 10, until: (p) => Number(p.k) >= 3 });
    const exhausting = createFlow('exhausting').add('counter', counter).connect('counter.next', 'counter.in', { maxIterations: 2 });
    const rt = runtime();
    const a = record(rt.exec(converging, { params: { k: 0 } }));
    const b = record(rt.exec(exhausting, { params: { k: 0 } }));
    await Promise.all([a.done, b.done]);

    expect(a.events.filter((e) => e.type.startsWith('cycle.'))).toEqual([expect.objectContaining({ type: 'cycle.converged', edge: 'counter.next->counter.in', iterations: 2 })]);
    expect(b.events.filter((e) => e.type.startsWith('cycle.'))).toEqual([expect.objectContaining({ type: 'cycle.exhausted', edge: 'counter.next->counter.in', iterations: 2 })]);
    for (const e of [...a.events, ...b.events]) seen.add(e.type);
  });

  it('covers every type SPEC 6 lists (the tests above)', () => {
    expect([...seen].sort()).toEqual([...SPEC_TYPES].sort());
  });
});

describe('event delivery', () => {
  it('is asynchronous: a subscriber never runs inside exec, a post, or a routine step', async () => {
    const rt = runtime();
    const delivered: JobEvent[] = [];
    rt.events$.subscribe((e) => delivered.push(e));
    const seenDuringRun: number[] = [];
    const emitter = defineRoutine({
      name: 'emitter',
      slots: ['in'],
      events: { item: ['i'] },
      run({ emit }) {
        for (let i = 0; i < 3; i++) {
          emit('item', { i });
          seenDuringRun.push(delivered.filter((e) => e.type === 'event.emitted').length);
        }
      },
    });
    const job = rt.exec(createFlow('async_delivery').add('emitter', emitter), { keepAlive: true });
    expect(delivered).toEqual([]);
    await flush();
    const before = delivered.length;
    job.post('emitter', 'in', {});
    expect(delivered).toHaveLength(before);
    await flush();
    job.complete();
    await job.wait();
    await flush();

    expect(seenDuringRun).toEqual([0, 0, 0]);
    expect(delivered.filter((e) => e.type === 'event.emitted')).toHaveLength(3);
  });

  it('reaches runtime.events$ and job.events$ subscribers alike, in the same order', async () => {
    const rt = runtime();
    const all: JobEvent[] = [];
    rt.events$.subscribe((e) => all.push(e));
    const flow = burst(3);
    const jobs = [rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} })];
    const recorded = jobs.map(record);
    await Promise.all(recorded.map((r) => r.done));
    await flush();

    jobs.forEach((job, i) => {
      expect(all.filter((e) => e.jobId === job.id)).toEqual(recorded[i]?.events);
    });
  });

  it('completes job.events$ at once for a job that has already finished (its events are gone)', async () => {
    const rt = runtime();
    const job = rt.exec(burst(1), { params: {} });
    await job.wait();
    await flush();
    const late = record(job);
    let completed = false;
    void late.done.then(() => (completed = true));
    await Promise.resolve();
    expect(completed).toBe(true);
    expect(late.events).toEqual([]);
  });

  it('does not deliver the event being delivered to a subscriber added during its delivery', async () => {
    const rt = runtime();
    const all: JobEvent[] = [];
    rt.events$.subscribe((e) => all.push(e));
    // Each subscriber takes one event, then subscribes a successor: one successor per event, not a loop on the first.
    const seen: { readonly runtime: JobEvent[]; readonly job: JobEvent[] } = { runtime: [], job: [] };
    const watch = (source: 'runtime' | 'job', job: Job): void => {
      // (The last successor of the job's stream sees it complete empty: `first()` errors, which it ignores.)
      (source === 'runtime' ? rt.events$ : job.events$).pipe(first()).subscribe({
        next: (e) => {
          seen[source].push(e);
          // A bound, so that the bug shows as a failed expectation instead of a hung test.
          if (seen[source].length < 50) watch(source, job);
        },
        error: () => undefined,
      });
    };
    const job = rt.exec(burst(3), { params: {} });
    watch('runtime', job);
    watch('job', job);
    await job.wait();
    await flush();

    const own = all.filter((e) => e.jobId === job.id);
    expect(own.length).toBeGreaterThan(3);
    expect(seen.runtime).toEqual(all);
    expect(seen.job).toEqual(own);
  });

  it('does not deliver to a subscriber unsubscribed by another during the same delivery', async () => {
    const rt = runtime();
    const job = rt.exec(burst(2), { params: {} });
    const late = { runtime: [] as JobEvent[], job: [] as JobEvent[] };
    const subscriptions: Subscription[] = [];
    // Subscribed first, so they run first: each unsubscribes the late ones while the first event is delivered.
    rt.events$.subscribe(() => subscriptions.forEach((s) => s.unsubscribe()));
    job.events$.subscribe(() => subscriptions.forEach((s) => s.unsubscribe()));
    subscriptions.push(rt.events$.subscribe((e) => late.runtime.push(e)), job.events$.subscribe((e) => late.job.push(e)));
    await job.wait();
    await flush();
    expect(late).toEqual({ runtime: [], job: [] });
  });

  it('shows a subscriber who arrives after the job finished, within the same tick, the rest of its events', async () => {
    const rt = runtime();
    // An already aborted signal: the job ends within exec; its events wait for delivery.
    const job = rt.exec(createFlow('instant').add('noop', defineRoutine({ name: 'noop', slots: ['in'], run() {} })), { signal: AbortSignal.abort('gone') });
    expect(job.status).toBe('cancelled');
    const { events, done } = record(job);
    await done;
    expect(types(events)).toEqual(['job.queued', 'job.cancelled']);
  });
});

describe('job.events$ of a job that ended unwatched', () => {
  it('delivers what is still undelivered, then completes (no final event was built)', async () => {
    const rt = runtime();
    const job = rt.exec(collectorFlow(), { keepAlive: true });
    await flush();
    const watcher = rt.events$.subscribe();
    job.pause(); // built: the runtime stream is watched
    watcher.unsubscribe();
    job.cancel(); // not built: nobody watches any more
    const { events, done } = record(job);
    await done;
    expect(types(events)).toEqual(['job.paused']);
    expect(job.status).toBe('cancelled');
  });
});

function collectorFlow() {
  const sink = defineRoutine({ name: 'sink', slots: ['in'], run() {} });
  return createFlow('unwatched').add('sink', sink);
}

describe('a subscriber that throws', () => {
  it('is reported to onUnhandledError with the event; the job, the other subscribers and its own subscription go on', async () => {
    const reports: { error: unknown; event: JobEvent | undefined; source: string }[] = [];
    const gate = new Gate();
    const rt = runtime({ onUnhandledError: (error, info) => reports.push({ error, event: info.event, source: info.source }) });
    const job = rt.exec(gated(gate), { params: { n: 3 } });
    let calls = 0;
    job.events$.subscribe(() => {
      calls++;
      throw new Error('subscriber bug');
    });
    const others = record(job);
    await flush();
    gate.releaseAll();
    const state = await job.wait();
    await others.done;

    expect(state.status).toBe('completed');
    expect(state.outputs['sink.done']).toEqual([{ n: 3 }]);
    expect(types(others.events).at(-1)).toBe('job.completed');
    expect(calls).toBe(others.events.length);
    expect(reports).toHaveLength(others.events.length);
    expect(reports.every((r) => r.source === 'subscriber' && (r.error as Error).message === 'subscriber bug')).toBe(true);
    expect(reports.map((r) => r.event)).toEqual(others.events);
  });

  it('is reported for runtime.events$ too, and for a stream piped from it whose operator throws without an error handler', async () => {
    const reports: unknown[] = [];
    const rt = runtime({ onUnhandledError: (error) => reports.push(error) });
    rt.events$.subscribe(() => {
      throw new Error('runtime subscriber');
    });
    rt.events$
      .pipe(
        map((e) => {
          if (e.type === 'job.completed') throw new Error('operator');
          return e;
        }),
      )
      .subscribe(() => {});
    const state = await rt.exec(burst(1), { params: {} }).wait();
    await flush();

    expect(state.status).toBe('completed');
    expect(reports.filter((e) => (e as Error).message === 'runtime subscriber').length).toBeGreaterThan(1);
    expect(reports.filter((e) => (e as Error).message === 'operator')).toHaveLength(1);
  });

  it("hands a piped stream's error to the subscriber's own error handler when it has one", async () => {
    const reports: unknown[] = [];
    const handled: unknown[] = [];
    const rt = runtime({ onUnhandledError: (error) => reports.push(error) });
    const job = rt.exec(burst(1), { params: {} });
    job.events$
      .pipe(
        map(() => {
          throw new Error('operator');
        }),
      )
      .subscribe({ error: (error: unknown) => handled.push(error) });
    await job.wait();
    await flush();
    expect(handled).toEqual([new Error('operator')]);
    expect(reports).toEqual([]);
  });

  it('by default goes to RxJS config.onUnhandledError when the application set it', async () => {
    const previous = config.onUnhandledError;
    const reported: unknown[] = [];
    config.onUnhandledError = (error) => reported.push(error);
    try {
      const rt = runtime();
      const job = rt.exec(burst(1), { params: {} });
      job.events$.subscribe(() => {
        throw new Error('to rxjs');
      });
      expect((await job.wait()).status).toBe('completed');
      await flush();
      expect(reported.length).toBeGreaterThan(0);
      expect(reported.every((e) => (e as Error).message === 'to rxjs')).toBe(true);
    } finally {
      config.onUnhandledError = previous;
    }
  });

  it("by default is a job.warning event (code 'subscriber.threw'), once per subscription, never a process warning", async () => {
    const processWarnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const rt = runtime();
    const seen: JobEvent[] = [];
    rt.events$.subscribe((e) => seen.push(e));
    const job = rt.exec(burst(2), { params: {} });
    for (const name of ['first', 'second'])
      job.events$.subscribe(() => {
        throw new Error(`${name} bug`);
      });
    expect((await job.wait()).status).toBe('completed');
    await flush();

    const warnings = seen.filter((e) => e.type === 'job.warning');
    expect(warnings.map((w) => [w.jobId, w.code])).toEqual([
      [job.id, 'subscriber.threw'],
      [job.id, 'subscriber.threw'],
    ]);
    expect(warnings[0]?.message).toMatch(/A job event subscriber threw while receiving 'job.queued' of job '.+'.*: first bug$/);
    expect(warnings[1]?.message).toMatch(/second bug$/);
    expect(processWarnings).not.toHaveBeenCalled();
  });

  it('a subscriber that throws on every event, job.warning included, does not feed itself', async () => {
    const rt = runtime();
    const seen: JobEvent[] = [];
    rt.events$.subscribe((e) => seen.push(e));
    const job = rt.exec(burst(1), { params: {} });
    rt.events$.pipe(map((e) => e)).subscribe(() => {
      throw new Error('always');
    });
    expect((await job.wait()).status).toBe('completed');
    await flush();
    expect(seen.filter((e) => e.type === 'job.warning')).toHaveLength(1);
  });

  it('an onUnhandledError that throws becomes a warning; delivery goes on', async () => {
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
      warnings.push(String(warning));
    });
    const rt = runtime({
      onUnhandledError: () => {
        throw new Error('handler bug');
      },
    });
    const job = rt.exec(burst(1), { params: {} });
    job.events$.subscribe((e) => {
      if (e.type === 'job.started') throw new Error('subscriber bug');
    });
    const { events, done } = record(job);
    await done;
    expect(types(events).at(-1)).toBe('job.completed');
    expect(warnings).toEqual([expect.stringMatching(/onUnhandledError threw: handler bug/)]);
  });

  it('rejects an onUnhandledError that is not a function', () => {
    expect(() => runtime({ onUnhandledError: 'log' as never })).toThrow(InvalidOptionError);
  });
});

describe('bounded buffering (maxBufferedEvents)', () => {
  it('keeps at most the cap per delivery, counts the rest in one events.dropped per job, and always keeps the final event', async () => {
    const rt = runtime({ maxBufferedEvents: 5 });
    const all: JobEvent[] = [];
    rt.events$.subscribe((e) => all.push(e));
    const reference = runtime();
    const referenceJob = reference.exec(burst(20), { params: {} });
    const full = record(referenceJob);
    const job = rt.exec(burst(20), { params: {} });
    const { events, done } = record(job);
    await Promise.all([done, full.done]);
    await flush();

    const drops = events.filter((e) => e.type === 'events.dropped');
    expect(drops.length).toBeGreaterThan(0);
    const droppedCount = drops.reduce((sum, e) => sum + e.dropped, 0);
    const kept = events.filter((e) => e.type !== 'events.dropped');
    // Nothing silently lost: kept + counted = everything the same job produces unbounded.
    expect(kept.length + droppedCount).toBe(full.events.length);
    expect(types(events).at(-1)).toBe('job.completed');
    expect(all.filter((e) => e.jobId === job.id)).toEqual(events);
  });

  it('drops nothing (and emits no events.dropped) under the default cap', async () => {
    const rt = runtime();
    const { events, done } = record(rt.exec(burst(500), { params: {} }));
    await done;
    expect(types(events)).not.toContain('events.dropped');
    expect(events.filter((e) => e.type === 'event.emitted')).toHaveLength(500);
  });

  it('rejects a cap below 1', () => {
    expect(() => runtime({ maxBufferedEvents: 0 })).toThrow(InvalidOptionError);
    expect(() => runtime({ maxBufferedEvents: 1.5 })).toThrow(/maxBufferedEvents/);
  });
});
