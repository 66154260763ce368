/**
 * Wire: jobs' states, events and control messages as JSON in Redis. Errors travel as data `{ name, message,
 * code?, cause? }` (`name` is the class name), since a class cannot cross processes.
 */
import type { JobEvent, JobState, Payload, SerializedError } from 'slotflow';

/** A job's data in the BullMQ job (what `exec` queued). */
export interface QueuedJob {
  readonly flowId: string;
  readonly params?: Payload;
  readonly keepAlive?: boolean;
  readonly timeoutMs?: number;
}

/** One control message, as kept in the job's control list. */
export type ControlMessage =
  | { readonly op: 'post'; readonly routineId: string; readonly slot: string; readonly payload: Payload }
  | { readonly op: 'cancel'; readonly reason?: string }
  | { readonly op: 'pause' | 'resume' | 'complete' };

type WithDataErrors<T> = T extends { readonly error: Error } ? Omit<T, 'error'> & { readonly error: SerializedError } : T;

/** A job event read from Redis: as `JobEvent`, with errors as data. */
export type RemoteJobEvent = WithDataErrors<JobEvent>;

/** A job's state read from Redis: a `JobState` whose errors (the job's, the history's) are data. */
export type RemoteJobState = Omit<JobState, 'error' | 'history'> & {
  readonly error?: SerializedError;
  readonly history: readonly (Omit<JobState['history'][number], 'error'> & { readonly error?: SerializedError })[];
};

/** `{ name, message, code?, cause? }` of an error (its cause chain too, three levels deep). */
export function errorData(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  if (typeof code === 'string') out.code = code;
  if (error.cause !== undefined && depth < 3) out.cause = error.cause instanceof Error ? errorData(error.cause, depth + 1) : error.cause;
  return out as SerializedError;
}

/** JSON with every `Error` (at any depth) as error data. */
export function toWire(value: unknown): string {
  return JSON.stringify(value, function replacer(this: unknown, key: string, field: unknown) {
    // `this[key]` is the raw value (before any toJSON), so an Error is seen as an Error.
    const raw = (this as Record<string, unknown> | undefined)?.[key];
    return raw instanceof Error ? errorData(raw) : field;
  });
}

const FINAL_EVENTS: ReadonlySet<string> = new Set(['job.completed', 'job.failed', 'job.cancelled']);

/** True for the event a job ends with. */
export function isFinalEvent(event: { readonly type: string }): boolean {
  return FINAL_EVENTS.has(event.type);
}
