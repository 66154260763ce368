/**
 * Wire: jobs' states, events and control messages as JSON in Redis. Errors travel as data `{ name, message,
 * code?, cause? }` (`name` is the class name), since a class cannot cross processes.
 */
import type { JobEvent, JobSnapshot, JobState, Payload, RoutineState, SerializedError } from 'slotflow';

/** A job's data in the BullMQ job (what `exec` queued). */
export interface QueuedJob {
  readonly flowId: string;
  readonly params?: Payload;
  readonly keepAlive?: boolean;
  readonly timeoutMs?: number;
}

/** One control message, as kept in the job's control list; `id` names it in the worker's reply. */
export type ControlMessage = { readonly id: string } & (
  | { readonly op: 'post'; readonly routineId: string; readonly slot: string; readonly payload: Payload }
  | { readonly op: 'cancel'; readonly reason?: string }
  | { readonly op: 'pause' | 'resume' | 'complete' }
);

/** A worker's reply to one control message: applied, or the error it raised (as data). */
export interface ControlReply {
  readonly id: string;
  readonly error?: SerializedError;
}

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

/**
 * An event as JSON. Errors in events sit only at the top (`error`), so one spread replaces the replacer walk of
 * `toWire` (which costs a function call per value, and showed up in profiles at ~15 events per job).
 */
export function eventToWire(event: JobEvent): string {
  return 'error' in event ? JSON.stringify({ ...event, error: errorData(event.error) }) : JSON.stringify(event);
}

/**
 * The `JobState` a checkpoint stands for, as remote readers see it: what `job.state` was when the snapshot was
 * taken, except that an activation running then counts as not started yet (it runs again from there on a restore).
 */
export function stateOfSnapshot(snapshot: JobSnapshot): RemoteJobState {
  const final = snapshot.status === 'completed' || snapshot.status === 'failed' || snapshot.status === 'cancelled';
  const routines: Record<string, RoutineState> = {};
  for (const [id, routine] of Object.entries(snapshot.routines)) {
    const status = routine.machine === 'skipped' ? 'skipped' : !final && (routine.machine === 'running' || routine.machine === 'backoff') ? 'running' : 'idle';
    const pending = Object.fromEntries(Object.entries(routine.queues).filter(([, queue]) => queue.length > 0));
    Object.defineProperty(routines, id, { value: { state: routine.state, activations: routine.activations, errors: routine.errors, status, pending }, enumerable: true, writable: true, configurable: true });
  }
  return {
    jobId: snapshot.jobId,
    flowId: snapshot.flowId,
    status: snapshot.status,
    params: snapshot.params,
    outputs: snapshot.outputs as Record<string, readonly Payload[]>,
    routines,
    shared: snapshot.shared,
    log: snapshot.log,
    history: snapshot.history,
    cycles: snapshot.cycles,
    ...(snapshot.error ? { error: snapshot.error } : {}),
    startedAt: snapshot.startedAt,
    ...(snapshot.finishedAt !== undefined ? { finishedAt: snapshot.finishedAt } : {}),
  };
}

const FINAL_EVENTS: ReadonlySet<string> = new Set(['job.completed', 'job.failed', 'job.cancelled']);

/** True for the event a job ends with. */
export function isFinalEvent(event: { readonly type: string }): boolean {
  return FINAL_EVENTS.has(event.type);
}
