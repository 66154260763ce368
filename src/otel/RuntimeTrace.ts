/**
 * RuntimeTrace: the spans of one `instrument` call, built event by event from `runtime.events$`. Apart from
 * `instrument` (which checks the options and hands out the handle) so that each kind of event has its own step.
 */
import { SpanStatusCode, type Attributes, type HrTime, type Tracer } from '@opentelemetry/api';
import type { Clock, JobEvent } from 'slotflow';
import type { JobRef } from './JobRef.js';
import { JobTrace } from './JobTrace.js';

/**
 * The members of JobEvent that a `case` of these types leaves: not `Extract`, as some members share one shape for
 * several types (and a switch keeps such a member whole).
 */
type EventOf<TType extends JobEvent['type']> = Overlapping<JobEvent, TType>;
type Overlapping<TEvent, TType> = TEvent extends { readonly type: infer K } ? (Extract<K, TType> extends never ? never : TEvent) : never;

/** A time in ms since the epoch, as OpenTelemetry's `[seconds, nanoseconds]`, which no SDK reinterprets. */
function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

/** The traced jobs, each with its span, from its first event seen to its end event (or `endAll`). */
export class RuntimeTrace {
  private readonly jobs = new Map<string, JobTrace>();

  constructor(
    private readonly tracer: Tracer,
    private readonly spanName: (job: JobRef) => string,
    /** Only the jobs of these flows; `undefined` for every flow. */
    private readonly wanted: ReadonlySet<string> | undefined,
    private readonly emitted: boolean,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /** The spans open now: each job's, and its running activations'. */
  get openSpans(): number {
    let open = 0;
    for (const job of this.jobs.values()) open += 1 + job.openActivations;
    return open;
  }

  /** One event of the runtime; bound, as it is the subscriber's `next`. */
  readonly next = (event: JobEvent): void => {
    if (this.wanted && !this.wanted.has(event.flowId)) return;
    const time = toHrTime(event.at);
    switch (event.type) {
      case 'job.queued':
        this.traceOf(event, time);
        return;
      case 'job.started':
      case 'job.resumed':
      case 'job.paused':
        this.changeStatus(event, time);
        return;
      case 'job.completed':
      case 'job.failed':
      case 'job.cancelled':
        this.endJob(event, time);
        return;
      case 'routine.started':
        this.traceOf(event, time).startActivation(event.routineId, event.attempt, time);
        return;
      case 'routine.completed':
        this.jobs.get(event.jobId)?.endActivation(event.routineId, time);
        return;
      case 'routine.failed':
        this.jobs.get(event.jobId)?.endActivation(event.routineId, time, event);
        return;
      case 'routine.retrying': {
        const attributes = { 'slotflow.routine.id': event.routineId, 'slotflow.activation.attempt': event.attempt, 'slotflow.retry.delay_ms': event.delayMs };
        this.traceOf(event, time).addEvent(event.type, attributes, time);
        return;
      }
      case 'event.emitted':
        if (this.emitted) this.traceOf(event, time).addEvent(event.type, { 'slotflow.routine.id': event.routineId, 'slotflow.event.name': event.event }, time, event.routineId);
        return;
      case 'cycle.converged':
      case 'cycle.exhausted':
        this.traceOf(event, time).addEvent(event.type, { 'slotflow.cycle.edge': event.edge, 'slotflow.cycle.iterations': event.iterations }, time);
        return;
      case 'events.dropped':
        this.traceOf(event, time).addEvent(event.type, { 'slotflow.events.dropped': event.dropped }, time);
        return;
      case 'job.warning':
        this.warn(event, time);
        return;
      case 'job.breakpoint':
        this.traceOf(event, time).addEvent(event.type, { 'slotflow.routine.id': event.routineId }, time);
        return;
      case 'routine.progress':
        this.progress(event, time);
        return;
      default:
        // A new kind of event must be given its place in the trace here: this fails to compile until it is.
        event satisfies never;
    }
  };

  /** Ends every span still open, marked unfinished (tracing stopped, or the runtime's events ended). */
  readonly endAll = (): void => {
    if (this.jobs.size === 0) return;
    const time = toHrTime(this.clock.now());
    for (const job of this.jobs.values()) {
      job.span.setAttribute('slotflow.unfinished', true);
      job.end(time, 'slotflow.unfinished');
    }
    this.jobs.clear();
  };

  /** The job's trace, opened at this event if the job was not seen yet (it ran before `instrument`). */
  private traceOf(event: JobEvent, time: HrTime): JobTrace {
    let job = this.jobs.get(event.jobId);
    if (!job) {
      job = new JobTrace(this.tracer, this.spanName({ jobId: event.jobId, flowId: event.flowId }), event.jobId, event.flowId, event.type === 'job.queued' ? 'queued' : 'running', time);
      this.jobs.set(event.jobId, job);
    }
    return job;
  }

  private changeStatus(event: EventOf<'job.started' | 'job.resumed' | 'job.paused'>, time: HrTime): void {
    const job = this.traceOf(event, time);
    job.status = event.type === 'job.paused' ? 'paused' : 'running';
    job.addEvent(event.type, undefined, time);
  }

  private endJob(event: EventOf<'job.completed' | 'job.failed' | 'job.cancelled'>, time: HrTime): void {
    const job = this.jobs.get(event.jobId);
    if (!job) return;
    this.jobs.delete(event.jobId);
    if (event.type === 'job.failed') {
      job.span.recordException(event.error, time);
      job.span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message });
    } else if (event.type === 'job.cancelled') {
      // Cancelling is the caller's decision, not a failure of the job: the status stays UNSET.
      job.addEvent('job.cancelled', { 'slotflow.cancel.reason': event.error.message }, time);
    }
    job.status = event.type === 'job.completed' ? 'completed' : event.type === 'job.failed' ? 'failed' : 'cancelled';
    job.end(time, 'slotflow.activation.cancelled');
  }

  private warn(event: EventOf<'job.warning'>, time: HrTime): void {
    const attributes: Attributes = { 'slotflow.warning.code': event.code, 'slotflow.warning.message': event.message };
    if (event.routineId !== undefined) attributes['slotflow.routine.id'] = event.routineId;
    this.traceOf(event, time).addEvent(event.type, attributes, time, event.routineId);
  }

  /** On the activation's span: a progress report belongs to the activation that made it. */
  private progress(event: EventOf<'routine.progress'>, time: HrTime): void {
    const attributes: Attributes = { 'slotflow.routine.id': event.routineId };
    if (event.done !== undefined) attributes['slotflow.progress.done'] = event.done;
    if (event.total !== undefined) attributes['slotflow.progress.total'] = event.total;
    if (event.message !== undefined) attributes['slotflow.progress.message'] = event.message;
    this.traceOf(event, time).addEvent(event.type, attributes, time, event.routineId);
  }
}
