/**
 * Job snapshots and restore (SPEC 5): a job goes through JSON into a fresh runtime and carries on where it was.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, policies, SnapshotError, SNAPSHOT_VERSION, type JobSnapshot } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { chain } from './chainFlow.js';

const runtime = useRuntimes();

/** JSON and back, as a store does. */
const viaJson = (snapshot: JobSnapshot): JobSnapshot => JSON.parse(JSON.stringify(snapshot)) as JobSnapshot;

describe('job.snapshot()', () => {
  it('is versioned, JSON-serialisable data that names the job and its flow', async () => {
    const { flow } = chain();
    const rt = runtime();
    const job = rt.exec(flow, { params: { n: 1 }, jobId: 'job-1' });
    await job.wait();
    const snapshot = job.snapshot();
    expect(snapshot).toMatchObject({ format: 'slotflow/job-snapshot', version: SNAPSHOT_VERSION, jobId: 'job-1', flowId: 'chain', status: 'completed', params: { n: 1 } });
    expect(viaJson(snapshot)).toEqual(snapshot);
    expect(snapshot.outputs).toEqual({ 'c.out': [{ n: 4 }] });
    expect(snapshot.history.map((h) => h.routineId)).toEqual(['a', 'b', 'c']);
  });
});

describe('runtime.restore()', () => {
  it('round-trips a paused job through JSON into a fresh runtime: it stays paused, then finishes without re-running finished work', async () => {
    const { flow, calls, holds } = chain();
    const gate = deferred();
    holds.set('b', gate);
    const first = runtime();
    const job = first.exec(flow, { params: { n: 1 } });
    await flush();
    expect(calls).toEqual(['a:1', 'b:2']);
    job.pause();
    gate.resolve(); // b finishes while paused: its output queues at c
    await flush();
    expect(job.status).toBe('paused');
    const snapshot = viaJson(job.snapshot());
    expect(snapshot.status).toBe('paused');
    expect(snapshot.routines.c?.queues).toEqual({ in: [{ n: 3 }] });
    await first.shutdown();

    holds.clear();
    const second = runtime();
    second.register(flow);
    const restored = second.restore(snapshot);
    expect(restored.id).toBe(job.id);
    expect(second.getJob(job.id)).toBe(restored);
    await flush();
    expect(restored.status).toBe('paused');
    expect(calls).toEqual(['a:1', 'b:2']);
    restored.resume();
    const state = await restored.wait();
    expect(state.status).toBe('completed');
    expect(state.outputs).toEqual({ 'c.out': [{ n: 4 }] });
    // a and b ran once in all; only c ran in the second runtime.
    expect(calls).toEqual(['a:1', 'b:2', 'c:3']);
    expect(state.routines.a?.activations).toBe(1);
    expect(state.history.map((h) => h.routineId)).toEqual(['a', 'b', 'c']);
  });

  it('runs an in-flight activation again (at-least-once), with the data it had consumed', async () => {
    const { flow, calls, holds } = chain();
    holds.set('b', deferred()); // never released in the first runtime
    const first = runtime();
    const job = first.exec(flow, { params: { n: 1 } });
    await flush();
    const snapshot = viaJson(job.snapshot());
    expect(snapshot.routines.b).toMatchObject({ machine: 'running', inflight: { consumed: { in: [{ n: 2 }] }, attempt: 0 } });
    await first.shutdown();

    holds.clear();
    const second = runtime();
    const state = await second.exec(flow, { from: snapshot }).wait();
    expect(state.status).toBe('completed');
    expect(state.outputs).toEqual({ 'c.out': [{ n: 4 }] });
    expect(calls).toEqual(['a:1', 'b:2', 'b:2', 'c:3']);
  });

  it('keeps per-routine state, shared data, the log, cycles and counters', async () => {
    const counter = defineRoutine({
      name: 'counter',
      slots: ['in'],
      events: { next: ['n'] },
      initialState: { seen: 0 },
      run({ slots, emit, setState, setShared, log }) {
        for (const { n } of slots.in as { n: number }[]) {
          setState((s) => {
            s.seen++;
          });
          setShared((d) => {
            d.last = n;
          });
          log(`n=${String(n)}`);
          emit('next', { n: n + 1 });
        }
      },
    });
    const flow = createFlow('loop').add('counter', counter).connect('counter.next', 'counter.in', { maxIterations: 5 });
    const clock = new ManualClock();
    const first = runtime({ clock });
    const job = first.exec(flow, { params: { n: 0 }, keepAlive: true });
    await flush();
    expect(job.status).toBe('idle');
    const snapshot = viaJson(job.snapshot());
    await first.shutdown();

    const second = runtime({ clock });
    second.register(flow);
    const restored = second.restore(snapshot);
    await flush();
    expect(restored.status).toBe('idle'); // keepAlive survives
    const before = restored.state;
    expect(before.routines.counter?.state).toEqual({ seen: 6 });
    expect(before.shared).toEqual({ last: 5 });
    expect(before.log).toHaveLength(6);
    expect(before.cycles).toEqual({ 'counter.next->counter.in': { iterations: 5, converged: false } });
    expect(before.routines.counter?.activations).toBe(6);
    restored.post('counter', 'in', { n: 100 });
    restored.complete();
    const state = await restored.wait();
    expect(state.routines.counter?.state).toEqual({ seen: 7 });
    expect(state.cycles['counter.next->counter.in']).toEqual({ iterations: 5, converged: false });
    expect(state.outputs['counter.next']).toEqual([{ n: 6 }, { n: 101 }]);
  });

  it('re-arms window, interval and retry timers with their due times', async () => {
    const clock = new ManualClock(1_000);
    const runs: { routine: string; at: number; items: number }[] = [];
    const record = (name: string) =>
      defineRoutine({
        name,
        slots: ['in'],
        run({ slots }) {
          runs.push({ routine: name, at: clock.now(), items: slots.in.length });
        },
      });
    let failures = 1;
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: { retry: { max: 2, backoffMs: 500 } },
      run() {
        runs.push({ routine: 'flaky', at: clock.now(), items: 1 });
        if (failures-- > 0) throw new Error('transient');
      },
    });
    const flow = createFlow('timers')
      .add('win', record('win'), { policy: policies.window(300) })
      .add('tick', record('tick'), { policy: policies.interval(1_000) })
      .add('flaky', flaky);
    const first = runtime({ clock });
    const job = first.exec(flow, { keepAlive: true });
    job.post('tick', 'in', {}); // interval: fires at once (no previous activation), next not before 2_000
    await clock.advance(0);
    job.post('tick', 'in', {});
    job.post('flaky', 'in', {});
    await clock.advance(100); // t=1100: flaky failed at 1000, retry due at 1500
    job.post('win', 'in', {}); // window opens at 1100, due 1400
    await clock.advance(100); // t=1200
    expect(runs).toEqual([
      { routine: 'tick', at: 1_000, items: 1 },
      { routine: 'flaky', at: 1_000, items: 1 },
    ]);
    const snapshot = viaJson(job.snapshot());
    expect(snapshot.routines.flaky).toMatchObject({ machine: 'backoff', retryAt: 1_500, inflight: { attempt: 1 } });
    expect(snapshot.routines.win).toMatchObject({ machine: 'idle', firstArrivalAt: 1_100, queues: { in: [{}] } });
    expect(snapshot.routines.tick).toMatchObject({ machine: 'idle', lastActivationAt: 1_000, queues: { in: [{}] } });
    await first.shutdown();

    runs.length = 0;
    const clock2 = new ManualClock(1_200);
    const second = runtime({ clock: clock2 });
    second.register(flow);
    const restored = second.restore(snapshot);
    // The test's routines read `clock`; keep it in step with the second runtime's clock.
    const step = async (ms: number) => {
      await clock.advance(ms);
      await clock2.advance(ms);
    };
    await step(199); // t=1399
    expect(runs).toEqual([]);
    await step(1); // t=1400: the window closes
    expect(runs).toEqual([{ routine: 'win', at: 1_400, items: 1 }]);
    await step(100); // t=1500: the retry
    expect(runs.at(-1)).toEqual({ routine: 'flaky', at: 1_500, items: 1 });
    await step(499); // t=1999
    expect(runs.filter((r) => r.routine === 'tick')).toEqual([]);
    await step(1); // t=2000: the interval
    expect(runs.filter((r) => r.routine === 'tick')).toEqual([{ routine: 'tick', at: 2_000, items: 1 }]);
    restored.complete();
    const state = await restored.wait();
    expect(state.status).toBe('completed');
    expect(state.routines.flaky).toMatchObject({ activations: 2, errors: 1 });
    expect(state.history.filter((h) => h.routineId === 'flaky').map((h) => h.outcome)).toEqual(['retried', 'ok']);
    expect(state.history[0]?.error).toBeUndefined();
    expect(state.history.find((h) => h.outcome === 'retried')?.error).toMatchObject({ message: 'transient' });
  });

  it('keeps the job deadline', async () => {
    const clock = new ManualClock();
    const wait = defineRoutine({ name: 'wait', slots: ['in'], run: () => new Promise<void>(() => undefined) });
    const flow = createFlow('deadline').add('wait', wait);
    const first = runtime({ clock });
    const job = first.exec(flow, { params: {}, timeoutMs: 1_000 });
    await clock.advance(600);
    const snapshot = viaJson(job.snapshot());
    expect(snapshot).toMatchObject({ timeoutMs: 1_000, deadlineAt: 1_000 });
    await first.shutdown();

    const clock2 = new ManualClock(600);
    const second = runtime({ clock: clock2 });
    const restored = second.exec(flow, { from: snapshot });
    await clock2.advance(399);
    expect(restored.status).toBe('running');
    await clock2.advance(1);
    const state = await restored.wait();
    expect(state.status).toBe('failed');
    expect(restored.error?.name).toBe('JobTimeoutError');
  });

  it('delivers the params of a job that was still queued (maxJobs)', async () => {
    const { flow, calls, holds } = chain();
    holds.set('a', deferred());
    const first = runtime({ maxJobs: 1 });
    first.exec(flow, { params: { n: 1 } });
    const queued = first.exec(flow, { params: { n: 10 } });
    await flush();
    expect(queued.status).toBe('queued');
    const snapshot = viaJson(queued.snapshot());
    expect(snapshot.admitted).toBe(false);
    await first.shutdown();

    holds.clear();
    calls.length = 0;
    const state = await runtime().exec(flow, { from: snapshot }).wait();
    expect(state.outputs).toEqual({ 'c.out': [{ n: 13 }] });
    expect(calls).toEqual(['a:10', 'b:11', 'c:12']);
  });
});

describe('bad snapshots', () => {
  async function pausedSnapshot(): Promise<{ snapshot: JobSnapshot; flow: ReturnType<typeof chain>['flow'] }> {
    const { flow } = chain();
    const rt = runtime();
    const job = rt.exec(flow, { params: { n: 1 }, keepAlive: true });
    await flush();
    const snapshot = viaJson(job.snapshot());
    await rt.shutdown();
    return { snapshot, flow };
  }

  const reasonOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(SnapshotError);
      return `${(error as SnapshotError).reason}: ${(error as SnapshotError).message}`;
    }
    throw new Error('expected a SnapshotError');
  };

  it('rejects what is not a snapshot, or a malformed one, saying what is wrong', async () => {
    const { snapshot, flow } = await pausedSnapshot();
    const rt = runtime();
    rt.register(flow);
    expect(reasonOf(() => rt.restore(null as unknown as JobSnapshot))).toMatch(/^malformed: .*format 'slotflow\/job-snapshot'/);
    expect(reasonOf(() => rt.restore('{not json'))).toMatch(/^malformed: .*not valid JSON/);
    expect(reasonOf(() => rt.restore({ ...snapshot, status: 'sleeping' } as unknown as JobSnapshot))).toMatch(/'status' must be a job status \(queued, .*\), got 'sleeping'/);
    expect(reasonOf(() => rt.restore({ ...snapshot, routines: { a: { machine: 'running', queues: {}, activations: 0, errors: 0 } } } as unknown as JobSnapshot))).toMatch(
      /'routines.a.inflight' must be present when the routine is 'running'/,
    );
    const { log: _log, ...withoutLog } = snapshot;
    expect(reasonOf(() => rt.restore(withoutLog as JobSnapshot))).toMatch(/'log' must be an array, got undefined/);
    // A JSON string of a good snapshot is fine.
    expect(rt.restore(JSON.stringify(snapshot)).id).toBe(snapshot.jobId);
  });

  it('rejects an unknown format version', async () => {
    const { snapshot, flow } = await pausedSnapshot();
    const rt = runtime();
    rt.register(flow);
    expect(reasonOf(() => rt.restore({ ...snapshot, version: SNAPSHOT_VERSION + 1 }))).toMatch(/^version: .*newer than this release reads/);
    expect(reasonOf(() => rt.restore({ ...snapshot, version: 0 }))).toMatch(/^malformed: .*'version'/);
  });

  it('runs the migrateSnapshot hook before checking', async () => {
    const { snapshot, flow } = await pausedSnapshot();
    const rt = runtime({ migrateSnapshot: (raw) => ({ ...(raw as object), flowId: 'chain' }) });
    rt.register(flow);
    expect(rt.restore({ ...snapshot, flowId: 'old-name' }).flowId).toBe('chain');
  });

  it('rejects a snapshot of an unregistered or different flow, or with routines or slots the flow lacks', async () => {
    const { snapshot, flow } = await pausedSnapshot();
    const rt = runtime();
    expect(reasonOf(() => rt.restore(snapshot))).toMatch(/^flow: .*its flow 'chain' is not registered/);
    const other = createFlow('other').add('a', defineRoutine({ name: 'x', slots: ['in'], run: () => undefined }));
    expect(reasonOf(() => rt.exec(other, { from: snapshot }))).toMatch(/^flow: .*a job of flow 'chain', not 'other'/);
    rt.register(flow);
    expect(reasonOf(() => rt.restore({ ...snapshot, routines: { ...snapshot.routines, zz: { machine: 'idle', state: null, activations: 0, errors: 0, queues: {} } } }))).toMatch(
      /routine 'zz' is not in flow 'chain'/,
    );
    expect(reasonOf(() => rt.restore({ ...snapshot, routines: { ...snapshot.routines, a: { machine: 'idle', state: null, activations: 0, errors: 0, queues: { nope: [1] } } } }))).toMatch(
      /routine 'a' of flow 'chain' has no slot 'nope'/,
    );
  });

  it('rejects a finished job, and a job id the runtime already has', async () => {
    const { flow } = chain();
    const rt = runtime();
    const done = rt.exec(flow, { params: { n: 1 } });
    await done.wait();
    expect(reasonOf(() => rt.restore(done.snapshot()))).toMatch(/^finished: .*already completed/);
    const { snapshot } = await pausedSnapshot();
    rt.restore(snapshot);
    expect(reasonOf(() => rt.restore(snapshot))).toMatch(/^duplicate: /);
  });

  it('does not take exec options the snapshot already has', async () => {
    const { snapshot, flow } = await pausedSnapshot();
    const rt = runtime();
    expect(() => rt.exec(flow, { from: snapshot, params: { n: 2 } })).toThrow(/no 'params' with 'from'/);
  });
});
