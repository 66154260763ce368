/**
 * Routine actors are reused across jobs of a flow (`reuseActors`), never while inspecting.
 */
import { describe, expect, it, vi } from 'vitest';
import * as xstate from 'xstate';
import { createFlow, createRuntime, defineRoutine, policies } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { flush } from '../helpers/flush.js';

// A pass-through spy on createActor: it counts the actors the runtime creates.
vi.mock('xstate', async (importOriginal) => {
  const actual = await importOriginal<typeof import('xstate')>();
  return { ...actual, createActor: vi.fn(actual.createActor) };
});

const probe = defineRoutine({ name: 'probe', slots: ['in'], run: () => undefined });
const flow = createFlow('probe').add('probe', probe);

/** Actors created for `jobs` jobs of `flow` run one after another. */
async function actorsFor(jobs: number, options: Parameters<typeof createRuntime>[0]): Promise<number> {
  const createActor = vi.mocked(xstate.createActor);
  createActor.mockClear();
  await using rt = createRuntime(options);
  for (let i = 0; i < jobs; i++) await rt.exec(flow, { params: {} }).wait();
  return createActor.mock.calls.length;
}

describe('reuseActors', () => {
  it('reuses the routine actors and the supervisors of finished jobs', async () => {
    // The first job creates its supervisor and routine actor; the next two reuse them.
    expect(await actorsFor(3, {})).toBe(1 + 1);
  });

  it('a reused supervisor runs each job from queued to its own final status, with its own events', async () => {
    await using rt = createRuntime({});
    const failing = createFlow('failing').add('boom', defineRoutine({ name: 'boom', slots: ['in'], run: () => { throw new Error('boom'); } }));
    const seen: string[] = [];
    rt.events$.subscribe((event) => { if (event.type.startsWith('job.')) seen.push(`${event.jobId}:${event.type}`); });
    const a = await rt.exec(flow, { params: {}, jobId: 'a' }).wait();
    const b = await rt.exec(failing, { params: {}, jobId: 'b' }).wait();
    const keep = rt.exec(flow, { keepAlive: true, jobId: 'c' });
    keep.complete();
    const c = await keep.wait();
    const d = await rt.exec(flow, { params: {}, jobId: 'd' }).wait();
    expect([a.status, b.status, c.status, d.status]).toEqual(['completed', 'failed', 'completed', 'completed']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([
      'a:job.queued', 'a:job.started', 'a:job.completed',
      'b:job.queued', 'b:job.started', 'b:job.failed',
      'c:job.queued', 'c:job.started', 'c:job.completed',
      'd:job.queued', 'd:job.started', 'd:job.completed',
    ]);
  });

  it('a job cancelled while queued releases its supervisor to the next job', async () => {
    const createActor = vi.mocked(xstate.createActor);
    await using rt = createRuntime({ maxJobs: 1 });
    const first = rt.exec(flow, { keepAlive: true });
    const waiting = rt.exec(flow, { params: {} });
    waiting.cancel('not needed');
    expect((await waiting.wait()).status).toBe('cancelled');
    first.complete();
    expect((await first.wait()).status).toBe('completed');
    await new Promise((resolve) => setImmediate(resolve));
    createActor.mockClear();
    expect((await rt.exec(flow, { params: {} }).wait()).status).toBe('completed');
    expect(createActor.mock.calls.length).toBe(0);
  });

  it('0 turns reuse off: every job creates its routine actors', async () => {
    expect(await actorsFor(3, { reuseActors: 0 })).toBe(3 + 3);
  });

  it('never reuses while inspecting, so each job shows its own actor ids', async () => {
    expect(await actorsFor(3, { inspect: () => undefined })).toBe(3 + 3);
  });

  it('keeps at most reuseActors idle actors per routine', async () => {
    const createActor = vi.mocked(xstate.createActor);
    await using rt = createRuntime({ reuseActors: 2 });
    // Five jobs open at once need five routine actors; when they end, two are kept.
    const open = Array.from({ length: 5 }, () => rt.exec(flow, { keepAlive: true }));
    for (const job of open) job.complete();
    await Promise.all(open.map((job) => job.wait()));
    createActor.mockClear();
    const next = Array.from({ length: 5 }, () => rt.exec(flow, { keepAlive: true }));
    for (const job of next) job.complete();
    await Promise.all(next.map((job) => job.wait()));
    // 3 supervisors and 3 routine actors beyond the 2 of each reused.
    expect(createActor.mock.calls.length).toBe(3 + 3);
  });
});

describe('reuseActors: a reused routine actor carries nothing of its last job', () => {
  it("an interval routine's first activation in a new job does not wait for the previous job's interval", async () => {
    const clock = new ManualClock(0);
    const rt = createRuntime({ clock });
    try {
      const ticker = createFlow('ticker').add('tick', defineRoutine({ name: 'tick', slots: ['in'], run: () => undefined }), { policy: policies.interval(1_000) });
      const first = rt.exec(ticker, { params: {} });
      await flush();
      expect(first.status).toBe('completed');
      await clock.advance(10);
      // The same actor serves this job. A leaked anchor (the first job's activation at 0) would hold this arrival
      // until t=1,000; the job's own anchor is its first activation, now.
      const second = rt.exec(ticker, { params: {} });
      expect(second.snapshot().routines.tick?.lastActivationAt).toBe(10);
      await flush();
      expect(second.status).toBe('completed');
      expect(second.state.routines.tick?.activations).toBe(1);
    } finally {
      await rt.shutdown();
    }
  });

  it('a job that never activated the routine has no last activation in its snapshot', async () => {
    await using rt = createRuntime({});
    const ticker = createFlow('ticker').add('tick', defineRoutine({ name: 'tick', slots: ['in'], run: () => undefined }), { policy: policies.interval(1_000) });
    expect((await rt.exec(ticker, { params: {} }).wait()).status).toBe('completed');
    const idle = rt.exec(ticker, { keepAlive: true });
    await flush();
    expect(idle.snapshot().routines.tick?.lastActivationAt).toBeUndefined();
    idle.complete();
    await idle.wait();
  });
});

describe('reuseActors: a finished job lets go of its supervisor', () => {
  it("pausing, resuming or cancelling a finished job does not reach the job that reuses its supervisor", async () => {
    const createActor = vi.mocked(xstate.createActor);
    await using rt = createRuntime({});
    const first = rt.exec(flow, { params: {} });
    expect((await first.wait()).status).toBe('completed');
    await flush();
    createActor.mockClear();
    const second = rt.exec(flow, { keepAlive: true });
    // The second job runs on the first one's supervisor (and routine actor): nothing new was created.
    expect(createActor.mock.calls.length).toBe(0);
    await flush();
    expect(second.status).toBe('idle');
    first.pause();
    expect(second.status).toBe('idle');
    second.pause();
    expect(second.status).toBe('paused');
    first.resume();
    expect(second.status).toBe('paused');
    first.cancel('late');
    second.resume();
    second.complete();
    expect((await second.wait()).status).toBe('completed');
    expect(first.status).toBe('completed');
  });
});

describe('reuseActors: what a finished supervisor keeps', () => {
  it("a failed job's supervisor is kept too: its error stays with the job, not in the actor's context", async () => {
    const createActor = vi.mocked(xstate.createActor);
    await using rt = createRuntime({});
    const boom = createFlow('boom').add('boom', defineRoutine({ name: 'boom', slots: ['in'], run: () => { throw new Error('boom'); } }));
    expect((await rt.exec(boom, { params: {} }).wait()).status).toBe('failed');
    await flush();
    createActor.mockClear();
    expect((await rt.exec(flow, { params: {} }).wait()).status).toBe('completed');
    // only its routine actor is new (another flow): the failed job's supervisor was reset for it
    expect(createActor.mock.calls.length).toBe(1);
    await flush();
    createActor.mockClear();
    // a completed job's supervisor is kept
    expect((await rt.exec(flow, { params: {} }).wait()).status).toBe('completed');
    expect(createActor.mock.calls.length).toBe(0);
  });
});
