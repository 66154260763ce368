/**
 * JobEvent: what `job.events$` and `runtime.events$` carry.
 */
import type { Payload } from './Payload.js';

interface Base {
  readonly jobId: string;
  readonly flowId: string;
  /** The clock's time (ms). */
  readonly at: number;
}

export type JobEvent =
  | (Base & { readonly type: 'job.queued' | 'job.started' | 'job.paused' | 'job.resumed' | 'job.completed' })
  | (Base & { readonly type: 'job.failed'; readonly error: Error })
  | (Base & { readonly type: 'job.cancelled'; readonly error: Error })
  | (Base & { readonly type: 'routine.started'; readonly routineId: string; readonly attempt: number })
  | (Base & { readonly type: 'routine.completed'; readonly routineId: string; readonly attempt: number; readonly durationMs: number })
  | (Base & { readonly type: 'routine.failed'; readonly routineId: string; readonly attempt: number; readonly error: Error; readonly decision: 'retry' | 'continue' | 'skip' | 'stop' })
  | (Base & { readonly type: 'routine.retrying'; readonly routineId: string; readonly attempt: number; readonly delayMs: number })
  | (Base & { readonly type: 'event.emitted'; readonly routineId: string; readonly event: string; readonly payload: Payload })
  | (Base & { readonly type: 'cycle.converged' | 'cycle.exhausted'; readonly edge: string; readonly iterations: number })
  /** The job paused before activating `routineId`, a breakpoint; `consumed` is what that activation takes (slot -> payloads). */
  | (Base & { readonly type: 'job.breakpoint'; readonly routineId: string; readonly consumed: Readonly<Record<string, readonly unknown[]>> })
  /**
   * Something the job went on despite: `code` says what. `'payload.invalid'`: a payload failed its schema in
   * `'warn'` validation and was delivered; `'data.pending'`: the job completed with data no activation took (the
   * message names each routine and slot); `'subscriber.threw'`: an events subscriber threw and the runtime has no
   * `onUnhandledError`.
   */
  | (Base & { readonly type: 'job.warning'; readonly code: JobWarningCode | (string & {}); readonly message: string; readonly routineId?: string })
  /** `ctx.progress()`: at most one per routine per job per 100 ms; an activation's last one is always delivered, before its `routine.completed`. */
  | (Base & { readonly type: 'routine.progress'; readonly routineId: string; readonly done?: number; readonly total?: number; readonly message?: string })
  /** `dropped` events of this job were not kept (the runtime's `maxBufferedEvents` was reached); `at` is the first one's time. */
  | (Base & { readonly type: 'events.dropped'; readonly dropped: number });

export type JobEventType = JobEvent['type'];

/** The codes of `job.warning` events slotflow itself sends. */
export type JobWarningCode = 'payload.invalid' | 'data.pending' | 'subscriber.threw' | 'cleanup.failed';
