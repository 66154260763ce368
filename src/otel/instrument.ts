/**
 * instrument: OpenTelemetry spans for a runtime's jobs and activations, built from `runtime.events$`.
 *
 * Spans are made after the fact, from events delivered a microtask late, so every start and end time is the
 * event's `at` (the runtime clock's time), never the time of delivery.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { isObservable } from 'rxjs';
import { InvalidOptionError, systemClock, type Clock, type Runtime } from 'slotflow';
import { assertKnownKeys } from '../util/assertSubpathKeys.js';
import type { JobRef } from './JobRef.js';
import { RuntimeTrace } from './RuntimeTrace.js';
import { VERSION } from './version.js';

export type { JobRef } from './JobRef.js';

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

  const traces = new RuntimeTrace(tracer, spanName, flows === undefined ? undefined : new Set(flows), emitted, clock);
  const subscription = runtime.events$.subscribe({ next: traces.next, complete: traces.endAll });
  const unsubscribe = (): void => {
    if (subscription.closed) return;
    subscription.unsubscribe();
    traces.endAll();
  };
  return {
    unsubscribe,
    [Symbol.dispose]: unsubscribe,
    get closed() {
      return subscription.closed;
    },
    get openSpans() {
      return traces.openSpans;
    },
  };
}
