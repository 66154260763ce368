/**
 * JobTrace: the spans of one job while it runs: its job span and the activation spans still open, by routine
 * (a routine runs at most one activation at a time per job, so the routine id is the key).
 */
import { context, SpanStatusCode, trace, type Attributes, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import type { JobStatus } from 'slotflow';

export class JobTrace {
  readonly span: Span;
  /**
   * False when the job span records nothing (no SDK registered, or sampled out): its activations and events are
   * then not even built, and no child span can outlive an unexported parent.
   */
  readonly recording: boolean;
  /** As far as the events tell (a keepAlive job's `idle` shows as `running`). */
  status: JobStatus;
  /** Open activation spans by routine id: deleted as each activation ends. */
  readonly #activations = new Map<string, Span>();
  readonly #tracer: Tracer;
  readonly #base: Attributes;

  constructor(tracer: Tracer, name: string, jobId: string, flowId: string, status: JobStatus, startTime: HrTime) {
    this.#tracer = tracer;
    this.#base = { 'slotflow.job.id': jobId, 'slotflow.flow.id': flowId };
    this.status = status;
    // Delivery is batched a microtask after the job's step, so the context active here is not the caller's of
    // `exec`: a job span starts a trace of its own rather than joining an unrelated one.
    this.span = tracer.startSpan(name, { root: true, startTime, attributes: this.#base });
    this.recording = this.span.isRecording();
  }

  get openActivations(): number {
    return this.#activations.size;
  }

  startActivation(routineId: string, attempt: number, startTime: HrTime): void {
    if (!this.recording) return;
    // A start while one is open means its end event was lost (see `events.dropped`): it ended by then.
    this.#activations.get(routineId)?.end(startTime);
    const parent = trace.setSpan(context.active(), this.span);
    const span = this.#tracer.startSpan(
      `slotflow.activation ${routineId}`,
      { startTime, attributes: { ...this.#base, 'slotflow.routine.id': routineId, 'slotflow.activation.attempt': attempt } },
      parent,
    );
    this.#activations.set(routineId, span);
  }

  /** Ends the routine's open activation span (if there is one; its start may have been lost) with `error` as its failure. */
  endActivation(routineId: string, endTime: HrTime, failure?: { readonly error: Error; readonly decision: string }): void {
    const span = this.#activations.get(routineId);
    if (!span) return;
    this.#activations.delete(routineId);
    if (failure) {
      span.setAttribute('slotflow.activation.decision', failure.decision);
      span.recordException(failure.error, endTime);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.error.message });
    }
    span.end(endTime);
  }

  /** Adds a span event to the job span, or to the routine's open activation span when `routineId` is given. */
  addEvent(name: string, attributes: Attributes | undefined, time: HrTime, routineId?: string): void {
    if (!this.recording) return;
    const span = (routineId === undefined ? undefined : this.#activations.get(routineId)) ?? this.span;
    span.addEvent(name, attributes, time);
  }

  /** Ends every span of the job; activations still open get `attribute` (why they end now). */
  end(endTime: HrTime, attribute: string): void {
    for (const span of this.#activations.values()) {
      span.setAttribute(attribute, true);
      span.end(endTime);
    }
    this.#activations.clear();
    this.span.setAttribute('slotflow.job.status', this.status);
    this.span.end(endTime);
  }
}
