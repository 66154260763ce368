/**
 * Wire: jobs' states, events and control messages as JSON in Redis. Errors travel as data `{ name, message,
 * code?, cause? }` (`name` is the class name), since a class cannot cross processes.
 */
import { SlotflowError, type JobEvent, type JobSnapshot, type JobState, type Payload, type RoutineState, type SerializedError } from 'slotflow';

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

/** An event or a worker's warning as it goes into a job's stream: JSON-ready, errors as data. */
export type WireEvent = object;

/**
 * An event, JSON-ready. Errors in events sit only at the top (`error`), so one spread converts them (a replacer
 * would cost a function call per value). It is serialised later, with the other events of the same write, in one
 * `JSON.stringify`: an emitted event is never changed and its payloads are frozen, so what is written is what was
 * emitted.
 */
export function eventToData(event: JobEvent): WireEvent {
  return 'error' in event ? { ...event, error: errorData(event.error) } : event;
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

/**
 * A finished job's final state as JSON, the same as `stateOfSnapshot` of a snapshot taken now would give, but built
 * from the `JobState` the job ended with (built once as it finished) rather than from a snapshot taken only for
 * this. `undefined` when a routine still shows as running (a `run` that ignored its signal): the snapshot's form
 * counts it as idle, so the caller takes that path.
 */
export function finalStateJson(state: JobState): string | undefined {
  for (const id in state.routines) if (state.routines[id]?.status === 'running') return undefined;
  let history: readonly unknown[] = state.history;
  if (state.history.some((record) => record.error)) history = state.history.map((record) => (record.error ? { ...record, error: snapshotError(record.error) } : record));
  if (!state.error && history === state.history) return JSON.stringify(state);
  return JSON.stringify({ ...state, history, ...(state.error ? { error: snapshotError(state.error) } : {}) });
}

/** An error as a snapshot holds it: a slotflow error's `toJSON()`, otherwise its name and message (and `code`). */
function snapshotError(error: Error): unknown {
  if (error instanceof SlotflowError) return error.toJSON();
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

const FINAL_EVENTS: ReadonlySet<string> = new Set(['job.completed', 'job.failed', 'job.cancelled']);

/** True for the event a job ends with. */
export function isFinalEvent(event: { readonly type: string }): boolean {
  return FINAL_EVENTS.has(event.type);
}
