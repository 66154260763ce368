/**
 * Job snapshots: `takeSnapshot` turns a live job into JSON-ready data; `restoreRoutines` puts a fresh
 * job's routine actors back where the snapshot left them.
 *
 * A snapshot is taken between machine transitions (JavaScript runs one at a time), so a payload is either in a
 * queue, in an in-flight activation's `consumed`, or already routed on. An activation may be cut mid-way (after
 * some `emit`s, before its end): the snapshot then saves the routine's state as it was when the activation started
 * and how many emissions it delivered, and the restored re-run skips those (deterministic replay). So every
 * snapshot is a consistent cut: restoring it gives the outputs of the uninterrupted job.
 */
import type { Inflight, RoutineRestoreTarget } from '../../../machines/index.js';
import { SlotflowError } from '../../errors/index.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type HistorySnapshot, type JobSnapshot, type RoutineSnapshot, type SerializedError } from '../../persistence/JobSnapshot.js';
import type { HistoryRecord } from '../../types/JobState.js';
import type { JobStatus, RoutineState } from '../../types/JobState.js';
import type { Overrides } from '../../types/Overrides.js';
import type { Payload } from '../../routine/index.js';
import type { JobStateView } from './JobStateView.js';
import type { RoutineCell } from './RoutineCell.js';

/** What a snapshot reads of its job, and what a restore puts back. */
export interface SnapshotJob {
  readonly id: string;
  readonly flowId: string;
  readonly status: JobStatus;
  readonly finished: boolean;
  readonly error: Error | undefined;
  readonly admitted: boolean;
  readonly deadlineAt: number | undefined;
  /** `complete()` was called (keepAlive). */
  readonly completing: boolean;
  readonly options: {
    readonly params: Payload | undefined;
    readonly initial?: { readonly routine: string; readonly slot: string; readonly payload: unknown };
    readonly keepAlive: boolean;
    readonly timeoutMs: number | undefined;
    readonly overrides?: Overrides;
  };
  readonly cells: ReadonlyMap<string, RoutineCell>;
  readonly data: JobStateView;
  readonly services: { readonly clock: { now(): number } };
  /** Subflows: the child jobs of running subflow activations, cut with their parent. */
  readonly children: ChildJobs | undefined;
  /** A restored timed policy's timer is armed again. */
  armPolicyTimer(cell: RoutineCell): void;
}
import { dict } from '../../util/dict.js';
import { overridesSnapshot } from './overrides.js';
import { deepFreeze } from '../../util/deepFreeze.js';
import type { ChildJobs } from './subflowPorts.js';

export function takeSnapshot(job: SnapshotJob): JobSnapshot {
  const now = job.services.clock.now();
  const data = job.data.export();
  const final = job.finished ? job.data.snapshot.routines : undefined;
  const routines = dict<RoutineSnapshot>();
  for (const cell of job.cells.values()) routines[cell.id] = routineSnapshot(job, cell, final, now);
  const { params, initial, keepAlive, timeoutMs } = job.options;
  const outputs = dict<unknown[]>();
  for (const [key, payloads] of Object.entries(data.outputs)) outputs[key] = [...payloads];
  const children = job.children?.snapshots();
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    jobId: job.id,
    flowId: job.flowId,
    status: job.status,
    savedAt: now,
    keepAlive,
    completing: !job.finished && job.completing,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(job.deadlineAt !== undefined ? { deadlineAt: job.deadlineAt } : {}),
    admitted: job.admitted,
    ...(params !== undefined ? { params } : {}),
    ...(initial && !job.admitted ? { initial } : {}),
    startedAt: data.startedAt,
    ...(data.finishedAt !== undefined ? { finishedAt: data.finishedAt } : {}),
    outputs,
    shared: data.shared,
    log: [...data.log],
    history: data.history.map(historySnapshot),
    cycles: Object.fromEntries(Object.entries(data.cycles).map(([name, record]) => [name, { iterations: record.iterations, converged: record.converged }])),
    ...(job.error ? { error: serializeError(job.error) } : {}),
    routines,
    ...(job.options.overrides ? { overrides: overridesSnapshot(job.options.overrides) } : {}),
    ...(children ? { children } : {}),
  };
}

/** One routine's place in a snapshot: its queues, and the activation in flight (replayed on restore). */
function routineSnapshot(job: SnapshotJob, cell: RoutineCell, final: Readonly<Record<string, RoutineState>> | undefined, now: number): RoutineSnapshot {
  const live = cell.live;
  const queues = dict<unknown[]>();
  if (!live) {
    // A finished job holds no actors: its final state view keeps what was pending.
    const view = final?.[cell.id];
    for (const [slot, pending] of Object.entries(view?.pending ?? {})) queues[slot] = [...pending];
    return { machine: view?.status === 'skipped' ? 'skipped' : 'idle', state: cell.state, activations: cell.activations, errors: cell.errors, queues };
  }
  for (const [slot, queue] of Object.entries(live.queues)) if (queue.length) queues[slot] = [...queue];
  let machine = live.actor.getSnapshot().value;
  const inflight = live.inflight;
  // A policy that threw consumed nothing: restored idle, it is evaluated (and throws) again.
  const saved = inflight && !('failure' in inflight) && (machine === 'running' || machine === 'backoff') ? inflight : undefined;
  if (!saved && (machine === 'running' || machine === 'backoff')) machine = 'idle';
  const anchor = live.lastActivationAt;
  // The activation `run` is in (not one settled and on its way to a retry, whose next attempt starts afresh).
  const act = machine === 'running' && cell.current && !cell.current.settled && cell.current.inflight === saved ? cell.current : undefined;
  const delivered = act ? Math.max(act.emits, act.replay) : 0;
  return {
    machine,
    // The re-run starts again from the state `run` started with (its own `setState`s happen again).
    state: act ? act.stateAtStart : cell.state,
    // Counted by its re-run, not here (a cut while it waited for a permit had not counted it either).
    activations: act ? cell.activations - 1 : cell.activations,
    errors: cell.errors,
    queues,
    ...(saved ? { inflight: { consumed: copyQueues(saved.consumed), counts: { ...saved.counts }, message: { ...saved.message }, attempt: live.attempt, ...(delivered > 0 ? { delivered } : {}) } } : {}),
    // The retry timer clears `retryAt` when it fires: a retry already due (waiting for resume) is due now.
    ...(machine === 'backoff' ? { retryAt: cell.retryAt ?? now } : {}),
    ...(anchor !== undefined ? { lastActivationAt: anchor } : {}),
    ...(live.firstArrivalAt !== undefined ? { firstArrivalAt: live.firstArrivalAt } : {}),
  };
}

/**
 * Puts the job's data back and sends each routine actor its saved place. Called when the job is created, while its
 * scheduler queue is held (until admission): in-flight activations are scheduled again (they run once admitted),
 * backoffs re-armed with their due time, and policy timers (windows, intervals) re-armed from the restored arrival
 * and activation times.
 */
export function restoreRoutines(job: SnapshotJob, from: JobSnapshot): void {
  // The snapshot is the caller's (and JSON data, checked by parseSnapshot): the job takes a deep-frozen copy, so its
  // state, shared data and queued payloads are as immutable as a live job's, and the caller's object stays theirs.
  from = deepFreeze(structuredClone(from));
  job.data.restore(from, from.history.map(historyRecord));
  const paused = from.status === 'paused';
  for (const cell of job.cells.values()) {
    const saved = from.routines[cell.id];
    if (!saved) continue;
    cell.state = saved.state;
    cell.activations = saved.activations;
    cell.errors = saved.errors;
    cell.version++;
    // parseSnapshot made sure `running` and `backoff` come with their in-flight data.
    const target: RoutineRestoreTarget = saved.machine;
    if (target === 'backoff') cell.retryAt = saved.retryAt ?? from.savedAt;
    // A backoff's retry is a new attempt (it delivers all it emits, as without a restore); a running one is replayed.
    const delivered = target === 'running' ? (saved.inflight?.delivered ?? 0) : 0;
    cell.replay = delivered > 0 ? { delivered } : undefined;
    const inflight: Inflight | undefined = saved.inflight
      ? { consumed: copyQueues(saved.inflight.consumed), counts: { ...saved.inflight.counts }, message: { ...saved.inflight.message } }
      : undefined;
    cell.live?.actor.send({
      type: 'restore',
      target,
      queues: saved.queues,
      inflight,
      attempt: saved.inflight?.attempt ?? 0,
      paused,
      lastActivationAt: saved.lastActivationAt,
      firstArrivalAt: saved.firstArrivalAt,
    });
    // A routine restored idle asks its policy at its next event: a policy timer's tick, an arrival, `resume`.
    if (target === 'idle' && !paused) cell.live?.actor.send({ type: 'tick' });
    if (cell.inst.policy.dueAt) job.armPolicyTimer(cell);
  }
  job.data.touch();
}

function copyQueues(queues: Readonly<Record<string, readonly unknown[]>>): Record<string, unknown[]> {
  const out = dict<unknown[]>();
  for (const [slot, queue] of Object.entries(queues)) out[slot] = [...queue];
  return out;
}

function historySnapshot(record: HistoryRecord): HistorySnapshot {
  const { error, ...rest } = record;
  return { ...rest, consumed: Object.assign(dict<number>(), record.consumed), emitted: Object.assign(dict<number>(), record.emitted), ...(error ? { error: serializeError(error) } : {}) };
}

function historyRecord(record: HistorySnapshot): HistoryRecord {
  const { error, ...rest } = record;
  return { ...rest, ...(error ? { error: reviveError(error) } : {}) };
}

/** An error as plain data: a slotflow error's `toJSON()`, otherwise its name and message (and `code` if any). */
export function serializeError(error: Error): SerializedError {
  if (error instanceof SlotflowError) return JSON.parse(JSON.stringify(error.toJSON())) as SerializedError;
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** An `Error` with the saved name, message and fields (the original class is not recreated). */
function reviveError(saved: SerializedError): Error {
  const { name, message, ...fields } = saved;
  const error = new Error(message);
  Object.defineProperty(error, 'name', { value: name, enumerable: false, configurable: true, writable: true });
  return Object.assign(error, fields);
}
