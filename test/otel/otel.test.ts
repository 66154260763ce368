import { readFileSync } from 'node:fs';
import { context, ROOT_CONTEXT, SpanStatusCode, trace, type ContextManager, type HrTime, type Tracer } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, InvalidOptionError, isFinalStatus, type Runtime } from 'slotflow';
import { instrument, type Instrumentation } from 'slotflow/otel';
import { ManualClock } from '../helpers/clock.js';
import { useRuntimes } from '../helpers/runtimes.js';

const T0 = Date.UTC(2025, 0, 1, 12);
const runtime = useRuntimes();

/** An SDK that keeps every ended span in memory. */
function sdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, tracer: provider.getTracer('test') };
}

const instrumented: Instrumentation[] = [];
afterEach(() => {
  for (const tracing of instrumented.splice(0)) tracing.unsubscribe();
});
function traced(rt: Runtime, options: Parameters<typeof instrument>[1]): Instrumentation {
  const tracing = instrument(rt, options);
  instrumented.push(tracing);
  return tracing;
}

/** ms since T0. */
const at = (time: HrTime): number => time[0] * 1000 + time[1] / 1e6 - T0;
const times = (span: ReadableSpan) => [at(span.startTime), at(span.endTime)];
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const named = (spans: readonly ReadableSpan[], prefix: string) => spans.filter((s) => s.name.startsWith(prefix));

/** A routine that takes `ms` of clock time, then passes each `n` on (or fails, `fail` times). */
function step(clock: ManualClock, ms: number, options: { readonly fail?: number } = {}) {
  let failures = options.fail ?? 0;
  return defineRoutine({
    name: 'step',
    slots: ['in'],
    events: { out: ['n'] },
    async run({ slots, emit, signal }) {
      await clock.sleep(ms, signal);
      if (failures-- > 0) throw new Error('boom');
      for (const { n } of slots.in) emit('out', { n });
    },
  });
}

function chain(clock: ManualClock, id = 'chain') {
  return createFlow(id)
    .add('a', step(clock, 10))
    .add('b', step(clock, 20))
    .add('c', step(clock, 5))
    .connect('a.out', 'b.in')
    .connect('b.out', 'c.in');
}

function setup(options: Omit<NonNullable<Parameters<typeof instrument>[1]>, 'tracer'> = {}, rtOptions: { readonly maxJobs?: number } = {}) {
  const clock = new ManualClock(T0);
  const { exporter, tracer } = sdk();
  const rt = runtime({ clock, ...rtOptions });
  const tracing = traced(rt, { tracer, clock, ...options });
  return { clock, exporter, rt, tracing, spans: () => exporter.getFinishedSpans() };
}

describe('instrument', () => {
  it('a chain job: one job span from job.queued to its end, one child span per activation, at the clock times', async () => {
    const { clock, rt, spans, tracing } = setup();
    const job = rt.exec(chain(clock), { params: { n: 1 }, jobId: 'j1' });
    await clock.advance(0);
    expect(tracing.openSpans).toBe(2); // the job and a's activation
    await clock.advance(100);
    expect(job.status).toBe('completed');

    const [jobSpan, ...others] = named(spans(), 'slotflow.job');
    expect(others).toEqual([]);
    expect(jobSpan!.name).toBe('slotflow.job chain');
    expect(jobSpan!.parentSpanContext).toBeUndefined();
    expect(jobSpan!.attributes).toEqual({ 'slotflow.job.id': 'j1', 'slotflow.flow.id': 'chain', 'slotflow.job.status': 'completed' });
    expect(jobSpan!.status.code).toBe(SpanStatusCode.UNSET);
    expect(times(jobSpan!)).toEqual([0, 35]);
    expect(jobSpan!.events.map((e) => [e.name, at(e.time)])).toEqual([['job.started', 0]]);

    const activations = named(spans(), 'slotflow.activation');
    expect(activations.map((s) => [s.name, ...times(s)])).toEqual([
      ['slotflow.activation a', 0, 10],
      ['slotflow.activation b', 10, 30],
      ['slotflow.activation c', 30, 35],
    ]);
    for (const span of activations) {
      expect(parentOf(span)).toBe(idOf(jobSpan!));
      expect(span.spanContext().traceId).toBe(jobSpan!.spanContext().traceId);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    }
    expect(activations[1]!.attributes).toEqual({ 'slotflow.job.id': 'j1', 'slotflow.flow.id': 'chain', 'slotflow.routine.id': 'b', 'slotflow.activation.attempt': 0 });
    expect(tracing.openSpans).toBe(0);
  });

  it('shows the wait for a maxJobs place: the job span starts at job.queued, with a job.started event', async () => {
    const { clock, rt, spans } = setup({}, { maxJobs: 1 });
    const flow = chain(clock);
    rt.exec(flow, { params: { n: 1 }, jobId: 'first' });
    rt.exec(flow, { params: { n: 2 }, jobId: 'second' });
    await clock.advance(100);

    const second = named(spans(), 'slotflow.job').find((s) => s.attributes['slotflow.job.id'] === 'second')!;
    expect(times(second)).toEqual([0, 70]);
    expect(second.events.map((e) => [e.name, at(e.time)])).toEqual([['job.started', 35]]);
  });

  it('retries: each attempt is its own ERROR span with its decision; the failed job span is ERROR with the exception', async () => {
    const { clock, rt, spans } = setup();
    const flow = createFlow('flaky').add('f', step(clock, 5, { fail: 3 }), { onError: { retry: { max: 2, backoffMs: 100, factor: 1 } } });
    const job = rt.exec(flow, { params: { n: 1 } });
    await clock.advance(1000);
    expect(job.status).toBe('failed');

    const attempts = named(spans(), 'slotflow.activation f');
    expect(attempts.map((s) => [s.attributes['slotflow.activation.attempt'], s.attributes['slotflow.activation.decision'], ...times(s)])).toEqual([
      [0, 'retry', 0, 5],
      [1, 'retry', 105, 110],
      [2, 'stop', 210, 215],
    ]);
    for (const span of attempts) {
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
      expect(span.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'boom']]);
    }

    const [jobSpan] = named(spans(), 'slotflow.job');
    expect(jobSpan!.status.code).toBe(SpanStatusCode.ERROR);
    expect(jobSpan!.status.message).toBe(job.error!.message);
    expect(jobSpan!.attributes['slotflow.job.status']).toBe('failed');
    expect(times(jobSpan!)).toEqual([0, 215]);
    expect(jobSpan!.events.map((e) => [e.name, at(e.time)])).toEqual([
      ['job.started', 0],
      ['routine.retrying', 5],
      ['routine.retrying', 110],
      ['exception', 215],
    ]);
    expect(jobSpan!.events[1]!.attributes).toEqual({ 'slotflow.routine.id': 'f', 'slotflow.activation.attempt': 1, 'slotflow.retry.delay_ms': 100 });
    expect(jobSpan!.events[3]!.attributes).toMatchObject({ 'exception.type': 'ROUTINE', 'exception.message': job.error!.message });
  });

  it('cancellation ends the open activation spans (slotflow.activation.cancelled); the job span stays UNSET, with an event', async () => {
    const { clock, rt, spans, tracing } = setup();
    const job = rt.exec(createFlow('slow').add('s', step(clock, 1000)), { params: { n: 1 } });
    await clock.advance(10);
    job.cancel('enough');
    await clock.advance(0);

    const [activation] = named(spans(), 'slotflow.activation');
    expect(times(activation!)).toEqual([0, 10]);
    expect(activation!.attributes['slotflow.activation.cancelled']).toBe(true);
    expect(activation!.status.code).toBe(SpanStatusCode.UNSET);
    const [jobSpan] = named(spans(), 'slotflow.job');
    expect(jobSpan!.status.code).toBe(SpanStatusCode.UNSET);
    expect(jobSpan!.attributes['slotflow.job.status']).toBe('cancelled');
    expect(jobSpan!.events.at(-1)).toMatchObject({ name: 'job.cancelled', attributes: { 'slotflow.cancel.reason': job.error!.message } });
    expect(times(jobSpan!)).toEqual([0, 10]);
    expect(tracing.openSpans).toBe(0);
  });

  it('pause, resume and cycle events go on the job span', async () => {
    const { clock, rt, spans } = setup();
    const loop = createFlow('loop')
      .add('s', step(clock, 10))
      .connect('s.out', 's.in', { maxIterations: 2 });
    const job = rt.exec(loop, { params: { n: 1 } });
    await clock.advance(5);
    job.pause();
    await clock.advance(5);
    job.resume();
    await clock.advance(100);
    expect(job.status).toBe('completed');

    const [jobSpan] = named(spans(), 'slotflow.job');
    expect(jobSpan!.events.map((e) => [e.name, at(e.time)])).toEqual([
      ['job.started', 0],
      ['job.paused', 5],
      ['job.resumed', 10],
      ['cycle.exhausted', 30],
    ]);
    expect(jobSpan!.events[3]!.attributes).toEqual({ 'slotflow.cycle.edge': 's.out->s.in', 'slotflow.cycle.iterations': 2 });
    expect(named(spans(), 'slotflow.activation')).toHaveLength(3);
  });

  it('emitted: true adds an event.emitted span event (name and routine, no payload) to the emitting activation', async () => {
    for (const emitted of [false, true]) {
      const { clock, rt, spans } = setup({ emitted });
      rt.exec(chain(clock), { params: { n: 1 } });
      await clock.advance(100);
      const [a] = named(spans(), 'slotflow.activation a');
      if (!emitted) expect(a!.events).toEqual([]);
      else expect(a!.events.map((e) => [e.name, at(e.time), e.attributes])).toEqual([['event.emitted', 10, { 'slotflow.routine.id': 'a', 'slotflow.event.name': 'out' }]]);
    }
  });

  it('progress goes on the reporting activation span; a warning on the job span, with its code and message', async () => {
    const { clock, rt, spans } = setup();
    const work = defineRoutine({
      name: 'work',
      slots: ['in'],
      async run({ progress }) {
        progress({ done: 1, total: 2, message: 'half' });
        await clock.sleep(10);
      },
      cleanup() {
        throw new Error('disk gone');
      },
    });
    const job = rt.exec(createFlow('warned').add('w', work));
    await clock.advance(20);
    expect((await job.wait()).status).toBe('completed');
    const [activation] = named(spans(), 'slotflow.activation w');
    expect(activation!.events.map((e) => [e.name, at(e.time), e.attributes])).toEqual([
      ['routine.progress', 0, { 'slotflow.routine.id': 'w', 'slotflow.progress.done': 1, 'slotflow.progress.total': 2, 'slotflow.progress.message': 'half' }],
    ]);
    const [jobSpan] = named(spans(), 'slotflow.job warned');
    const warning = jobSpan!.events.find((e) => e.name === 'job.warning');
    expect(warning?.attributes).toMatchObject({ 'slotflow.warning.code': 'cleanup.failed', 'slotflow.routine.id': 'w' });
    expect(String(warning?.attributes?.['slotflow.warning.message'])).toContain('disk gone');
  });

  it('flows: only the jobs of those flows get spans', async () => {
    const { clock, rt, spans, tracing } = setup({ flows: ['chain'] });
    rt.exec(chain(clock, 'other'), { params: { n: 1 } });
    rt.exec(chain(clock), { params: { n: 1 } });
    await clock.advance(0);
    expect(tracing.openSpans).toBe(2);
    await clock.advance(100);
    expect(new Set(spans().map((s) => s.attributes['slotflow.flow.id']))).toEqual(new Set(['chain']));
    expect(spans()).toHaveLength(4);
  });

  it('spanName names the job spans', async () => {
    const { clock, rt, spans } = setup({ spanName: (job) => `run ${job.flowId}/${job.jobId}` });
    rt.exec(chain(clock), { params: { n: 1 }, jobId: 'x' });
    await clock.advance(100);
    expect(named(spans(), 'run ').map((s) => s.name)).toEqual(['run chain/x']);
  });

  it('unsubscribe ends the open spans at the clock time (slotflow.unfinished) and traces nothing more', async () => {
    const { clock, rt, spans, tracing } = setup();
    const slow = createFlow('slow').add('s', step(clock, 1000));
    const job = rt.exec(slow, { params: { n: 1 } });
    await clock.advance(10);
    tracing.unsubscribe();
    expect(tracing.closed).toBe(true);
    expect(tracing.openSpans).toBe(0);
    expect(spans().map((s) => [s.name, ...times(s), s.attributes['slotflow.unfinished']])).toEqual([
      ['slotflow.activation s', 0, 10, true],
      ['slotflow.job slow', 0, 10, true],
    ]);
    expect(named(spans(), 'slotflow.job')[0]!.attributes['slotflow.job.status']).toBe('running');

    rt.exec(slow, { params: { n: 1 } });
    await clock.advance(2000);
    expect(job.status).toBe('completed');
    expect(spans()).toHaveLength(2);
    tracing.unsubscribe(); // twice is fine
  });

  it('is disposable: leaving a `using` block unsubscribes', async () => {
    const clock = new ManualClock(T0);
    const { exporter, tracer } = sdk();
    const rt = runtime({ clock });
    {
      using tracing = instrument(rt, { tracer, clock });
      rt.exec(createFlow('slow').add('s', step(clock, 1000)), { params: { n: 1 } });
      await clock.advance(3);
      expect(tracing.openSpans).toBe(2);
    }
    expect(exporter.getFinishedSpans().map((s) => [s.name, ...times(s)])).toEqual([
      ['slotflow.activation s', 0, 3],
      ['slotflow.job slow', 0, 3],
    ]);
    await clock.advance(2000);
    expect(exporter.getFinishedSpans()).toHaveLength(2);
  });

  it('a job running before instrument gets a span from its first event seen', async () => {
    const clock = new ManualClock(T0);
    const { exporter, tracer } = sdk();
    const rt = runtime({ clock });
    const job = rt.exec(chain(clock), { params: { n: 1 } });
    await clock.advance(15); // b runs from 10 to 30
    traced(rt, { tracer, clock });
    await clock.advance(100);
    expect(job.status).toBe('completed');
    const [jobSpan] = named(exporter.getFinishedSpans(), 'slotflow.job');
    expect(times(jobSpan!)).toEqual([30, 35]);
    expect(named(exporter.getFinishedSpans(), 'slotflow.activation').map((s) => s.name)).toEqual(['slotflow.activation c']);
  });

  it('by default uses the global tracer provider, with scope slotflow and the package version', async () => {
    const { exporter, provider } = sdk();
    trace.setGlobalTracerProvider(provider);
    try {
      const clock = new ManualClock(T0);
      const rt = runtime({ clock });
      traced(rt, {});
      rt.exec(chain(clock), { params: { n: 1 } });
      await clock.advance(100);
      const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      expect(exporter.getFinishedSpans().map((s) => s.instrumentationScope)).toEqual(Array(4).fill(expect.objectContaining({ name: 'slotflow', version })));
    } finally {
      trace.disable();
    }
  });

  it('job spans start a trace of their own, whatever context is active when events are delivered', async () => {
    const { clock, rt, spans } = setup();
    const ambient = sdk().tracer.startSpan('some request');
    // A context manager whose active context (as AsyncLocalStorage might carry into the delivery) holds a span.
    const leaky: ContextManager = {
      active: () => trace.setSpan(ROOT_CONTEXT, ambient),
      with: (_ctx, fn, thisArg, ...args) => fn.call(thisArg, ...args),
      bind: (_ctx, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    context.setGlobalContextManager(leaky);
    try {
      rt.exec(chain(clock), { params: { n: 1 } });
      await clock.advance(100);
    } finally {
      context.disable();
    }
    const [jobSpan] = named(spans(), 'slotflow.job');
    expect(jobSpan!.parentSpanContext).toBeUndefined();
    expect(jobSpan!.spanContext().traceId).not.toBe(ambient.spanContext().traceId);
    for (const span of named(spans(), 'slotflow.activation')) expect(parentOf(span)).toBe(idOf(jobSpan!));
  });

  it('a job span that records nothing (sampled out, or no SDK) gets no activation spans or events built', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const sdkTracer = provider.getTracer('test');
    const started: string[] = [];
    const tracer: Tracer = Object.assign(Object.create(sdkTracer) as Tracer, {
      startSpan: (...args: Parameters<Tracer['startSpan']>) => {
        started.push(args[0]);
        return sdkTracer.startSpan(...args);
      },
    });
    const clock = new ManualClock(T0);
    const rt = runtime({ clock });
    const tracing = traced(rt, { tracer, clock, emitted: true });
    rt.exec(chain(clock), { params: { n: 1 } });
    await clock.advance(0);
    expect(tracing.openSpans).toBe(1);
    await clock.advance(100);
    expect(started).toEqual(['slotflow.job chain']);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(tracing.openSpans).toBe(0);
  });

  it('a tracer that throws is reported like any subscriber error; the job goes on', async () => {
    const reports: unknown[] = [];
    const clock = new ManualClock(T0);
    const rt = runtime({ clock, onUnhandledError: (error) => reports.push(error) });
    const tracer = sdk().tracer;
    traced(rt, { tracer, clock, spanName: () => { throw new Error('no name'); } });
    const job = rt.exec(chain(clock), { params: { n: 1 } });
    await clock.advance(100);
    expect(job.status).toBe('completed');
    expect(reports.length).toBeGreaterThan(0);
    expect((reports[0] as Error).message).toBe('no name');
  });

  it('rejects bad arguments with InvalidOptionError naming the option', () => {
    const rt = runtime();
    const bad: [unknown, unknown, string][] = [
      [{}, {}, 'instrument(runtime)'],
      [rt, { tracer: {} }, 'instrument({ tracer })'],
      [rt, { flows: 'chain' }, 'instrument({ flows })'],
      [rt, { flows: [1] }, 'instrument({ flows })'],
      [rt, { emitted: 'yes' }, 'instrument({ emitted })'],
      [rt, { spanName: 'job' }, 'instrument({ spanName })'],
      [rt, { clock: {} }, 'instrument({ clock })'],
    ];
    for (const [target, options, option] of bad) {
      const call = () => instrument(target as Runtime, options as Parameters<typeof instrument>[1]);
      expect(call).toThrow(InvalidOptionError);
      expect(call).toThrow(`Expected \`${option}\``);
    }
  });

  it('property: whatever the jobs do, every span ends, activations nest in their job span, and nothing is kept', async () => {
    const outcome = fc.constantFrom('complete', 'fail', 'retry', 'cancel', 'pause');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ outcome, ms: fc.integer({ min: 0, max: 30 }) }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 3 }), async (plans, maxJobs) => {
        const clock = new ManualClock(T0);
        const { exporter, tracer } = sdk();
        const rt = runtime({ clock, maxJobs });
        const tracing = traced(rt, { tracer, clock, emitted: true });
        const jobs = plans.map(({ outcome: o, ms }, i) => {
          const flow = createFlow(`f${i}`)
            .add('a', step(clock, ms, { fail: o === 'fail' || o === 'retry' ? 1 : 0 }), o === 'retry' ? { onError: { retry: { max: 1, backoffMs: 7 } } } : {})
            .add('b', step(clock, ms))
            .connect('a.out', 'b.in');
          return { o, job: rt.exec(flow, { params: { n: i } }) };
        });
        // Mid-run, roughly: some jobs are done, some run, some wait for a place.
        await clock.advance(Math.floor(plans.reduce((sum, p) => sum + p.ms, 0) / 2));
        const unfinished = jobs.filter(({ job }) => !isFinalStatus(job.status));
        for (const { o, job } of unfinished) {
          if (o === 'cancel') job.cancel();
          if (o === 'pause') job.pause();
        }
        await clock.advance(1);
        for (const { o, job } of unfinished) if (o === 'pause' && !isFinalStatus(job.status)) job.resume();
        await clock.advance(1000);
        expect(jobs.every(({ job }) => ['completed', 'failed', 'cancelled'].includes(job.status))).toBe(true);
        expect(tracing.openSpans).toBe(0);

        const spans = exporter.getFinishedSpans();
        const jobSpans = named(spans, 'slotflow.job');
        expect(jobSpans.map((s) => s.attributes['slotflow.job.id']).sort()).toEqual(jobs.map(({ job }) => job.id).sort());
        const byId = new Map(jobSpans.map((s) => [idOf(s), s]));
        for (const span of named(spans, 'slotflow.activation')) {
          const parent = byId.get(parentOf(span)!)!;
          expect(parent.attributes['slotflow.job.id']).toBe(span.attributes['slotflow.job.id']);
          expect(at(span.startTime)).toBeGreaterThanOrEqual(at(parent.startTime));
          expect(at(span.endTime)).toBeLessThanOrEqual(at(parent.endTime));
        }
        for (const { job } of jobs) {
          const span = jobSpans.find((s) => s.attributes['slotflow.job.id'] === job.id)!;
          expect(span.attributes['slotflow.job.status']).toBe(job.status);
          expect(span.status.code).toBe(job.status === 'failed' ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
          expect(at(span.endTime)).toBe(job.state.finishedAt! - T0);
        }
      }),
      { numRuns: 40 },
    );
  });
});
