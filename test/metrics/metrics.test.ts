import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, InvalidOptionError, policies, type DurationStats, type RoutineMetrics, type RuntimeOptions } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

const stats = (values: readonly number[]): DurationStats => {
  if (values.length === 0) return { count: 0, mean: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { count: values.length, mean, min: at(0), p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
};

const routine = (fields: Partial<RoutineMetrics>): RoutineMetrics => ({
  activations: 0,
  errors: 0,
  retries: 0,
  timeouts: 0,
  cancelled: 0,
  abandoned: 0,
  durationMs: stats([]),
  queueWaitMs: stats([]),
  ...fields,
});

/** A routine that sleeps `ms` (payload field) on `clock`, then emits `done`. */
function sleeper(clock: ManualClock, options: { timeoutMs?: number } = {}) {
  return defineRoutine({
    name: 'sleeper',
    slots: ['in'],
    events: { done: ['ms'] },
    ...options,
    async run({ slots, emit, signal }) {
      for (const { ms } of slots.in) {
        await clock.sleep(Number(ms), signal);
        emit('done', { ms });
      }
    },
  });
}

/** Emits each payload of its `go` payload's `items` on `out`. */
const spread = defineRoutine({
  name: 'spread',
  slots: ['go'],
  events: { out: ['ms', 'fail'] },
  run({ slots, emit }) {
    for (const { items } of slots.go) for (const item of items as { ms: number; fail?: boolean }[]) emit('out', { ms: item.ms, fail: item.fail ?? false });
  },
});

describe('Runtime#metrics and Job#metrics', () => {
  it('counts attempts, errors and retries, and gives exact duration quantiles for a known workload', async () => {
    const clock = new ManualClock();
    const work = defineRoutine({
      name: 'work',
      slots: ['in'],
      events: { done: ['ms'] },
      policy: policies.batch(1),
      onError: { retry: { max: 1 } },
      async run({ slots, emit, attempt }) {
        const { ms, fail } = slots.in[0] as { ms: number; fail: boolean };
        if (fail && attempt === 0) {
          await clock.sleep(5);
          throw new Error('flaky');
        }
        await clock.sleep(ms);
        emit('done', { ms });
      },
    });
    const flow = createFlow('known').add('spread', spread).add('work', work).connect('spread.out', 'work.in');
    const rt = runtime({ clock });
    const job = rt.exec(flow, { params: { items: [{ ms: 10 }, { ms: 20, fail: true }, { ms: 30 }] } });
    await clock.advance(100);
    const state = await job.wait();
    expect(state.status).toBe('completed');

    // work: 10 ms, then a 5 ms failure retried at once and 20 ms, then 30 ms: t = 0..65
    const expected = {
      spread: routine({ activations: 1, durationMs: stats([0]), queueWaitMs: stats([0]) }),
      work: routine({ activations: 4, errors: 1, retries: 1, durationMs: stats([10, 5, 20, 30]), queueWaitMs: stats([0, 0, 0, 0]) }),
    };
    expect(expected.work.durationMs).toEqual({ count: 4, mean: 16.25, min: 5, p50: 10, p95: 30, p99: 30, max: 30 });

    const metrics = rt.metrics();
    expect(metrics.enabled).toBe(true);
    expect(metrics.at).toBe(100);
    expect(metrics.since).toBe(0);
    expect(metrics.flows.known?.routines).toEqual(expected);
    expect(metrics.flows.known?.jobs).toEqual({ started: 1, completed: 1, failed: 0, cancelled: 0, queued: 0, running: 0, paused: 0, idle: 0, durationMs: stats([65]) });
    expect(metrics.jobs).toEqual(metrics.flows.known?.jobs);
    expect(metrics.activations).toEqual({ total: 5, errors: 1, retries: 1, timeouts: 0, cancelled: 0, running: 0, waiting: 0 });

    expect(job.metrics).toEqual({
      enabled: true,
      jobId: job.id,
      flowId: 'known',
      status: 'completed',
      durationMs: 65,
      activations: { total: 5, errors: 1, retries: 1, timeouts: 0, cancelled: 0, running: 0, waiting: 0 },
      routines: expected,
    });
    // the same attempts the job's state counts
    expect(job.metrics.routines.work?.activations).toBe(state.routines.work?.activations);
    expect(job.metrics.routines.work?.errors).toBe(state.routines.work?.errors);
  });

  it('measures queue wait: with concurrency 1, the second of two ready routines waits for the first', async () => {
    const clock = new ManualClock();
    const flow = createFlow('fork')
      .add('spread', spread)
      .add('a', sleeper(clock))
      .add('b', sleeper(clock))
      .connect('spread.out', 'a.in')
      .connect('spread.out', 'b.in');
    const rt = runtime({ clock, concurrency: 1 });
    const job = rt.exec(flow, { params: { items: [{ ms: 10 }] } });
    await flush();
    // a runs, b is ready and waits for the one permit
    expect(rt.metrics().activations).toMatchObject({ running: 1, waiting: 1 });
    expect(job.metrics.activations).toMatchObject({ running: 1, waiting: 1 });
    expect(job.metrics.routines.b?.activations).toBe(0);

    await clock.advance(20);
    await job.wait();
    const { routines } = job.metrics;
    expect(routines.a?.queueWaitMs).toEqual(stats([0]));
    expect(routines.b?.queueWaitMs).toEqual(stats([10]));
    expect(routines.b?.durationMs).toEqual(stats([10]));
    expect(job.metrics.durationMs).toBe(20);
    expect(rt.metrics().flows.fork?.routines.b?.queueWaitMs).toEqual(stats([10]));
  });

  it('counts timeouts as errors, and attempts cut short by the job end as cancelled', async () => {
    const clock = new ManualClock();
    const flow = createFlow('slow').add('spread', spread).add('s', sleeper(clock, { timeoutMs: 50 }), { onError: 'continue' }).connect('spread.out', 's.in');
    const rt = runtime({ clock });
    const timedOut = rt.exec(flow, { params: { items: [{ ms: 80 }] } });
    await clock.advance(50);
    expect((await timedOut.wait()).status).toBe('completed');
    expect(timedOut.metrics.routines.s).toEqual(routine({ activations: 1, errors: 1, timeouts: 1, durationMs: stats([50]), queueWaitMs: stats([0]) }));

    const cancelled = rt.exec(flow, { params: { items: [{ ms: 40 }] } });
    await clock.advance(30);
    expect(cancelled.metrics.durationMs).toBe(30);
    expect(cancelled.metrics.activations.running).toBe(1);
    cancelled.cancel();
    await cancelled.wait();
    await clock.advance(100);
    // the cancelled attempt has no duration: it never ended on its own
    expect(cancelled.metrics.routines.s).toEqual(routine({ activations: 1, cancelled: 1, queueWaitMs: stats([0]) }));
    expect(cancelled.metrics.durationMs).toBe(30);
    expect(cancelled.state.routines.s?.activations).toBe(1);

    const m = rt.metrics();
    expect(m.flows.slow?.routines.s).toEqual(routine({ activations: 2, errors: 1, timeouts: 1, cancelled: 1, durationMs: stats([50]), queueWaitMs: stats([0, 0]) }));
    expect(m.jobs).toMatchObject({ started: 2, completed: 1, cancelled: 1, durationMs: stats([50, 30]) });
    expect(m.activations).toMatchObject({ total: 4, errors: 1, timeouts: 1, cancelled: 1 });
  });

  it('counts jobs by outcome, and open jobs by status from the runtime itself', async () => {
    const clock = new ManualClock();
    const boom = defineRoutine({
      name: 'boom',
      slots: ['in'],
      run() {
        throw new Error('boom');
      },
    });
    const rt = runtime({ clock, maxJobs: 2 });
    const slow = createFlow('slow').add('s', sleeper(clock));
    const a = rt.exec(slow, { params: { ms: 10 } });
    const idle = rt.exec(slow, { keepAlive: true });
    const queued = rt.exec(slow, { params: { ms: 10 } });
    const cancelledWhileQueued = rt.exec(slow, { params: { ms: 10 } });
    await flush();
    expect(rt.metrics().jobs).toMatchObject({ started: 4, queued: 2, running: 1, idle: 1, paused: 0, completed: 0 });
    expect(rt.metrics().flows.slow?.jobs).toMatchObject({ queued: 2, running: 1, idle: 1 });
    cancelledWhileQueued.cancel();
    a.pause();
    await clock.advance(10);
    expect(rt.metrics().jobs).toMatchObject({ queued: 1, paused: 1, idle: 1, cancelled: 1 });
    a.resume();
    idle.complete();
    await clock.advance(10);
    await Promise.all([a.wait(), idle.wait()]);
    await clock.advance(10);
    await queued.wait();
    const failing = rt.exec(createFlow('boom').add('b', boom), { params: {} });
    await failing.wait();

    const m = rt.metrics();
    expect(m.jobs).toMatchObject({ started: 5, completed: 3, failed: 1, cancelled: 1, queued: 0, running: 0, paused: 0, idle: 0 });
    expect(m.jobs.durationMs.count).toBe(5);
    expect(m.flows.boom?.jobs).toMatchObject({ started: 1, failed: 1, completed: 0 });
    expect(m.flows.boom?.routines.b).toEqual(routine({ activations: 1, errors: 1, durationMs: stats([0]), queueWaitMs: stats([0]) }));
    expect(failing.metrics.status).toBe('failed');
  });

  it('returns plain JSON: a round trip gives the same object, with flows sorted and routines in flow order', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock });
    const zeta = createFlow('zeta').add('spread', spread).add('last', sleeper(clock)).add('first', sleeper(clock)).connect('spread.out', 'last.in').connect('spread.out', 'first.in');
    const alpha = createFlow('alpha').add('only', sleeper(clock));
    const jobs = [rt.exec(zeta, { params: { items: [{ ms: 3 }, { ms: 7 }] } }), rt.exec(alpha, { params: { ms: 1 } })];
    await clock.advance(20);
    await Promise.all(jobs.map((j) => j.wait()));
    const metrics = rt.metrics();
    expect(JSON.parse(JSON.stringify(metrics))).toEqual(metrics);
    expect(JSON.stringify(rt.metrics())).toBe(JSON.stringify(metrics));
    expect(Object.keys(metrics.flows)).toEqual(['alpha', 'zeta']);
    expect(Object.keys(metrics.flows.zeta?.routines ?? {})).toEqual(['spread', 'last', 'first']);
    for (const job of jobs) expect(JSON.parse(JSON.stringify(job.metrics))).toEqual(job.metrics);
    expect(metrics.flows.zeta?.routines.first?.durationMs).toEqual(stats([3, 7]));
  });

  it('metrics({ reset: true }) returns the reading, then counts afresh from then on; job metrics are kept', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock });
    const flow = createFlow('r').add('s', sleeper(clock));
    const first = rt.exec(flow, { params: { ms: 5 } });
    await clock.advance(5);
    await first.wait();
    const before = rt.metrics({ reset: true });
    expect(before.flows.r?.routines.s?.activations).toBe(1);
    const after = rt.metrics();
    expect(after.since).toBe(5);
    expect(after.jobs).toEqual({ started: 0, completed: 0, failed: 0, cancelled: 0, queued: 0, running: 0, paused: 0, idle: 0, durationMs: stats([]) });
    expect(after.flows.r?.routines.s).toEqual(routine({}));
    expect(first.metrics.routines.s?.durationMs).toEqual(stats([5]));

    const second = rt.exec(flow, { params: { ms: 2 } });
    await clock.advance(2);
    await second.wait();
    expect(rt.metrics().flows.r?.routines.s?.durationMs).toEqual(stats([2]));
    expect(() => rt.metrics({ reset: 'yes' as unknown as boolean })).toThrow(InvalidOptionError);
  });

  it('with metrics: false, collects nothing but still reports the gauges', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock, metrics: false });
    const job = rt.exec(createFlow('off').add('s', sleeper(clock)), { params: { ms: 5 } });
    await flush();
    const during = rt.metrics();
    expect(during.enabled).toBe(false);
    expect(during.jobs).toMatchObject({ started: 0, running: 1 });
    expect(during.activations).toMatchObject({ total: 0, running: 1 });
    expect(during.flows).toEqual({});
    await clock.advance(5);
    await job.wait();
    expect(job.metrics).toMatchObject({ enabled: false, durationMs: 0, routines: {}, status: 'completed' });
    expect(rt.metrics().jobs.completed).toBe(0);
    expect(() => runtime({ metrics: 'no' } as unknown as RuntimeOptions)).toThrow(InvalidOptionError);
  });

  it('times activations below the millisecond with the system clock', async () => {
    const busy = defineRoutine({
      name: 'busy',
      slots: ['in'],
      run() {
        const until = performance.now() + 0.2;
        while (performance.now() < until) {
          // spin: a 0.2 ms activation, which Date.now() would time as 0 or 1 ms
        }
      },
    });
    const rt = runtime();
    const flow = createFlow('busy').add('b', busy);
    for (let i = 0; i < 5; i++) await rt.exec(flow, { params: {} }).wait();
    const duration = rt.metrics().flows.busy?.routines.b?.durationMs;
    expect(duration?.count).toBe(5);
    expect(duration?.min).toBeGreaterThanOrEqual(0.2);
  });
});

describe('duration quantiles', () => {
  // past 32 values a histogram takes over: 8 buckets per octave, the widest spanning 1 to 9/8 (its middle is
  // within sqrt(9/8) - 1 of any value in it)
  const relativeError = Math.sqrt(9 / 8) - 1;

  it('are within the histogram bucket error of the exact nearest-rank quantiles', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock, concurrency: 1000 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 1_000_000_000 }), { minLength: 1, maxLength: 150, size: 'max' }), async (micros) => {
        const durations = micros.map((us) => us / 1000);
        const flow = createFlow(`q${run++}`).add('s', sleeper(clock));
        const jobs = durations.map((ms) => rt.exec(flow, { params: { ms } }));
        await clock.advance(Math.max(...durations));
        await Promise.all(jobs.map((j) => j.wait()));
        const got = rt.metrics().flows[flow.id]?.routines.s?.durationMs as DurationStats;
        const exact = stats(durations);
        expect(got.count).toBe(exact.count);
        expect(got.min).toBe(exact.min);
        expect(got.max).toBe(exact.max);
        expect(got.mean).toBeCloseTo(exact.mean, 2);
        for (const q of ['p50', 'p95', 'p99'] as const) {
          // exact below 33 values; else within the bucket's relative error (and 1 µs below 1 µs, plus rounding to the µs)
          const tolerance = durations.length <= 32 ? 0 : exact[q] * relativeError + 0.0015;
          expect(Math.abs(got[q] - exact[q]), `${q} of ${durations.length} values`).toBeLessThanOrEqual(tolerance + 1e-9);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('hold within one job too: a routine that runs 40 times in a job', async () => {
    const clock = new ManualClock();
    const looper = defineRoutine({
      name: 'looper',
      slots: ['in'],
      events: { next: ['ms'] },
      async run({ slots, emit }) {
        for (const { ms } of slots.in) {
          await clock.sleep(Number(ms));
          emit('next', { ms: Number(ms) + 1 });
        }
      },
    });
    const flow = createFlow('loop').add('l', looper).connect('l.next', 'l.in', { maxIterations: 100, until: (p) => Number(p.ms) > 40 });
    const rt = runtime({ clock });
    const job = rt.exec(flow, { params: { ms: 1 } });
    await clock.advance(1000);
    await job.wait();
    const got = job.metrics.routines.l?.durationMs as DurationStats;
    const exact = stats(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(got).toMatchObject({ count: 40, mean: 20.5, min: 1, max: 40 });
    for (const q of ['p50', 'p95', 'p99'] as const) expect(Math.abs(got[q] - exact[q])).toBeLessThanOrEqual(exact[q] * relativeError + 0.0015);
    // the job's own histogram (32-bit counts) and the runtime's agree
    expect(rt.metrics().flows.loop?.routines.l?.durationMs).toEqual(got);
  });
});
