/**
 * instrument: OpenTelemetry spans for a runtime's jobs and activations, built from `runtime.events$`.
 *
 * Spans are made after the fact, from events delivered a microtask late, so every start and end time is the
 * event's `at` (the runtime clock's time), never the time of delivery.
 */
import { trace, SpanStatusCode, type Attributes, type HrTime, type Tracer } from '@opentelemetry/api';
import { isObservable } from 'rxjs';
import { InvalidOptionError, systemClock, type Clock, type JobEvent, type Runtime } from 'slotflow';
import { assertKnownKeys } from '../util/assertSubpathKeys.js';
import { JobTrace } from './JobTrace.js';
import { VERSION } from './version.js';

/** The job a span name is asked for. */
export interface JobRef {
  readonly jobId: string;
  readonly flowId: string;
}

export interface InstrumentOptions {
  /**
   * The tracer that makes the spans.
   * @default trace.getTracer('slotflow', <slotflow's version>), from the globally registered tracer provider
   */
  readonly tracer?: Tracer;
  /**
   * Only the jobs of these flows get spans.
   * @default every flow
   */
  readonly flows?: readonly string[];
  /**
   * A span event for each `emit(event, payload)`, on the emitting activation's span: the event's name and
   * routine, never the payload.
   * @default false
   */
  readonly emitted?: boolean;
  /**
   * The name of a job's span.
   * @default (job) => `slotflow.job ${job.flowId}`
   */
  readonly spanName?: (job: JobRef) => string;
  /**
   * Tells the time at which `unsubscribe()` ends the spans still open: the clock given to the runtime, if any.
   * @default systemClock
   */
  readonly clock?: Pick<Clock, 'now'>;
}

/** What `instrument` returns: stop tracing with `unsubscribe()` (or `using`). */
export interface Instrumentation {
  /** Stops tracing; the spans still open end now, with `slotflow.unfinished: true`. */
  unsubscribe(): void;
  [Symbol.dispose](): void;
  readonly closed: boolean;
  /** The spans open now (jobs and their running activations); 0 once every traced job has ended. */
  readonly openSpans: number;
}

/** A time in ms since the epoch, as OpenTelemetry's `[seconds, nanoseconds]`, which no SDK reinterprets. */
function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

const defaultSpanName = (job: JobRef): string => `slotflow.job ${job.flowId}`;

/**
 * Traces the jobs of `runtime`: one span per job (from `job.queued` to its end, so the wait for a `maxJobs` place
 * shows), with one child span per activation attempt, until `unsubscribe()`. Only this subpath imports
 * `@opentelemetry/api`; the core never does.
 *
 * Instrumenting subscribes to `runtime.events$`, so every job builds its events (see BENCHMARKS.md, "events
 * observed"). A job span that records nothing (no SDK registered, or sampled out) gets no activation spans or span
 * events. A job already running when you instrument gets a span from its first event seen; one whose only event
 * after that is its end gets none. A per-job entry is kept while the job runs and deleted at its end event.
 * @example
 * const tracing = instrument(runtime, { flows: ['ingest'] });
 * // ... later
 * tracing.unsubscribe();
 */
export function instrument(runtime: Runtime, options: InstrumentOptions = {}): Instrumentation {
  if (!isObservable((runtime as Partial<Runtime> | null)?.events$))
    throw new InvalidOptionError('instrument(runtime)', 'a runtime from createRuntime()', runtime);
  assertKnownKeys('instrument(runtime, options)', options, ['tracer', 'flows', 'emitted', 'spanName', 'clock']);
  const { tracer = trace.getTracer('slotflow', VERSION), flows, emitted = false, spanName = defaultSpanName, clock = systemClock } = options;
  if (typeof tracer !== 'object' || typeof (tracer as Partial<Tracer> | null)?.startSpan !== 'function')
    throw new InvalidOptionError('instrument({ tracer })', 'an OpenTelemetry Tracer', tracer);
  if (flows !== undefined && (!Array.isArray(flows) || !flows.every((id) => typeof id === 'string')))
    throw new InvalidOptionError('instrument({ flows })', 'an array of flow ids', flows);
  if (typeof emitted !== 'boolean') throw new InvalidOptionError('instrument({ emitted })', 'a boolean', emitted);
  if (typeof spanName !== 'function') throw new InvalidOptionError('instrument({ spanName })', 'a function (job) => string', spanName);
  if (typeof (clock as Partial<Clock> | null)?.now !== 'function') throw new InvalidOptionError('instrument({ clock })', 'a clock with now()', clock);

  const wanted = flows === undefined ? undefined : new Set(flows);
  const jobs = new Map<string, JobTrace>();

  /** The job's trace, opened at this event if the job was not seen yet (it ran before `instrument`). */
  const traceOf = (event: JobEvent, time: HrTime): JobTrace => {
    let job = jobs.get(event.jobId);
    if (!job) {
      job = new JobTrace(tracer, spanName({ jobId: event.jobId, flowId: event.flowId }), event.jobId, event.flowId, event.type === 'job.queued' ? 'queued' : 'running', time);
      jobs.set(event.jobId, job);
    }
    return job;
  };

  const next = (event: JobEvent): void => {
    if (wanted && !wanted.has(event.flowId)) return;
    const time = toHrTime(event.at);
    switch (event.type) {
      case 'job.queued':
        traceOf(event, time);
        return;
      case 'job.started':
      case 'job.resumed':
      case 'job.paused': {
        const job = traceOf(event, time);
        job.status = event.type === 'job.paused' ? 'paused' : 'running';
        job.addEvent(event.type, undefined, time);
        return;
      }
      case 'job.completed':
      case 'job.failed':
      case 'job.cancelled': {
        const job = jobs.get(event.jobId);
        if (!job) return;
        jobs.delete(event.jobId);
        if (event.type === 'job.failed') {
          job.span.recordException(event.error, time);
          job.span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message });
        } else if (event.type === 'job.cancelled') {
          // Cancelling is the caller's decision, not a failure of the job: the status stays UNSET.
          job.addEvent('job.cancelled', { 'slotflow.cancel.reason': event.error.message }, time);
        }
        job.status = event.type === 'job.completed' ? 'completed' : event.type === 'job.failed' ? 'failed' : 'cancelled';
        job.end(time, 'slotflow.activation.cancelled');
        return;
      }
      case 'routine.started':
        traceOf(event, time).startActivation(event.routineId, event.attempt, time);
        return;
      case 'routine.completed':
        jobs.get(event.jobId)?.endActivation(event.routineId, time);
        return;
      case 'routine.failed':
        jobs.get(event.jobId)?.endActivation(event.routineId, time, event);
        return;
      case 'routine.retrying':
        traceOf(event, time).addEvent(
          event.type,
          { 'slotflow.routine.id': event.routineId, 'slotflow.activation.attempt': event.attempt, 'slotflow.retry.delay_ms': event.delayMs },
          time,
        );
        return;
      case 'event.emitted':
        if (emitted) traceOf(event, time).addEvent(event.type, { 'slotflow.routine.id': event.routineId, 'slotflow.event.name': event.event }, time, event.routineId);
        return;
      case 'cycle.converged':
      case 'cycle.exhausted':
        traceOf(event, time).addEvent(event.type, { 'slotflow.cycle.edge': event.edge, 'slotflow.cycle.iterations': event.iterations }, time);
        return;
      case 'events.dropped':
        traceOf(event, time).addEvent(event.type, { 'slotflow.events.dropped': event.dropped }, time);
        return;
      case 'job.warning': {
        const attributes: Attributes = { 'slotflow.warning.code': event.code, 'slotflow.warning.message': event.message };
        if (event.routineId !== undefined) attributes['slotflow.routine.id'] = event.routineId;
        traceOf(event, time).addEvent(event.type, attributes, time, event.routineId);
        return;
      }
      case 'job.breakpoint':
        traceOf(event, time).addEvent(event.type, { 'slotflow.routine.id': event.routineId }, time);
        return;
      case 'routine.progress': {
        // On the activation's span: a progress report belongs to the activation that made it.
        const attributes: Attributes = { 'slotflow.routine.id': event.routineId };
        if (event.done !== undefined) attributes['slotflow.progress.done'] = event.done;
        if (event.total !== undefined) attributes['slotflow.progress.total'] = event.total;
        if (event.message !== undefined) attributes['slotflow.progress.message'] = event.message;
        traceOf(event, time).addEvent(event.type, attributes, time, event.routineId);
        return;
      }
      default:
        // A new kind of event must be given its place in the trace here: this fails to compile until it is.
        event satisfies never;
    }
  };

  const endAll = (): void => {
    if (jobs.size === 0) return;
    const time = toHrTime(clock.now());
    for (const job of jobs.values()) {
      job.span.setAttribute('slotflow.unfinished', true);
      job.end(time, 'slotflow.unfinished');
    }
    jobs.clear();
  };

  const subscription = runtime.events$.subscribe({ next, complete: endAll });
  const unsubscribe = (): void => {
    if (subscription.closed) return;
    subscription.unsubscribe();
    endAll();
  };
  return {
    unsubscribe,
    [Symbol.dispose]: unsubscribe,
    get closed() {
      return subscription.closed;
    },
    get openSpans() {
      let open = 0;
      for (const job of jobs.values()) open += 1 + job.openActivations;
      return open;
    },
  };
}
