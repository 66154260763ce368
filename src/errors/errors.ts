/**
 * The typed errors of slotflow, one class per failure.
 *
 * Misuse of the API (bad arguments, unknown ids) throws at once. A job's runtime failure is data: the job ends
 * `failed` with one of these in `job.error`, and a `job.failed` event carries it.
 */
import { describeValue, SlotflowError } from './SlotflowError.js';

/** One problem found by `flow.validate()`. */
export interface FlowProblem {
  /** Where: `routines.fetch`, `connections[2].to`, `entry`. */
  readonly path: string;
  readonly message: string;
}

/** A flow that cannot run: every problem is listed in `problems` and in the message. */
export class FlowValidationError extends SlotflowError {
  readonly code = 'FLOW_VALIDATION';
  constructor(
    readonly flowId: string,
    readonly problems: readonly FlowProblem[],
  ) {
    super(
      `Flow '${flowId}' is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'),
    );
  }
}

/** `exec`/`post` named a flow id that is not registered. */
export class FlowNotFoundError extends SlotflowError {
  readonly code = 'FLOW_NOT_FOUND';
  constructor(
    readonly flowId: string,
    readonly known: readonly string[],
  ) {
    super(
      `Flow '${flowId}' is not registered; expected one of ${known.length ? known.map((k) => `'${k}'`).join(', ') : '(none registered)'}. ` +
        `Call runtime.register(flow) or pass the flow itself to exec().`,
    );
  }
}

/** A post or connection named a routine or slot the flow does not have. */
export class UnknownSlotError extends SlotflowError {
  readonly code = 'UNKNOWN_SLOT';
  constructor(
    readonly flowId: string,
    readonly routineId: string,
    readonly slot: string,
    readonly known: readonly string[],
    what: 'routine' | 'slot' = 'slot',
  ) {
    super(
      what === 'routine'
        ? `Flow '${flowId}' has no routine '${routineId}'; expected one of ${list(known)}.`
        : `Routine '${routineId}' of flow '${flowId}' has no slot '${slot}'; expected one of ${list(known)}.`,
    );
  }
}

/** A routine emitted an event it does not declare. */
export class UnknownEventError extends SlotflowError {
  readonly code = 'UNKNOWN_EVENT';
  constructor(
    readonly flowId: string,
    readonly routineId: string,
    readonly event: string,
    readonly known: readonly string[],
  ) {
    super(`Routine '${routineId}' of flow '${flowId}' emitted undeclared event '${event}'; expected one of ${list(known)}.`);
  }
}

/** A payload that is not a plain object, misses declared fields, or fails its schema. */
export class PayloadError extends SlotflowError {
  readonly code = 'PAYLOAD';
  constructor(
    readonly flowId: string,
    readonly routineId: string,
    /** `'event output'` or `'slot input'`. */
    readonly target: string,
    readonly issues: readonly string[],
  ) {
    super(`Invalid payload for ${target} of routine '${routineId}' in flow '${flowId}': ${issues.join('; ')}.`);
  }
}

/** A delivery found the target slot's queue full; the emitting activation fails with this. */
export class SlotQueueFullError extends SlotflowError {
  readonly code = 'SLOT_QUEUE_FULL';
  constructor(
    readonly flowId: string,
    readonly routineId: string,
    readonly slot: string,
    readonly maxQueue: number,
  ) {
    super(
      `Slot '${slot}' of routine '${routineId}' in flow '${flowId}' is full (maxQueue ${maxQueue}); the payload was not delivered. ` +
        `Raise maxQueue or use a policy that consumes faster.`,
    );
  }
}

/** An activation ran past its `timeoutMs`. */
export class ActivationTimeoutError extends SlotflowError {
  readonly code = 'ACTIVATION_TIMEOUT';
  constructor(
    readonly flowId: string,
    readonly routineId: string,
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`Activation of routine '${routineId}' in job '${jobId}' of flow '${flowId}' timed out after ${timeoutMs} ms.`);
  }
}

/** A routine's activation failed and its error strategy stopped the job. `cause` holds what it threw. */
export class RoutineError extends SlotflowError {
  readonly code = 'ROUTINE';
  constructor(
    readonly flowId: string,
    readonly routineId: string,
    readonly jobId: string,
    cause: unknown,
  ) {
    super(`Routine '${routineId}' failed in job '${jobId}' of flow '${flowId}': ${causeMessage(cause)}`, { cause });
  }
}

/** `run` threw (or rejected with) something that is not an Error; the value is kept in `value`. */
export class NonErrorThrownError extends SlotflowError {
  readonly code = 'NON_ERROR_THROWN';
  constructor(
    readonly routineId: string,
    readonly value: unknown,
  ) {
    super(`Routine '${routineId}' threw a non-Error value: ${describeValue(value)}; expected an Error instance.`);
  }
}

/** The whole job ran past its `timeoutMs`. */
export class JobTimeoutError extends SlotflowError {
  readonly code = 'JOB_TIMEOUT';
  constructor(
    readonly jobId: string,
    readonly flowId: string,
    readonly timeoutMs: number,
  ) {
    super(`Job '${jobId}' of flow '${flowId}' timed out after ${timeoutMs} ms.`);
  }
}

/** `job.wait({ timeoutMs })` or `runtime.waitForAll({ timeoutMs })` gave up first. The job keeps running. */
export class WaitTimeoutError extends SlotflowError {
  readonly code = 'WAIT_TIMEOUT';
  constructor(
    /** The job waited for, or `undefined` for `waitForAll`. */
    readonly jobId: string | undefined,
    readonly timeoutMs: number,
  ) {
    super(
      jobId === undefined
        ? `Jobs did not all finish within ${timeoutMs} ms; they keep running.`
        : `Job '${jobId}' did not finish within ${timeoutMs} ms; it keeps running.`,
    );
  }
}

/** Data was posted to (or `complete()` called on) a job that has already finished. */
export class JobFinishedError extends SlotflowError {
  readonly code = 'JOB_FINISHED';
  constructor(
    readonly jobId: string,
    readonly status: string,
  ) {
    super(`Job '${jobId}' has finished with status '${status}'; it takes no more data.`);
  }
}

/** The reason handed to routines' `signal` (and in `job.error`) when a job is cancelled. */
export class JobCancelledError extends SlotflowError {
  readonly code = 'JOB_CANCELLED';
  constructor(
    readonly jobId: string,
    readonly reason?: unknown,
  ) {
    super(`Job '${jobId}' was cancelled${reason === undefined ? '' : `: ${causeMessage(reason)}`}.`);
  }
}

/** The runtime was shut down; it starts no more jobs. */
export class RuntimeClosedError extends SlotflowError {
  readonly code = 'RUNTIME_CLOSED';
  constructor(action: string) {
    super(`The runtime is shut down; cannot ${action}.`);
  }
}

/** An option or argument out of range: says what was expected and what came in (p-queue style). */
export class InvalidOptionError extends SlotflowError {
  readonly code = 'INVALID_OPTION';
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly value: unknown,
  ) {
    super(`Expected \`${option}\` to be ${expected}, got ${describeValue(value)}.`);
  }
}

/** A routine definition that cannot work (no name, a slot declared twice, ...). */
export class RoutineDefinitionError extends SlotflowError {
  readonly code = 'ROUTINE_DEFINITION';
  constructor(
    readonly routineName: string,
    readonly problems: readonly string[],
  ) {
    super(`Routine definition '${routineName}' is invalid: ${problems.join('; ')}.`);
  }
}

/** A cycle edge with `onExhausted: 'fail'` hit its `maxIterations` without converging. */
export class CycleExhaustedError extends SlotflowError {
  readonly code = 'CYCLE_EXHAUSTED';
  constructor(
    readonly flowId: string,
    readonly edge: string,
    readonly maxIterations: number,
  ) {
    super(`Cycle edge '${edge}' of flow '${flowId}' reached maxIterations ${maxIterations} without converging (onExhausted: 'fail').`);
  }
}

/** `emit`, `setState` or `setShared` was called after the activation had settled (returned, timed out, or was cancelled). */
export class ActivationEndedError extends SlotflowError {
  readonly code = 'ACTIVATION_ENDED';
  constructor(
    readonly routineId: string,
    readonly call: string,
  ) {
    super(`Routine '${routineId}' called ${call} after its activation ended; call it before run() returns or its promise settles.`);
  }
}

/** Why a snapshot cannot be restored. */
export type SnapshotProblem = 'malformed' | 'version' | 'flow' | 'finished' | 'duplicate';

/**
 * A job snapshot that cannot be restored: not a slotflow snapshot or missing fields (`malformed`), written by an
 * unknown format version (`version`), of a flow that is not registered or does not match (`flow`), of a job that
 * already finished (`finished`), or whose job id this runtime already has (`duplicate`).
 */
export class SnapshotError extends SlotflowError {
  readonly code = 'SNAPSHOT';
  constructor(
    readonly reason: SnapshotProblem,
    message: string,
    readonly jobId?: string,
    options?: { cause?: unknown },
  ) {
    super(jobId === undefined ? `Cannot restore snapshot: ${message}` : `Cannot restore snapshot of job '${jobId}': ${message}`, options);
  }
}

/**
 * A checkpoint store failed to save, load, list or delete (the cause holds the store's error), did not answer within
 * `storeTimeoutMs` (`reason: 'timeout'`), or was handed a value JSON cannot hold (`reason: 'unserializable'`, with
 * the value's `path` in the snapshot).
 */
export class CheckpointError extends SlotflowError {
  readonly code = 'CHECKPOINT';
  constructor(
    readonly operation: 'save' | 'load' | 'list' | 'delete' | 'open',
    readonly jobId: string | undefined,
    cause: unknown,
    readonly reason: 'failed' | 'timeout' | 'unserializable' = 'failed',
    /** Where in the snapshot the value JSON cannot hold is (`routines.a.state.fn`), for `reason: 'unserializable'`. */
    readonly path?: string,
  ) {
    super(
      reason === 'unserializable'
        ? `Job${jobId === undefined ? '' : ` '${jobId}'`} cannot be checkpointed: ${causeMessage(cause)}`
        : `Checkpoint store failed to ${operation}${jobId === undefined ? '' : ` job '${jobId}'`}: ${causeMessage(cause)}`,
      { cause },
    );
  }
}

/** One problem found in a manifest, with its path in the document (`routines.collect.policy.n`). */
export interface ManifestProblem {
  readonly path: string;
  readonly message: string;
}

/** A flow manifest that cannot be loaded: every problem is listed in `problems` and in the message. */
export class ManifestError extends SlotflowError {
  readonly code = 'MANIFEST';
  constructor(
    readonly problems: readonly ManifestProblem[],
    readonly source?: string,
  ) {
    super(
      `Manifest${source === undefined ? '' : ` '${source}'`} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path === '' ? '(root)' : p.path}: ${p.message}`).join('\n'),
    );
  }
}

function list(known: readonly string[]): string {
  return known.length ? known.map((k) => `'${k}'`).join(', ') : '(none)';
}

function causeMessage(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return describeValue(cause);
}

const guard =
  <T>(ctor: abstract new (...args: never[]) => T) =>
  (value: unknown): value is T =>
    value instanceof ctor;

export const isFlowValidationError = guard(FlowValidationError);
export const isFlowNotFoundError = guard(FlowNotFoundError);
export const isUnknownSlotError = guard(UnknownSlotError);
export const isUnknownEventError = guard(UnknownEventError);
export const isPayloadError = guard(PayloadError);
export const isSlotQueueFullError = guard(SlotQueueFullError);
export const isActivationTimeoutError = guard(ActivationTimeoutError);
export const isRoutineError = guard(RoutineError);
export const isNonErrorThrownError = guard(NonErrorThrownError);
export const isJobTimeoutError = guard(JobTimeoutError);
export const isWaitTimeoutError = guard(WaitTimeoutError);
export const isJobFinishedError = guard(JobFinishedError);
export const isJobCancelledError = guard(JobCancelledError);
export const isRuntimeClosedError = guard(RuntimeClosedError);
export const isInvalidOptionError = guard(InvalidOptionError);
export const isRoutineDefinitionError = guard(RoutineDefinitionError);
export const isCycleExhaustedError = guard(CycleExhaustedError);
export const isActivationEndedError = guard(ActivationEndedError);
export const isSnapshotError = guard(SnapshotError);
export const isCheckpointError = guard(CheckpointError);
export const isManifestError = guard(ManifestError);

/** Redis (or another server slotflow talks to) could not be reached within the time allowed. */
export class ConnectionError extends SlotflowError {
  readonly code = 'CONNECTION';
  constructor(
    /** Where slotflow tried to connect (`redis://127.0.0.1:6379`, never a password). */
    readonly target: string,
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    super(`Could not reach ${target} within ${timeoutMs} ms${cause === undefined ? '' : `: ${causeMessage(cause)}`}. Check that the server runs and the address is right.`, cause === undefined ? undefined : { cause });
  }
}
export const isConnectionError = guard(ConnectionError);
